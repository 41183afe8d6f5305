select customer_id, name, upper(region) as region
from {{ ref('raw_customers') }}
