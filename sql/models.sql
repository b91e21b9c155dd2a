--
-- Defining models: medallion_create_model / medallion_drop_model
--
-- A model is a name, a query and a layer.  Defining it analyzes the query
-- with PostgreSQL's parser, records what it reads, and creates its published
-- relation right away (a view, or an empty table with the query's columns).
--
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL, country text);
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers,
                          amount numeric(12,2), status text, ordered_at date);
INSERT INTO shop.customers VALUES (1, 'Ada', 'NL'), (2, 'Bob', 'DE'), (3, 'Cy', NULL);
INSERT INTO shop.orders VALUES (10, 1, 20.00, 'shipped', '2024-01-01'),
                               (11, 1, 5.50, 'cancelled', '2024-01-02'),
                               (12, 2, 7.25, 'shipped', '2024-01-03');

-- The default layers and their schemas
SELECT name, schema_name, ordinal, default_materialization, reader_role
  FROM medallion.layers ORDER BY ordinal;

-- Bronze models default to views
SELECT medallion_create_model('brnz_customers',
  $$SELECT id AS customer_id, name AS customer_name, country FROM shop.customers$$,
  layer => 'bronze');
SELECT medallion_create_model('brnz_orders',
  $$SELECT id AS order_id, customer_id, amount, ordered_at
      FROM shop.orders WHERE status <> 'cancelled'$$,
  layer => 'bronze', description => 'Orders that were not cancelled');

-- Silver and gold default to tables; models name each other without a schema
SELECT medallion_create_model('slvr_customers',
  $$SELECT c.customer_id, c.customer_name, count(o.order_id) AS orders,
           coalesce(sum(o.amount), 0) AS revenue
      FROM brnz_customers c LEFT JOIN brnz_orders o USING (customer_id)
     GROUP BY c.customer_id, c.customer_name$$,
  layer => 'silver', unique_key => ARRAY['customer_id'], tags => ARRAY['core', 'daily'],
  column_descriptions => '{"revenue": "Sum of non-cancelled order amounts"}');
SELECT medallion_create_model('gld_revenue',
  $$SELECT sum(revenue) AS revenue, sum(orders) AS orders FROM slvr_customers$$,
  layer => 'gold', description => 'Total revenue');

-- The catalog
SELECT name, layer, materialized, owner = current_user AS owned_by_me, version,
       tags, unique_key, enabled
  FROM medallion.models ORDER BY name;
SELECT model, dep_schema, dep_name, kind, via
  FROM medallion.model_dependencies ORDER BY model, dep_schema, dep_name;

-- The published relations exist at once: views, and empty tables with the
-- query's column names and types
SELECT n.nspname, c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('bronze', 'silver', 'gold') ORDER BY 1, 2;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'silver.slvr_customers'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT count(*) FROM silver.slvr_customers;
SELECT * FROM bronze.brnz_orders ORDER BY order_id;

-- Descriptions become comments that BI tools show
SELECT obj_description('gold.gld_revenue'::regclass, 'pg_class');
SELECT col_description('silver.slvr_customers'::regclass, 4);
-- Gold is readable by medallion_reader
SELECT has_table_privilege('medallion_reader', 'gold.gld_revenue', 'SELECT') AS reader_can_read_gold,
       has_table_privilege('medallion_reader', 'silver.slvr_customers', 'SELECT') AS reader_can_read_silver;

-- The same definition again changes nothing
SELECT medallion_create_model('brnz_orders',
  $$SELECT id AS order_id, customer_id, amount, ordered_at
      FROM shop.orders WHERE status <> 'cancelled'$$,
  layer => 'bronze', description => 'Orders that were not cancelled');
SELECT name, version FROM medallion.models WHERE name = 'brnz_orders';

-- A changed definition is a new version; a view whose columns only grow is
-- replaced in place (same OID)
CREATE TEMP TABLE oid_before AS SELECT 'bronze.brnz_orders'::regclass::oid AS oid;
SELECT medallion_create_model('brnz_orders',
  $$SELECT id AS order_id, customer_id, amount, ordered_at, status
      FROM shop.orders WHERE status <> 'cancelled'$$,
  layer => 'bronze', description => 'Orders that were not cancelled');
SELECT name, version FROM medallion.models WHERE name = 'brnz_orders';
SELECT 'bronze.brnz_orders'::regclass::oid = oid AS same_oid FROM oid_before;
SELECT * FROM bronze.brnz_orders ORDER BY order_id;

-- The layer and materialization are kept when not given again
SELECT medallion_create_model('gld_revenue',
  $$SELECT sum(revenue) AS revenue, sum(orders) AS orders, count(*) AS customers
      FROM slvr_customers$$, description => 'Total revenue');
SELECT name, layer, materialized, version FROM medallion.models WHERE name = 'gld_revenue';
-- a table that was never built is recreated with the new columns
SELECT attname FROM pg_attribute
 WHERE attrelid = 'gold.gld_revenue'::regclass AND attnum > 0 ORDER BY attnum;

-- Changing the materialization replaces the relation
SELECT medallion_create_model('gld_revenue',
  $$SELECT sum(revenue) AS revenue, sum(orders) AS orders, count(*) AS customers
      FROM slvr_customers$$, materialized => 'view', description => 'Total revenue');
SELECT relkind FROM pg_class WHERE oid = 'gold.gld_revenue'::regclass;

-- The stored search_path is the definer's, followed by the layer schemas
SELECT search_path FROM medallion.models WHERE name = 'gld_revenue';

-- Dropping: a model with dependants needs cascade
SELECT * FROM medallion_drop_model('slvr_customers');
SELECT * FROM medallion_drop_model('slvr_customers', cascade => true);
SELECT name FROM medallion.models ORDER BY name;
SELECT to_regclass('silver.slvr_customers') AS slvr, to_regclass('gold.gld_revenue') AS gld;
SELECT count(*) AS leftover_rows FROM medallion.model_dependencies
 WHERE model IN ('slvr_customers', 'gld_revenue');

-- Dropping a model that a hand-made view reads fails with PostgreSQL's own
-- error naming the view, and changes nothing
CREATE VIEW shop.report AS SELECT * FROM bronze.brnz_customers;
SELECT * FROM medallion_drop_model('brnz_customers');
SELECT name FROM medallion.models ORDER BY name;
DROP VIEW shop.report;

SELECT * FROM medallion_drop_model('brnz_orders');
SELECT * FROM medallion_drop_model('brnz_customers');
SELECT count(*) AS models FROM medallion.models;
DROP SCHEMA shop CASCADE;
