{{ config(incremental_strategy='append') }}
select event_id, customer_id, event_at, amount
from {{ ref('events') }}
{% if is_incremental() %}
where event_id > (select max(event_id) from {{ this }})
{% endif %}
