{{ config(incremental_strategy='delete+insert', unique_key='customer_id') }}
select customer_id, name, region, tier, updated_at
from {{ ref('customers') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
