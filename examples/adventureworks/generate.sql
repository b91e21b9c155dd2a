--
-- examples/adventureworks/generate.sql: the AdventureWorks sales source, in
-- SQL Server's schemas, table and column names, generated deterministically.
--
--   psql -v sf=1 -v seed=42 -f examples/adventureworks/generate.sql
--
-- At sf = 1 the sizes are those of AdventureWorks2014: 31,465 orders,
-- 121,317 order lines, 19,820 customers (19,119 with orders; 701 stores
-- with no person and no order), 19,972 persons, 504 products (295 in 37
-- subcategories of 4 categories, of which 266 were ever sold; 209 without
-- subcategory), orders from 2011-05-31 to 2014-06-30 except 5 days.
-- Orders, lines, customers and persons scale linearly with sf (the product
-- catalog and the dates stay).  seed changes names and prices, never a
-- count.  Every value is a function of the row number (and the seed):
--
--   order k (1..O) is dated on valid day floor((k-1) * D / O), so order
--     numbers grow with dates and each of the D valid days has orders
--     when O >= D;
--   order k belongs to person customer ((k-1) * P mod C) + 1, P prime and
--     coprime to C, so each of the C customers has at least one order;
--   order k has 1 + floor(E (r/O)^3) - floor(E ((r-1)/O)^3) lines, r the
--     order's place in a permutation of 1..O and E = L - O: L lines in all,
--     a third of the orders with one line, a few with up to ten;
--   line m sells product ((m-1) * 97 mod 266) + 1: all 266 sold products.
--
\if :{?sf}
\else
\set sf 1
\endif
\if :{?seed}
\else
\set seed 42
\endif
SET client_min_messages = warning;

DROP SCHEMA IF EXISTS "Sales", "Person", "Production" CASCADE;
CREATE SCHEMA "Sales";
CREATE SCHEMA "Person";
CREATE SCHEMA "Production";

CREATE TEMP TABLE aw_params AS
SELECT s.sf, s.seed, s.persons, s.customers, s.stores, s.orders, s.lines, s.days,
	   (SELECT p FROM unnest(ARRAY[7919, 7927, 7933, 7937, 7949]) p WHERE s.customers % p <> 0 LIMIT 1) AS cust_step,
	   (SELECT p FROM unnest(ARRAY[1009, 1013, 1019, 1021, 1031]) p WHERE s.orders % p <> 0 LIMIT 1) AS order_step
  FROM (SELECT (:'sf')::numeric AS sf, (:'seed')::bigint AS seed,
			   round(19972 * (:'sf')::numeric)::int AS persons,
			   round(19119 * (:'sf')::numeric)::int AS customers,
			   round(701 * (:'sf')::numeric)::int AS stores,
			   round(31465 * (:'sf')::numeric)::int AS orders,
			   round(121317 * (:'sf')::numeric)::int AS lines,
			   1127 - 5 AS days) s;

-- the valid order days: 2011-05-31 .. 2014-06-30 but for 5 days without orders
CREATE TEMP TABLE aw_days AS
SELECT row_number() OVER (ORDER BY d) - 1 AS i, d::date AS day
  FROM generate_series(date '2011-05-31', date '2014-06-30', interval '1 day') d
 WHERE d::date NOT IN ('2011-07-04', '2011-12-25', '2012-12-25', '2013-12-25', '2014-01-01');

