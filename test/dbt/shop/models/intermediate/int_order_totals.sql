select o.order_id, o.customer_id, o.status, o.ordered_at,
       sum(i.quantity * p.price_cents) as amount_cents,
       count(*) as items
from {{ ref('stg_orders') }} o
join {{ ref('stg_order_items') }} i on i.order_id = o.order_id
join {{ ref('stg_products') }} p on p.product_id = i.product_id
group by o.order_id, o.customer_id, o.status, o.ordered_at
