select p.product_id, p.product_name, p.category, coalesce(s.units_sold, 0) as units_sold
from {{ ref('stg_products') }} p
left join {{ ref('int_product_sales') }} s using (product_id)
