-- examples/adventureworks/new_orders.sql: a day of new orders in the
-- source (315 orders of 4 lines on 2014-07-01, after what generate.sql
-- makes at sf = 1): run the pipeline again to see an incremental run.
INSERT INTO "Sales"."SalesOrderHeader" ("SalesOrderID", "OrderDate", "DueDate", "ShipDate", "OnlineOrderFlag",
	"SalesOrderNumber", "CustomerID", "TerritoryID", "ModifiedDate")
SELECT 43658 + 31465 + k, '2014-07-01', '2014-07-13', '2014-07-08', true, 'SO' || (43658 + 31465 + k),
       11000 + k, 1, '2014-07-08'
  FROM generate_series(1, 315) k;
INSERT INTO "Sales"."SalesOrderDetail"
SELECT 43658 + 31465 + k, 121317 + (k - 1) * 4 + j, NULL, 1, j, 1, 10, 0, 10, '2014-07-08'
  FROM generate_series(1, 315) k, generate_series(1, 4) j;
