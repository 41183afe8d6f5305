{#- A matched row takes only the new name and updated_at; region and tier keep their first values. -#}
{{ config(incremental_strategy='merge', unique_key='customer_id', merge_update_columns=['name', 'updated_at']) }}
select customer_id, name, region, tier, updated_at
from {{ ref('customers') }}
