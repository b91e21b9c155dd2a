--
-- The README walkthrough, statement for statement: if the README's examples
-- stop working, this test fails.  Keep the two in step.
--

-- 1. Some source data (in real life: foreign tables from SQL Server or
--    PostgreSQL, see medallion.sources)
CREATE SCHEMA crm;
CREATE TABLE crm.customers (id int PRIMARY KEY, name text, country text);
CREATE TABLE crm.orders (id int PRIMARY KEY, customer_id int, amount numeric(12,2),
                         status text, ordered_on date);
INSERT INTO crm.customers VALUES (1, 'Ada', 'NL'), (2, 'Bob', 'DE'), (3, 'Cy', 'NL');
INSERT INTO crm.orders VALUES (10, 1, 120.00, 'shipped', '2024-03-01'),
                              (11, 1, 35.50, 'cancelled', '2024-03-02'),
                              (12, 2, 80.25, 'shipped', '2024-03-02'),
                              (13, 3, 19.99, 'shipped', '2024-03-05');

-- 2. Bronze: typed, renamed views over the source
SELECT medallion_create_model('brnz_customers',
  $$SELECT id AS customer_id, name AS customer_name, country FROM crm.customers$$,
  layer => 'bronze');
SELECT medallion_create_model('brnz_orders',
  $$SELECT id AS order_id, customer_id, amount, ordered_on
      FROM crm.orders WHERE status <> 'cancelled'$$,
  layer => 'bronze');

-- 3. Silver and gold: tables; models name each other without a schema
SELECT medallion_create_model('slvr_customers',
  $$SELECT c.customer_id, c.customer_name, c.country,
           count(o.order_id) AS orders, coalesce(sum(o.amount), 0) AS revenue
      FROM brnz_customers c LEFT JOIN brnz_orders o USING (customer_id)
     GROUP BY c.customer_id, c.customer_name, c.country$$,
  layer => 'silver', unique_key => ARRAY['customer_id']);
SELECT medallion_create_model('gld_revenue_by_country',
  $$SELECT country, sum(revenue) AS revenue, sum(orders) AS orders
      FROM slvr_customers GROUP BY country$$,
  layer => 'gold', description => 'Revenue of shipped orders per country');

-- 4. What a run of the gold layer would build, in waves
SELECT step, wave, model, layer, materialized, depends_on FROM medallion_plan('gold');

-- 5. Build it: candidates first, then everything published in one commit
SET client_min_messages = warning;   -- progress lines vary; the README shows them
SELECT model, status, rows FROM medallion_run('gold');
RESET client_min_messages;
SELECT * FROM gold.gld_revenue_by_country ORDER BY country;
-- Run it again: nothing changed since, so nothing is built
SET client_min_messages = warning;
SELECT model, status FROM medallion_run('gold');
-- Parallel runs: every model built again (changed_only => false), table models in background workers
SELECT model, status, rows FROM medallion_run('gold', threads => 4, changed_only => false);
RESET client_min_messages;

-- 6. Where does gold revenue come from?
SELECT column_name, src_relation, src_column, kind
  FROM medallion.column_lineage
 WHERE model = 'gld_revenue_by_country' AND column_name = 'revenue'
 ORDER BY src_relation, src_column, kind;
SELECT depth_from_model, relation_schema, relation_name, kind
  FROM medallion_lineage('gld_revenue_by_country');
SELECT depth_from_model, relation_name, relation_column, kind
  FROM medallion_lineage('gld_revenue_by_country', 'revenue');

-- 7. The whole graph, for a README or a wiki
SELECT medallion_graph('all', 'mermaid');
-- and as a page (the README writes it to a file; here its first line and
-- a section per model)
SELECT split_part(medallion_docs(), E'\n', 1) AS first_line,
       (SELECT count(*) FROM regexp_matches(medallion_docs(), '<article class="model" id="model-', 'g')) AS model_sections;

-- The "Data-quality tests" section of the README, on the walkthrough's models
SELECT medallion_add_test('slvr_customers', 'unique', column_name => 'customer_id');
SELECT medallion_add_test('slvr_customers', 'not_null', column_name => 'customer_name');
SELECT medallion_add_test('slvr_customers', 'expression', expression => 'revenue >= 0');
SELECT medallion_add_test('gld_revenue_by_country', 'accepted_values', column_name => 'country',
                          accepted => ARRAY['NL', 'DE', 'FR'], severity => 'warn');
SET client_min_messages = warning;
SELECT model, status, tests_passed, tests_warned, tests_failed FROM medallion_run('gold');
RESET client_min_messages;

-- The "Incremental" example of the README
SELECT medallion_create_model('slvr_orders_inc',
  $$SELECT id AS order_id, customer_id, amount, ordered_on FROM crm.orders$$,
  layer => 'silver', materialized => 'incremental',
  unique_key => ARRAY['order_id'], watermark => 'ordered_on', lookback => '1 day');
SET client_min_messages = warning;
SELECT model, status, rows FROM medallion_run('slvr_orders_inc');   -- first build: 4 rows
INSERT INTO crm.orders VALUES (14, 2, 42.00, 'shipped', '2024-03-06');
SELECT model, status, rows FROM medallion_run('slvr_orders_inc');   -- 1 new row
RESET client_min_messages;
SELECT * FROM medallion_drop_model('slvr_orders_inc');

-- Layers and sources: tables that already exist in a schema
SELECT medallion_create_source('crm', 'crm', kind => 'local', tables => ARRAY['customers', 'orders']);
SELECT dep_name, kind FROM medallion.model_dependencies WHERE model = 'brnz_customers';
SELECT medallion_drop_source('crm');

-- clean up
SELECT * FROM medallion_drop_model('brnz_customers', cascade => true);
SELECT * FROM medallion_drop_model('brnz_orders', cascade => true);
DROP SCHEMA crm CASCADE;
