{#- first_run keeps the run that inserted the row; every other column follows the source. -#}
{{ config(incremental_strategy='merge', unique_key='customer_id', merge_exclude_columns=['first_run']) }}
select customer_id, name, region, tier, {{ var('run') }} as first_run, {{ var('run') }} as last_run
from {{ ref('customers') }}
