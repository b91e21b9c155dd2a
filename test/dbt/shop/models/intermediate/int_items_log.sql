{# incremental without an is_incremental() block: imported as a table #}
{{ config(materialized='incremental') }}
select i.item_id, i.order_id, {{ cents('i.quantity * p.price_cents') }} as amount_cents
from {{ ref('stg_order_items') }} i
join {{ ref('shop', 'stg_products') }} p using (product_id)
