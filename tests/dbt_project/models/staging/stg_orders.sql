{{ config(meta={'owner': 'staging-team', 'classification': 'internal'}) }}
select order_id, customer_id, cast(amount as decimal(10, 2)) as amount, cast(ordered_on as date) as ordered_on
from {{ ref('raw_orders') }}
