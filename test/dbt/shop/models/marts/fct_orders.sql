select order_id, customer_id, ordered_at, status, items, {{ to_euros('amount_cents') }} as amount_euros
from {{ ref('int_order_totals') }}
where status in ('{{ var("revenue_statuses") | join("', '") }}')
