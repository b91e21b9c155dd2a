select k.country_code, k.country_name, coalesce(sum(c.lifetime_euros), 0) as revenue_euros
from {{ ref('stg_countries') }} k
left join {{ ref('dim_customers') }} c on c.country_name = k.country_name
group by k.country_code, k.country_name
