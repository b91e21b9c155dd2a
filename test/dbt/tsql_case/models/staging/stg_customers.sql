-- personid is "PersonID", the only match; [AccountNumber] is "AccountNumber"
SELECT customerid AS customer_id, personid, StoreID AS store_id, [AccountNumber] AS account_number
FROM {{ source('sales', 'customer') }} WITH (NOLOCK)
