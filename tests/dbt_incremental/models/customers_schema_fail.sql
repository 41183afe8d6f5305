{#- on_schema_change 'fail': the second run's extra column stops the model, table untouched.
    The test runs it on its own in the second run (tests/test_dbt_incremental.py). -#}
{{ config(incremental_strategy='merge', unique_key='customer_id', on_schema_change='fail') }}
select customer_id, name{% if var('run') > 1 %}, tier{% endif %}
from {{ ref('customers') }}
