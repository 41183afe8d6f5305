{{ config(meta={'classification': 'confidential', 'owner': 'finance', 'domain': 'sales', 'internal_note': 'not copied'}) }}
select c.customer_id, c.name, c.region, count(*) as orders, sum(o.amount) as revenue
from {{ ref('stg_customers') }} c
join {{ ref('stg_orders') }} o using (customer_id)
group by all
