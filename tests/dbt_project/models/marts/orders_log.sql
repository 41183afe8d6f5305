{{ config(materialized='incremental', incremental_strategy='append', meta={'owner': 'ops'}) }}
select order_id, customer_id, amount, '{{ invocation_id }}' as run_id
from {{ ref('stg_orders') }}
