-- The TDS test server's data: a small AdventureWorks-shaped database in
-- SQL Server's schemas, names and types (SQLite script; each schema is a
-- database file).  Deterministic: every value follows from the row number.

CREATE TABLE Person.Person (
	BusinessEntityID int NOT NULL PRIMARY KEY,
	PersonType nchar(2) NOT NULL,
	FirstName nvarchar(50) NOT NULL,
	LastName nvarchar(50) NOT NULL,
	EmailPromotion int NOT NULL,
	rowguid uniqueidentifier NOT NULL,
	ModifiedDate datetime NOT NULL);

CREATE TABLE Sales.Customer (
	CustomerID int NOT NULL PRIMARY KEY,
	PersonID int NULL,
	StoreID int NULL,
	TerritoryID int NULL,
	AccountNumber varchar(10) NOT NULL,
	ModifiedDate datetime NOT NULL);

CREATE TABLE Production.Product (
	ProductID int NOT NULL PRIMARY KEY,
	Name nvarchar(50) NOT NULL,
	ProductNumber nvarchar(25) NOT NULL,
	Color nvarchar(15) NULL,
	StandardCost money NOT NULL,
	ListPrice money NOT NULL,
	Weight decimal(8,2) NULL,
	ProductSubcategoryID int NULL,
	SellStartDate datetime NOT NULL,
	ModifiedDate datetime NOT NULL);

CREATE TABLE Sales.SalesOrderHeader (
	SalesOrderID int NOT NULL PRIMARY KEY,
	OrderDate datetime NOT NULL,
	DueDate date NOT NULL,
	ShipDate datetime2(7) NULL,
	OnlineOrderFlag bit NOT NULL,
	CustomerID int NOT NULL,
	SubTotal money NOT NULL,
	TaxAmt money NOT NULL,
	Freight smallmoney NOT NULL,
	rowguid uniqueidentifier NOT NULL,
	ModifiedDate datetime NOT NULL);

CREATE TABLE Sales.SalesOrderDetail (
	SalesOrderID int NOT NULL,
	SalesOrderDetailID int NOT NULL PRIMARY KEY,
	OrderQty smallint NOT NULL,
	ProductID int NOT NULL,
	UnitPrice money NOT NULL,
	UnitPriceDiscount money NOT NULL,
	LineTotal numeric(38,6) NOT NULL,
	ModifiedDate datetime NOT NULL);

-- one column of every type the bronze layer maps (SQLite keeps decimals as
-- doubles: values here have at most 15 significant digits)
CREATE TABLE dbo.TypeSamples (
	id int NOT NULL PRIMARY KEY,
	c_bigint bigint, c_smallint smallint, c_tinyint tinyint, c_bit bit,
	c_decimal decimal(10,4), c_numeric numeric(38,6), c_money money, c_smallmoney smallmoney,
	c_float float, c_real real, c_datetime datetime,
	c_date date, c_time time(7), c_datetime2 datetime2(7),
	c_nvarchar nvarchar(50), c_varchar varchar(50), c_nchar nchar(5),
	c_guid uniqueidentifier, c_varbinary varbinary(16));

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
INSERT INTO Person.Person
SELECT i, 'IN', 'First' || i, CASE WHEN i % 10 = 0 THEN 'Müller' ELSE 'Last' || i END, i % 3,
	   printf('%08X-0000-4000-8000-%012X', i, i), '2013-01-01 00:00:00'
  FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 130)
INSERT INTO Sales.Customer
SELECT 10000 + i, CASE WHEN i <= 120 THEN i END, CASE WHEN i > 120 THEN 900 + i END, 1 + i % 10,
	   printf('AW%08d', 10000 + i), '2013-01-01 00:00:00'
  FROM n;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO Production.Product
SELECT 700 + i, 'Product ' || i, printf('PR-%04d', i), CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN 'Black' WHEN 2 THEN 'Red' ELSE 'Silver' END,
	   printf('%.4f', 10 + i * 1.2345), printf('%.4f', 20 + i * 2.5), CASE WHEN i % 5 = 0 THEN NULL ELSE printf('%.2f', i * 0.75) END,
	   CASE WHEN i % 8 = 0 THEN NULL ELSE 1 + i % 6 END, '2011-05-31 00:00:00', '2012-01-01 00:00:00'
  FROM n;

-- 200 orders from 2011-05-31, one every 5 days; ModifiedDate a day after the order
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO Sales.SalesOrderHeader
SELECT 43658 + i, datetime('2011-05-31', '+' || (5 * (i - 1)) || ' days'),
	   date('2011-05-31', '+' || (5 * (i - 1) + 12) || ' days'),
	   CASE WHEN i % 17 = 0 THEN NULL ELSE datetime('2011-05-31', '+' || (5 * (i - 1) + 7) || ' days', '+' || i || ' seconds') || '.1234567' END,
	   i % 2, 10000 + 1 + i % 125, '0', printf('%.4f', i * 0.08), printf('%.4f', i * 0.025),
	   printf('%08X-1111-4000-8000-%012X', i, i), datetime('2011-05-31', '+' || (5 * (i - 1) + 1) || ' days')
  FROM n;

-- 1 to 4 lines per order
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200),
l(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM l WHERE j < 4)
INSERT INTO Sales.SalesOrderDetail
SELECT 43658 + i, i * 10 + j, 1 + (i + j) % 3, 700 + 1 + (i * 7 + j) % 40,
	   printf('%.4f', 20 + ((i * 7 + j) % 40 + 1) * 2.5), CASE WHEN j = 2 THEN '0.1' ELSE '0' END,
	   printf('%.6f', (1 + (i + j) % 3) * (20 + ((i * 7 + j) % 40 + 1) * 2.5) * (CASE WHEN j = 2 THEN 0.9 ELSE 1 END)),
	   datetime('2011-05-31', '+' || (5 * (i - 1) + 1) || ' days')
  FROM n, l WHERE j <= 1 + i % 4;

UPDATE Sales.SalesOrderHeader AS h
   SET SubTotal = (SELECT printf('%.4f', sum(LineTotal)) FROM Sales.SalesOrderDetail d WHERE d.SalesOrderID = h.SalesOrderID);

INSERT INTO dbo.TypeSamples VALUES
	(1, 9223372036854775807, 32767, 255, 1, '123456.7891', '123456789.123456', '92233720368.5477', '214748.3647',
	 1.5e300, 3.25, '2011-06-07 13:14:15.123', '2011-06-07', '13:14:15.1234567', '2011-06-07 13:14:15.1234567',
	 'Grüße, 東京 ✓', 'café', 'ab', '6F9619FF-8B86-D011-B42D-00C04FC964FF', x'DEADBEEF00'),
	(2, -9223372036854775807, -32768, 0, 0, '-0.0001', '-1.000001', '-0.0001', '-214748.3648',
	 -2.5, -0.125, '1900-01-01 00:00:00', '0001-01-01', '00:00:00', '9999-12-31 23:59:59.999999',
	 '', '', '', '00000000-0000-0000-0000-000000000000', x''),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
