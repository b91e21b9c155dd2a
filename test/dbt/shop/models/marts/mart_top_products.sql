{{ config(materialized='table', tags=['top']) }}
select product_name, {{ to_euros('revenue_cents') }} as revenue_euros, rank
from (
    select p.product_name, s.revenue_cents,
           rank() over (order by s.revenue_cents desc) as rank
    from {{ ref('int_product_sales') }} s
    join {{ ref('stg_products') }} p using (product_id)
) ranked
where rank <= {{ var('top_n') }}
