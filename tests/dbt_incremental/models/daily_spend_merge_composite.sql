{{ config(incremental_strategy='merge', unique_key=['customer_id', 'event_day']) }}
select customer_id, cast(event_at as date) as event_day, count(*) as events, sum(amount) as spend
from {{ ref('events') }}
group by all
