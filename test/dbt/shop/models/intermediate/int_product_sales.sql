{%- set revenue_statuses = var('revenue_statuses') -%}
select i.product_id, sum(i.quantity) as units_sold, sum(i.quantity * p.price_cents) as revenue_cents
from {{ ref('stg_order_items') }} i
join {{ ref('stg_orders') }} o using (order_id)
join {{ ref('stg_products') }} p using (product_id)
where o.status in ({% for s in revenue_statuses %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
group by i.product_id
