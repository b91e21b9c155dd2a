-- CROSS APPLY: a lateral join; names of the source in any case
SELECT c.customerid AS customer_id, z.totaldue AS biggest_due
FROM {{ source('sales', 'customer') }} c
CROSS APPLY (SELECT TOP 1 o.TotalDue FROM {{ source('sales', 'salesorderheader') }} o
             WHERE o.customerid = c.CustomerID ORDER BY o.totaldue DESC) z
