{{ config(incremental_strategy='merge', unique_key='customer_id') }}
select customer_id, name, region, tier, updated_at
from {{ ref('customers') }}
