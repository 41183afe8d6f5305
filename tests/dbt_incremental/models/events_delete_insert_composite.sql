{#- Several events share a (customer_id, event_day) key, so dbt's DELETE ... USING joins a target
    row to several source rows: each must be deleted once. -#}
{{ config(incremental_strategy='delete+insert', unique_key=['customer_id', 'event_day']) }}
select event_id, customer_id, cast(event_at as date) as event_day, amount
from {{ ref('events') }}
{% if is_incremental() %}
where cast(event_at as date) >= (select max(event_day) - 1 from {{ this }})
{% endif %}
