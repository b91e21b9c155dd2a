select id as product_id, name as product_name, category, price_cents
from {{ source('shop_raw', 'products') }}
