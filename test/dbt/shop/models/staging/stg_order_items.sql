select id as item_id, order_id, product_id, quantity
from {{ source('shop_raw', 'order_items') }}
