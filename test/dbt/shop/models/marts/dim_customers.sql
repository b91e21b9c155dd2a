select c.customer_id, c.customer_name, k.country_name,
       coalesce(o.orders, 0) as orders,
       {{ to_euros('coalesce(o.amount_cents, 0)') }} as lifetime_euros
from {{ ref('stg_customers') }} c
left join {{ ref('stg_countries') }} k using (country_code)
left join {{ ref('int_customer_orders') }} o using (customer_id)
