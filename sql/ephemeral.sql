--
-- Ephemeral models have no relation: the models that read them get their
-- query inlined, and lineage goes through them.
--
SET medallion.log_timing = off;
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
SET client_min_messages = notice;
CREATE SCHEMA eph;
CREATE TABLE eph.orders (id int, customer_id int, amount numeric, status text);
INSERT INTO eph.orders VALUES (1, 1, 10, 'ok'), (2, 1, 5, 'cancelled'), (3, 2, 7, 'ok');

SELECT medallion_create_model('eph_valid_orders',
  $$SELECT id, customer_id, amount FROM eph.orders WHERE status <> 'cancelled';$$,
  layer => 'silver', materialized => 'ephemeral');
-- an ephemeral reading an ephemeral
SELECT medallion_create_model('eph_big_orders', 'SELECT id, customer_id FROM eph_valid_orders WHERE amount > 6',
  layer => 'silver', materialized => 'ephemeral');
SELECT medallion_create_model('eph_revenue', $$SELECT v.customer_id, sum(v.amount) AS revenue,
  count(b.id) AS big_orders FROM eph_valid_orders v LEFT JOIN eph_big_orders b USING (id) GROUP BY 1$$,
  layer => 'gold');
-- no relation exists for them
SELECT to_regclass('silver.eph_valid_orders') AS relation;
-- the dependencies name them; the plan builds them in order
SELECT model, dep_schema, dep_name, kind FROM medallion.model_dependencies
 WHERE model LIKE 'eph\_%' ORDER BY model, dep_name;
SELECT step, wave, model, materialized FROM medallion_plan('+eph_revenue');
-- lineage goes through the inlined queries to the table's columns
SELECT column_name, src_relation, src_column, kind FROM medallion.column_lineage
 WHERE model = 'eph_revenue' ORDER BY column_name, src_column, kind;

SELECT model, status, rows FROM medallion_run('+eph_revenue');
SELECT * FROM gold.eph_revenue ORDER BY customer_id;

-- redefining an ephemeral changes what its readers compute at the next run
SELECT medallion_create_model('eph_valid_orders', 'SELECT id, customer_id, amount FROM eph.orders',
  layer => 'silver', materialized => 'ephemeral');
SELECT model, status FROM medallion_run('eph_revenue');
SELECT * FROM gold.eph_revenue ORDER BY customer_id;

-- a table model turned ephemeral loses its relation
SELECT medallion_create_model('eph_was_table', 'SELECT 1 AS one', layer => 'silver');
SELECT to_regclass('silver.eph_was_table') IS NOT NULL AS had_relation;
SELECT medallion_create_model('eph_was_table', 'SELECT 1 AS one', materialized => 'ephemeral');
SELECT to_regclass('silver.eph_was_table') IS NOT NULL AS has_relation;

-- ephemerals cannot be tested (test what reads them)
SELECT medallion_add_test('eph_valid_orders', 'not_null', column_name => 'id');

SELECT * FROM medallion_drop_model('eph_was_table');
SELECT * FROM medallion_drop_model('eph_valid_orders', cascade => true);
DROP SCHEMA eph CASCADE;
