SELECT [CustomerID] AS customer_id, [Name] AS name, ISNULL([Region], 'unknown') AS region
FROM {{ source('sales', 'Customers') }}
