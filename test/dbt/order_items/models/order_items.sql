select order_item_id, order_id, quantity, unit_price, quantity * unit_price as amount
from {{ source('raw_oi', 'order_items') }}
