-- test/dbt/tsql_case's sources: SQL Server's names and case, as tds_fdw's
-- IMPORT FOREIGN SCHEMA brings them (plain tables here); a bit is boolean.
CREATE SCHEMA "Sales";
CREATE SCHEMA "Person";
CREATE TABLE "Sales"."Customer" ("CustomerID" int, "PersonID" int, "StoreID" int, "AccountNumber" text,
								 "ModifiedDate" timestamptz);
CREATE TABLE "Sales"."SalesOrderHeader" ("SalesOrderID" int, "CustomerID" int, "OnlineOrderFlag" boolean,
										 "TotalDue" numeric(12, 2), "Status" smallint);
CREATE TABLE "Person"."Person" ("BusinessEntityID" int, "PersonId" int, "FirstName" text);
INSERT INTO "Sales"."Customer" VALUES
	(1, 101, NULL, 'AW01', now() - interval '1 hour'),
	(2, 102, 7, 'AW02', now() - interval '2 hours'),
	(3, NULL, 8, 'AW03', now() - interval '3 hours');
INSERT INTO "Sales"."SalesOrderHeader" VALUES
	(5001, 1, true, 100.00, 5), (5002, 1, false, 40.00, 5), (5003, 2, true, 25.50, 5),
	(5004, 2, true, 10.00, 6), (5005, 3, false, 70.00, 5);
INSERT INTO "Person"."Person" VALUES (101, 101, 'Ann'), (102, 102, 'Bob');
