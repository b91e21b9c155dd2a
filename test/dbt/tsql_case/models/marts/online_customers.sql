SELECT TOP 10 customer_id, PersonID AS person_id
FROM {{ ref('customer_orders') }}
WHERE any_online = 1
ORDER BY customer_id
