{% set statuses = var('order_statuses') %}
select customer_id,
{{ status_counts(statuses) }}
from {{ ref('stg_orders') }}
group by customer_id
