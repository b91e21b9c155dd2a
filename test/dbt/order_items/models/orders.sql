-- an order: its lines with a quantity
select order_id, count(*) as lines, sum(amount) as amount
from {{ ref('order_items') }}
where quantity > 0
group by order_id
