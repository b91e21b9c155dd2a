select r.region, s.total
from {{ ref('store_sales') }} s
join {{ source('ref_data', 'store_regions') }} r on r.storeid = s.storeid
where s.storeid in (select storeid from {{ ref('store_regions') }})
