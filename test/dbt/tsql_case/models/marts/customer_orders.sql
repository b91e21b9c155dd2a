-- a bit compared with 1 and 0, summed as an int, defaulted to 0
SELECT c.customer_id, c.personid,
       COUNT(*) AS orders,
       SUM(CAST(o.online_order_flag AS int)) AS online_orders,
       SUM(CASE WHEN o.online_order_flag = 1 THEN o.total_due ELSE 0 END) AS online_due,
       SUM(CASE WHEN o.online_order_flag = 0 THEN 1 ELSE 0 END) AS offline_orders,
       MAX(CAST(ISNULL(o.online_order_flag, 0) AS tinyint)) AS any_online
FROM {{ ref('stg_customers') }} c
JOIN {{ ref('stg_orders') }} o ON o.customer_id = c.customer_id
GROUP BY c.customer_id, c.personid
