select ordered_at as day, count(*) as orders, sum(amount_euros) as revenue_euros
from {{ ref('fct_orders') }}
group by ordered_at
