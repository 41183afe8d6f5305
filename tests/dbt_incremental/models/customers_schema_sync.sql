{#- The second run's model drops region, adds tier and widens visits from integer to bigint
    (dbt's type change: add visits__dbt_alter, update, drop visits cascade, rename). -#}
{{ config(incremental_strategy='delete+insert', unique_key='customer_id', on_schema_change='sync_all_columns') }}
select
    customer_id,
    name,
{%- if var('run') > 1 %}
    tier,
    cast(customer_id * 10 as bigint) as visits,
{%- else %}
    region,
    cast(customer_id as integer) as visits,
{%- endif %}
    updated_at
from {{ ref('customers') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
