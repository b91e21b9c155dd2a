select storeid, name, total, rank() over (order by total desc) as rnk
from {{ ref('store_sales') }}
