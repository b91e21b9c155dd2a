-- The SQL Server tables as they arrive in PostgreSQL (names keep their case).
CREATE SCHEMA sales_raw;
CREATE TABLE sales_raw."Customers" ("CustomerID" int PRIMARY KEY, "Name" text, "Region" text);
CREATE TABLE sales_raw."Orders" ("OrderID" int PRIMARY KEY, "CustomerID" int, "Amount" numeric(12, 4),
								 "OrderDate" timestamp, "Discount" numeric(12, 4));
INSERT INTO sales_raw."Customers" VALUES (1, 'Acme', 'north'), (2, 'Bolt', 'south'), (3, 'Crux', NULL);
INSERT INTO sales_raw."Orders" VALUES
	(10, 1, 100.125, '2026-01-01 10:00', NULL), (11, 1, 50, '2026-01-02 11:00', 5),
	(12, 2, 80, '2026-01-02 12:00', 10), (13, 3, 20.5, '2026-01-03 09:00', NULL);
