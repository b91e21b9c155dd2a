select id as order_id, customer_id, status, ordered_at, loaded_at
from {{ source('shop_raw', 'orders') }}
