{#- The second run's model has two more columns: added to the table; customer 4, gone from the
    source, keeps NULL in them. -#}
{{ config(incremental_strategy='merge', unique_key='customer_id', on_schema_change='append_new_columns') }}
select customer_id, name{% if var('run') > 1 %}, region, tier{% endif %}
from {{ ref('customers') }}
