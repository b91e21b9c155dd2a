-- PIVOT has no PostgreSQL translation: reported as skipped
SELECT * FROM (SELECT c.region, o.amount FROM {{ ref('stg_orders') }} o
               JOIN {{ ref('stg_customers') }} c ON c.customer_id = o.customer_id) s
PIVOT (SUM(amount) FOR region IN ([north], [south])) p
