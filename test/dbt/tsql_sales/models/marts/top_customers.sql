SELECT TOP 2 c.name, SUM(o.amount) AS total
FROM {{ ref('stg_orders') }} o
JOIN {{ ref('stg_customers') }} c ON c.customer_id = o.customer_id
GROUP BY c.name
ORDER BY total DESC
