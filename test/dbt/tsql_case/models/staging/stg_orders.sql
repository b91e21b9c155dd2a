SELECT SalesOrderID AS order_id, customerid AS customer_id, onlineorderflag AS online_order_flag,
       TotalDue AS total_due, [Status] AS status
FROM {{ source('sales', 'salesorderheader') }}
WHERE [status] = 5
