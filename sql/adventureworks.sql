--
-- The AdventureWorks reference pipeline at sf = 1: the generated source,
-- both model sets, a full run and an incremental one.  Every expected
-- count and total below follows from the generator's definition
-- (examples/adventureworks/generate.sql), not from a run.
--
SET medallion.log_timing = off;
SET client_min_messages = warning;
\getenv root MEDALLION_ROOT
\set sf 1
\set seed 42
\set ECHO none
\o /dev/null
\i :root/examples/adventureworks/generate.sql
\i :root/examples/adventureworks/sources.sql
-- (from the checkout's root, so that a warning of a definition would
-- name the file the same way in every checkout; fact_order_items, whose
-- watermark is the GREATEST of two tables' columns, gives none)
\cd :root
\i examples/adventureworks/models.sql
\o
\set ECHO all
SET client_min_messages = warning;

-- The source has AdventureWorks2014's sizes
SELECT (SELECT count(*) FROM "Sales"."SalesOrderHeader") = 31465 AS orders,
       (SELECT count(*) FROM "Sales"."SalesOrderDetail") = 121317 AS order_lines,
       (SELECT count(*) FROM "Sales"."Customer") = 19119 + 701 AS customers,
       (SELECT count(DISTINCT "CustomerID") FROM "Sales"."SalesOrderHeader") = 19119 AS customers_with_orders,
       (SELECT count(*) FROM "Sales"."Customer" WHERE "PersonID" IS NULL) = 701 AS stores_without_person,
       (SELECT count(*) FROM "Person"."Person") = 19972 AS persons,
       (SELECT count(*) FROM "Production"."Product") = 504 AS products,
       (SELECT count(DISTINCT "ProductID") FROM "Sales"."SalesOrderDetail") = 266 AS products_sold,
       (SELECT count(*) FROM "Production"."Product" WHERE "ProductSubcategoryID" IS NULL) = 209 AS without_subcategory,
       (SELECT count(*) FROM "Production"."ProductCategory") = 4 AS categories,
       (SELECT count(*) FROM "Production"."ProductSubcategory") = 37 AS subcategories;
-- order days: 2011-05-31 .. 2014-06-30 (1,127 days) but for the 5 skipped ones
SELECT min("OrderDate")::date AS first_day, max("OrderDate")::date AS last_day,
       count(DISTINCT "OrderDate") = (date '2014-06-30' - date '2011-05-31' + 1) - 5 AS days_with_orders
  FROM "Sales"."SalesOrderHeader";
SELECT count(*) AS models FROM medallion.models;
SELECT count(*) >= 60 AS at_least_60_tests FROM medallion.tests;

-- Everything builds and every blocking test passes
SELECT model, status, rows, tests_failed FROM medallion_run('all');
SELECT count(*) AS tests_passed_or_warned FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND status IN ('pass', 'warn');
SELECT model, test, status FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND status <> 'pass' ORDER BY 1, 2;

-- Row counts that follow from the generator
SELECT (SELECT count(*) FROM silver.slvr_sales_orders) = 121317 AS every_line,
       (SELECT count(*) FROM silver.slvr_customers) = 19820 AS every_customer,
       (SELECT count(*) FROM silver.slvr_customers WHERE rfm_segment = 'prospect') = 701 AS stores_are_prospects,
       (SELECT count(*) FROM silver.slvr_products) = 504 AS every_product,
       (SELECT count(*) FROM silver.slvr_products WHERE ever_sold) = 266 AS sold_products,
       (SELECT count(*) FROM gold.gld_sales_summary) = 1127 - 5 AS one_row_per_order_day,
       (SELECT count(*) FROM gold.gld_product_performance) = 266 AS ranked_products,
       (SELECT count(*) FROM gold.gld_customer_metrics) = 19820 AS customer_360,
       (SELECT count(*) FROM gold.dim_date) = 1461 AS calendar_2011_2014,
       (SELECT count(*) FROM gold.dim_customers) = 19820 AS customer_versions,
       (SELECT count(*) FROM gold.dim_products) = 504 AS product_versions,
       (SELECT count(*) FROM gold.fact_order_items) = 121317 AS fact_lines;
-- Totals: gold agrees with the source it came from
SELECT (SELECT sum(orders) FROM gold.gld_sales_summary) = 31465 AS orders_in_summary,
       (SELECT sum(revenue) FROM gold.gld_sales_summary) =
       (SELECT sum(round("LineTotal", 4)) FROM "Sales"."SalesOrderDetail") AS revenue_in_summary,
       (SELECT sum(units_sold) FROM silver.slvr_products) = (SELECT sum("OrderQty") FROM "Sales"."SalesOrderDetail") AS units,
       (SELECT sum(lifetime_value) FROM gold.gld_customer_metrics) =
       (SELECT sum(revenue) FROM gold.gld_sales_summary) AS customer_value_adds_up,
       (SELECT sum(line_total) FROM gold.fact_order_items) =
       (SELECT sum(revenue) FROM gold.gld_sales_summary) AS fact_adds_up,
       (SELECT revenue_ytd FROM gold.gld_sales_summary WHERE order_date = '2013-12-31') =
       (SELECT sum(revenue) FROM gold.gld_sales_summary WHERE order_date BETWEEN '2013-01-01' AND '2013-12-31') AS ytd;
-- every sold product is ranked once in its category, from 1
SELECT category, count(*) AS products, min(rank_in_category) AS first_rank,
       max(rank_in_category) = count(*) AS ranks_dense_enough
  FROM gold.gld_product_performance GROUP BY category ORDER BY category;

-- The same input built again with two threads publishes the same tables
CREATE TEMP TABLE single (name text, md5 text);
DO $$
DECLARE
	m record;
	h text;
BEGIN
	FOR m IN SELECT name, layer FROM medallion.models WHERE materialized IN ('table', 'incremental') LOOP
		EXECUTE format('SELECT md5(string_agg(t::text, %L ORDER BY t::text)) FROM %I.%I t', '|', m.layer, m.name) INTO h;
		INSERT INTO single VALUES (m.name, h);
	END LOOP;
END
$$;
-- (at this size every model builds in milliseconds: give them to workers anyway)
SET medallion.worker_min_ms = 0;
SELECT count(*) FILTER (WHERE status IN ('success', 'up_to_date')) AS built FROM medallion_run('all', threads => 2, changed_only => false);
RESET medallion.worker_min_ms;
SELECT count(*) FILTER (WHERE worker) >= 6 AS most_tables_in_workers FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
DO $$
DECLARE
	m record;
	h text;
BEGIN
	FOR m IN SELECT s.name, s.md5, mo.layer FROM single s JOIN medallion.models mo USING (name) LOOP
		EXECUTE format('SELECT md5(string_agg(t::text, %L ORDER BY t::text)) FROM %I.%I t', '|', m.layer, m.name) INTO h;
		IF h IS DISTINCT FROM m.md5 THEN
			RAISE EXCEPTION 'model % differs after the parallel run', m.name;
		END IF;
	END LOOP;
END
$$;
SELECT count(*) AS tables_compared FROM single;

-- 1% new orders (315 orders of 4 lines on 2014-07-01), and a changed product:
-- the fact table merges the new lines, the product dimension gets a version
\i :root/examples/adventureworks/new_orders.sql
UPDATE "Production"."Product" SET "ListPrice" = "ListPrice" + 1 WHERE "ProductID" = 1;
SELECT model, status FROM medallion_run('slvr_sales_orders+ fact_order_items dim_products');
SELECT (SELECT count(*) FROM gold.fact_order_items) = 121317 + 315 * 4 AS fact_lines,
       (SELECT count(*) FROM gold.dim_products) = 504 + 1 AS product_versions,
       (SELECT count(*) FROM gold.dim_products WHERE product_id = 1 AND valid_to IS NULL) = 1 AS one_current_version,
       (SELECT orders FROM gold.gld_sales_summary WHERE order_date = '2014-07-01') = 315 AS new_day;

-- clean up
SELECT count(*) AS dropped FROM (SELECT medallion_drop_model(name, cascade => true) FROM medallion.models
                                  WHERE name IN ('brnz_sales_orders', 'brnz_customers', 'brnz_products', 'dim_date')) d;
SELECT count(*) AS models_left FROM medallion.models;
SELECT medallion_drop_source(s) FROM unnest(ARRAY['aw_sales', 'aw_person', 'aw_production']) s;
DROP SCHEMA "Sales", "Person", "Production" CASCADE;
