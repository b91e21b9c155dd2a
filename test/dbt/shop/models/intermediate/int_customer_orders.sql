select t.customer_id, count(*) as orders, sum(t.amount_cents) as amount_cents
from {{ ref('int_order_totals') }} t
where t.status in ('{{ var("revenue_statuses") | join("', '") }}')
group by t.customer_id
