-- test/dbt/plain's source: two tables of stores and their sales.
CREATE SCHEMA raw_shop;
CREATE TABLE raw_shop.stores (storeid integer, name text, modifieddate timestamptz);
CREATE TABLE raw_shop.sales (saleid integer, storeid integer, amount numeric);
INSERT INTO raw_shop.stores VALUES
	(1, 'North', now() - interval '1 hour'),
	(2, 'South', now() - interval '2 hours'),
	(3, 'East', now() - interval '3 hours');
INSERT INTO raw_shop.sales VALUES
	(10, 1, 100.00), (11, 1, 50.50), (12, 2, 120.00), (13, 3, 20.00);
