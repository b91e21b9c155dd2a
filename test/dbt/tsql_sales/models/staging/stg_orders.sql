SELECT [OrderID] AS order_id, [CustomerID] AS customer_id,
       CONVERT(DECIMAL(10, 2), [Amount]) AS amount,
       CAST([OrderDate] AS DATE) AS order_date,
       ISNULL([Discount], 0) AS discount
FROM {{ source('sales', 'Orders') }}
