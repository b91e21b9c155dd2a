SELECT c.region, SUM(o.amount - o.discount) AS net, COUNT(*) AS orders, GETDATE() AS computed_at
FROM {{ ref('stg_orders') }} o
JOIN {{ ref('stg_customers') }} c ON c.customer_id = o.customer_id
GROUP BY c.region