-- a deterministic number in [0, n) from a row number and the seed
CREATE FUNCTION pg_temp.h(k bigint, salt int, n int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
	SELECT ((hashint8extended(k * 31 + salt, (SELECT seed FROM aw_params)) % n + n) % n)::int
$$;

CREATE TABLE "Production"."ProductCategory" (
	"ProductCategoryID" int PRIMARY KEY,
	"Name" varchar(50) NOT NULL,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Production"."ProductCategory"
VALUES (1, 'Bikes', '2008-04-30'), (2, 'Components', '2008-04-30'),
	   (3, 'Clothing', '2008-04-30'), (4, 'Accessories', '2008-04-30');

-- 37 subcategories: 3 bikes, 14 components, 8 clothing, 12 accessories
CREATE TABLE "Production"."ProductSubcategory" (
	"ProductSubcategoryID" int PRIMARY KEY,
	"ProductCategoryID" int NOT NULL REFERENCES "Production"."ProductCategory",
	"Name" varchar(50) NOT NULL,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Production"."ProductSubcategory"
SELECT s, CASE WHEN s <= 3 THEN 1 WHEN s <= 17 THEN 2 WHEN s <= 25 THEN 3 ELSE 4 END,
	   (ARRAY['Mountain Bikes', 'Road Bikes', 'Touring Bikes', 'Handlebars', 'Bottom Brackets', 'Brakes',
			  'Chains', 'Cranksets', 'Derailleurs', 'Forks', 'Headsets', 'Mountain Frames', 'Pedals',
			  'Road Frames', 'Saddles', 'Touring Frames', 'Wheels', 'Bib-Shorts', 'Caps', 'Gloves',
			  'Jerseys', 'Shorts', 'Socks', 'Tights', 'Vests', 'Bike Racks', 'Bike Stands',
			  'Bottles and Cages', 'Cleaners', 'Fenders', 'Helmets', 'Hydration Packs', 'Lights',
			  'Locks', 'Panniers', 'Pumps', 'Tires and Tubes'])[s],
	   '2008-04-30'
  FROM generate_series(1, 37) s;

-- 504 products: 1..295 in a subcategory (1..266 sold), 296..504 without one
CREATE TABLE "Production"."Product" (
	"ProductID" int PRIMARY KEY,
	"Name" varchar(50) NOT NULL,
	"ProductNumber" varchar(25) NOT NULL,
	"Color" varchar(15),
	"StandardCost" numeric(19,4) NOT NULL,
	"ListPrice" numeric(19,4) NOT NULL,
	"Size" varchar(5),
	"Weight" numeric(8,2),
	"ProductSubcategoryID" int REFERENCES "Production"."ProductSubcategory",
	"SellStartDate" timestamp NOT NULL,
	"SellEndDate" timestamp,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Production"."Product"
SELECT i, 'Product ' || i || ' ' || (ARRAY['Sport', 'Pro', 'Classic', 'Touring', 'Race', 'Urban'])[1 + pg_temp.h(i, 1, 6)],
	   'PR-' || lpad(i::text, 4, '0'),
	   (ARRAY['Black', 'Red', 'Silver', 'Blue', 'Yellow', NULL])[1 + pg_temp.h(i, 2, 6)],
	   round(price * 0.55, 4), price,
	   CASE WHEN pg_temp.h(i, 3, 3) = 0 THEN (ARRAY['S', 'M', 'L', 'XL'])[1 + pg_temp.h(i, 4, 4)] END,
	   CASE WHEN pg_temp.h(i, 5, 4) > 0 THEN round(0.5 + pg_temp.h(i, 6, 2000) / 100.0, 2) END,
	   CASE WHEN i <= 295 THEN 1 + (i - 1) % 37 END,
	   '2011-05-31', NULL, '2014-02-08'
  FROM generate_series(1, 504) i,
	   LATERAL (SELECT round(2 + pg_temp.h(i, 7, 80000) / 100.0, 4)::numeric(19,4) AS price) p;

-- persons: the first C are the customers, the rest store contacts and employees
CREATE TABLE "Person"."Person" (
	"BusinessEntityID" int PRIMARY KEY,
	"PersonType" char(2) NOT NULL,
	"NameStyle" boolean NOT NULL DEFAULT false,
	"Title" varchar(8),
	"FirstName" varchar(50) NOT NULL,
	"MiddleName" varchar(50),
	"LastName" varchar(50) NOT NULL,
	"EmailPromotion" int NOT NULL,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Person"."Person"
SELECT i, CASE WHEN i <= (SELECT customers FROM aw_params) THEN 'IN' WHEN i % 3 = 0 THEN 'EM' ELSE 'SC' END,
	   false, CASE WHEN pg_temp.h(i, 11, 10) = 0 THEN 'Mr.' END,
	   (ARRAY['Jon', 'Eugene', 'Ruben', 'Christy', 'Elizabeth', 'Julio', 'Janet', 'Marco', 'Rob', 'Shannon',
			  'Jacquelyn', 'Curtis', 'Lauren', 'Ian', 'Sydney', 'Chloe', 'Wyatt', 'Shannon', 'Clarence', 'Luke'])[1 + pg_temp.h(i, 12, 20)],
	   CASE WHEN pg_temp.h(i, 13, 2) = 0 THEN chr(65 + pg_temp.h(i, 14, 26)) || '.' END,
	   (ARRAY['Yang', 'Huang', 'Torres', 'Zhu', 'Johnson', 'Ruiz', 'Alvarez', 'Mehta', 'Verhoff', 'Carlson',
			  'Suarez', 'Lu', 'Walker', 'Jenkins', 'Bennett', 'Young', 'Hill', 'Moreno', 'Nath', 'Dominguez',
			  'Müller', 'Sánchez', 'Nguyen', 'Kim', 'Singh', 'Fischer', 'Rossi', 'Dubois', 'Kowalski', 'Smith'])[1 + pg_temp.h(i, 15, 30)],
	   pg_temp.h(i, 16, 3), '2013-01-01'
  FROM generate_series(1, (SELECT persons FROM aw_params)) i;

-- customers: 11000 + c for person c (1..C), 1..S for stores without a person
CREATE TABLE "Sales"."Customer" (
	"CustomerID" int PRIMARY KEY,
	"PersonID" int REFERENCES "Person"."Person",
	"StoreID" int,
	"TerritoryID" int NOT NULL,
	"AccountNumber" varchar(10) NOT NULL,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Sales"."Customer"
SELECT 11000 + c, c, NULL, 1 + pg_temp.h(c, 21, 10), 'AW' || lpad((11000 + c)::text, 8, '0'), timestamp '2014-09-12'
  FROM generate_series(1, (SELECT customers FROM aw_params)) c
UNION ALL
SELECT s, NULL, 900 + s, 1 + pg_temp.h(s, 22, 10), 'AW' || lpad(s::text, 8, '0'), timestamp '2014-09-12'
  FROM generate_series(1, (SELECT stores FROM aw_params)) s;

CREATE TABLE "Sales"."SalesOrderHeader" (
	"SalesOrderID" int PRIMARY KEY,
	"RevisionNumber" smallint NOT NULL DEFAULT 8,
	"OrderDate" timestamp NOT NULL,
	"DueDate" timestamp NOT NULL,
	"ShipDate" timestamp,
	"Status" smallint NOT NULL DEFAULT 5,
	"OnlineOrderFlag" boolean NOT NULL,
	"SalesOrderNumber" varchar(25) NOT NULL,
	"CustomerID" int NOT NULL REFERENCES "Sales"."Customer",
	"TerritoryID" int,
	"SubTotal" numeric(19,4) NOT NULL DEFAULT 0,
	"TaxAmt" numeric(19,4) NOT NULL DEFAULT 0,
	"Freight" numeric(19,4) NOT NULL DEFAULT 0,
	"TotalDue" numeric(19,4) NOT NULL DEFAULT 0,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Sales"."SalesOrderHeader" ("SalesOrderID", "OrderDate", "DueDate", "ShipDate", "OnlineOrderFlag",
	"SalesOrderNumber", "CustomerID", "TerritoryID", "ModifiedDate")
SELECT 43658 + k, d.day, d.day + 12, d.day + 7, k % 8 <> 0, 'SO' || (43658 + k),
	   11000 + ((k - 1)::bigint * p.cust_step % p.customers) + 1,
	   1 + pg_temp.h(((k - 1)::bigint * p.cust_step % p.customers) + 1, 21, 10),
	   d.day + 7
  FROM aw_params p CROSS JOIN LATERAL generate_series(1, p.orders) k
  JOIN aw_days d ON d.i = ((k - 1)::bigint * p.days / p.orders);

-- order lines: the count per order from a permutation of the orders
CREATE TABLE "Sales"."SalesOrderDetail" (
	"SalesOrderID" int NOT NULL REFERENCES "Sales"."SalesOrderHeader",
	"SalesOrderDetailID" int PRIMARY KEY,
	"CarrierTrackingNumber" varchar(25),
	"OrderQty" smallint NOT NULL,
	"ProductID" int NOT NULL REFERENCES "Production"."Product",
	"SpecialOfferID" int NOT NULL,
	"UnitPrice" numeric(19,4) NOT NULL,
	"UnitPriceDiscount" numeric(19,4) NOT NULL DEFAULT 0,
	"LineTotal" numeric(38,6) NOT NULL,
	"ModifiedDate" timestamp NOT NULL);
INSERT INTO "Sales"."SalesOrderDetail"
SELECT l.order_id, l.m, CASE WHEN NOT h."OnlineOrderFlag" THEN upper(to_hex(hashint8extended(l.m, 7))) END,
	   l.qty, l.product, CASE WHEN l.m % 11 = 0 THEN 2 ELSE 1 END, pr."ListPrice", l.discount,
	   round(l.qty * pr."ListPrice" * (1 - l.discount), 6), h."ModifiedDate"
  FROM (SELECT o.order_id, row_number() OVER (ORDER BY o.order_id, j) AS m,
			   (1 + pg_temp.h(o.order_id * 10 + j, 31, 4))::smallint AS qty,
			   CASE WHEN (o.order_id * 10 + j) % 11 = 0 THEN 0.10 ELSE 0 END::numeric(19,4) AS discount,
			   NULL::int AS product
		  FROM (SELECT 43658 + k AS order_id,
					   (1 + div((p.lines - p.orders)::numeric * r::numeric * r * r, p.orders::numeric * p.orders * p.orders)
						  - div((p.lines - p.orders)::numeric * (r - 1)::numeric * (r - 1) * (r - 1),
								p.orders::numeric * p.orders * p.orders))::int AS n
				  FROM aw_params p, generate_series(1, p.orders) k,
					   LATERAL (SELECT ((k - 1)::bigint * p.order_step % p.orders) + 1 AS r) perm) o,
			   generate_series(1, o.n) j) l0,
	   LATERAL (SELECT l0.order_id, l0.m, l0.qty, l0.discount,
					   ((l0.m - 1) * 97 % 266 + 1)::int AS product) l
  JOIN "Production"."Product" pr ON pr."ProductID" = l.product
  JOIN "Sales"."SalesOrderHeader" h ON h."SalesOrderID" = l.order_id;

UPDATE "Sales"."SalesOrderHeader" h
   SET "SubTotal" = t.sub, "TaxAmt" = round(t.sub * 0.08, 4), "Freight" = round(t.sub * 0.025, 4),
	   "TotalDue" = t.sub + round(t.sub * 0.08, 4) + round(t.sub * 0.025, 4)
  FROM (SELECT "SalesOrderID", round(sum("LineTotal"), 4) AS sub FROM "Sales"."SalesOrderDetail" GROUP BY 1) t
 WHERE t."SalesOrderID" = h."SalesOrderID";

CREATE INDEX ON "Sales"."SalesOrderHeader" ("ModifiedDate");
CREATE INDEX ON "Sales"."SalesOrderDetail" ("SalesOrderID");
CREATE INDEX ON "Sales"."SalesOrderDetail" ("ModifiedDate");
ANALYZE "Sales"."SalesOrderHeader", "Sales"."SalesOrderDetail", "Sales"."Customer", "Person"."Person",
	"Production"."Product", "Production"."ProductSubcategory", "Production"."ProductCategory";
RESET client_min_messages;
