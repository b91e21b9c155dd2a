--
-- Deferred tests: a relationships (or sql) test that reads a model built
-- from the tested one (order_items.order_id referring to orders, which
-- reads order_items) runs in the same run once that model's candidate
-- exists, and blocks both, or neither, as its severity says.
--
SET medallion.log_timing = off;
SET medallion.changed_only = off;
-- run numbers in this file start at 1
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
SET client_min_messages = notice;
CREATE SCHEMA dfr;
CREATE TABLE dfr.items (item_id int, order_id int, qty int, price numeric);
CREATE TABLE dfr.other (n int);
INSERT INTO dfr.items VALUES (1, 1, 2, 5), (2, 1, 1, 10), (3, 2, 3, 1);
INSERT INTO dfr.other VALUES (1);

-- orders are the order_items with a quantity; an order id 99 breaks orders
SELECT medallion_create_model('dfr_order_items', $$SELECT item_id, order_id, qty, price FROM dfr.items$$,
  layer => 'silver');
SELECT medallion_create_model('dfr_orders', $$SELECT order_id, sum(qty * price) / CASE WHEN max(order_id) = 99 THEN 0 ELSE 1 END AS total
  FROM dfr_order_items WHERE qty > 0 GROUP BY order_id$$, layer => 'gold');
SELECT medallion_create_model('dfr_report', $$SELECT count(*) AS orders, sum(total) AS total FROM dfr_orders$$,
  layer => 'gold');
SELECT medallion_create_model('dfr_other', $$SELECT n FROM dfr.other$$, layer => 'gold');
SELECT medallion_add_test('dfr_order_items', 'not_null', column_name => 'order_id');
SELECT medallion_add_test('dfr_order_items', 'relationships', column_name => 'order_id',
  to_model => 'dfr_orders', to_column => 'order_id', name => 'order_exists');

-- The plan says when each test runs: order_exists after dfr_orders.  The
-- steps from dfr_order_items to dfr_orders are built in one savepoint;
-- dfr_other, independent of them (wave 1, after dfr_order_items by layer),
-- is moved before it, so that rolling it back never takes dfr_other along
SELECT step, model, depends_on, tests FROM medallion_plan('dfr_order_items+ dfr_other') ORDER BY step;
-- a run that does not rebuild dfr_orders runs it with dfr_order_items
SELECT step, model, tests FROM medallion_plan('dfr_order_items') ORDER BY step;

-- 1. Pass: the test reads both candidates; everything publishes
SELECT model, status, tests_passed, tests_failed, message FROM medallion_run('dfr_order_items+ dfr_other');
SELECT * FROM gold.dfr_orders ORDER BY order_id;
SELECT * FROM gold.dfr_report;
SELECT model, test, status, failures FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY model, test;

-- 2. Fail (severity error): item 4 has no quantity, so order 3 has no order.
-- Neither model publishes, nor what reads dfr_orders; dfr_other does.
INSERT INTO dfr.items VALUES (4, 3, 0, 8);
UPDATE dfr.other SET n = 2;
SELECT model, status, tests_passed, tests_failed, message FROM medallion_run('dfr_order_items+ dfr_other');
SELECT count(*) AS published_items FROM silver.dfr_order_items;
SELECT * FROM gold.dfr_orders ORDER BY order_id;
SELECT * FROM gold.dfr_report;
SELECT * FROM gold.dfr_other;
-- nor the previous versions, which candidates may be built in
SELECT (SELECT count(*) FROM medallion_history.dfr_order_items) AS previous_items,
       (SELECT count(*) FROM medallion_history.dfr_orders) AS previous_orders;
SELECT model, test, status, failures FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY model, test;

-- 3. The same with severity warn: both publish, the warning is reported
SELECT medallion_add_test('dfr_order_items', 'relationships', column_name => 'order_id',
  to_model => 'dfr_orders', to_column => 'order_id', name => 'order_exists', severity => 'warn');
SELECT model, status, tests_passed, tests_warned, tests_failed, message FROM medallion_run('dfr_order_items+');
SELECT count(*) AS published_items FROM silver.dfr_order_items;
SELECT * FROM gold.dfr_report;
SELECT medallion_add_test('dfr_order_items', 'relationships', column_name => 'order_id',
  to_model => 'dfr_orders', to_column => 'order_id', name => 'order_exists');
DELETE FROM dfr.items WHERE item_id = 4;
SELECT model, status FROM medallion_run('dfr_order_items+');

-- 4. The model the test reads fails: the test does not run, and the
-- tested model is held back with it
INSERT INTO dfr.items VALUES (5, 99, 1, 1);
SELECT model, status, tests_passed, tests_failed, message FROM medallion_run('dfr_order_items+');
SELECT count(*) AS published_items FROM silver.dfr_order_items;
SELECT * FROM gold.dfr_report;
DELETE FROM dfr.items WHERE item_id = 5;

-- 5. threads => 2: the same outcomes.  Every table model that reads only
-- what is committed goes to a worker (dfr_order_items and dfr_other); a
-- worker's candidate held back is dropped, none is left behind
SET medallion.worker_min_ms = 0;
SELECT step, model, worker FROM medallion_plan('dfr_order_items+ dfr_other', threads => 2) ORDER BY step;
SELECT model, status, tests_passed, tests_failed FROM medallion_run('dfr_order_items+ dfr_other', threads => 2);
INSERT INTO dfr.items VALUES (6, 7, 0, 1);
UPDATE dfr.other SET n = 3;
SELECT model, status, tests_failed, message FROM medallion_run('dfr_order_items+ dfr_other', threads => 2);
SELECT count(*) AS published_items FROM silver.dfr_order_items;
SELECT * FROM gold.dfr_report;
SELECT * FROM gold.dfr_other;
SELECT count(*) AS left_in_build_schema FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace
   AND relname !~ '^d_';
DELETE FROM dfr.items WHERE item_id = 6;
RESET medallion.worker_min_ms;

-- 6. Change-aware runs: nothing changed, nothing to test
SET medallion.changed_only = on;
SELECT model, status FROM medallion_run('dfr_order_items+');
SELECT model, status, tests_passed, tests_failed FROM medallion_run('dfr_order_items+');
SELECT count(*) AS deferred_results FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND test = 'order_exists';
-- only dfr_orders changed (its definition): the test runs against the
-- published order_items and the new orders, and holds dfr_orders back
SELECT medallion_create_model('dfr_orders', $$SELECT order_id, sum(qty * price) AS total
  FROM dfr_order_items WHERE order_id <> 2 GROUP BY order_id$$, layer => 'gold');
SELECT model, status, tests_failed, message FROM medallion_run('dfr_order_items+');
SELECT * FROM gold.dfr_orders ORDER BY order_id;
-- fixed: the test runs again and passes; dfr_order_items stays up to date
SELECT medallion_create_model('dfr_orders', $$SELECT order_id, sum(qty * price) AS total
  FROM dfr_order_items WHERE qty > 0 GROUP BY order_id$$, layer => 'gold');
SELECT model, status, tests_passed, tests_failed FROM medallion_run('dfr_order_items+');
SELECT * FROM gold.dfr_orders ORDER BY order_id;
SET medallion.changed_only = off;

-- 7. An incremental tested model: its new rows are applied in place, and
-- undone with everything else when the deferred test fails
CREATE TABLE dfr.lines (id int, order_id int, amount numeric);
INSERT INTO dfr.lines VALUES (1, 1, 10), (2, 2, 20);
CREATE TABLE dfr.cancelled (order_id int);
SELECT medallion_create_model('dfr_lines', $$SELECT id, order_id, amount FROM dfr.lines$$,
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['id']);
SELECT medallion_create_model('dfr_line_orders', $$SELECT order_id, sum(amount) AS amount FROM dfr_lines
  WHERE order_id NOT IN (SELECT order_id FROM dfr.cancelled) GROUP BY order_id$$, layer => 'gold');
SELECT medallion_add_test('dfr_lines', 'relationships', column_name => 'order_id',
  to_model => 'dfr_line_orders', to_column => 'order_id', name => 'line_order_exists');
SELECT step, model, tests FROM medallion_plan('dfr_lines+') ORDER BY step;
SELECT model, status, tests_passed, tests_failed FROM medallion_run('dfr_lines+');
INSERT INTO dfr.lines VALUES (3, 3, 30);
INSERT INTO dfr.cancelled VALUES (3);
SELECT model, status, tests_failed, message FROM medallion_run('dfr_lines+');
SELECT * FROM silver.dfr_lines ORDER BY id;
SELECT * FROM gold.dfr_line_orders ORDER BY order_id;
DELETE FROM dfr.cancelled;
SELECT model, status, rows, tests_passed, tests_failed FROM medallion_run('dfr_lines+');
SELECT * FROM silver.dfr_lines ORDER BY id;
SELECT * FROM gold.dfr_line_orders ORDER BY order_id;

-- 8. A sql test reading a model further down waits for it too; the span
-- then holds every model from dfr_order_items to dfr_report
SELECT medallion_add_test('dfr_order_items', 'sql', name => 'report_complete',
  sql => $$SELECT r.* FROM dfr_report r WHERE r.orders <> (SELECT count(DISTINCT order_id) FROM dfr_order_items)$$);
SELECT step, model, tests FROM medallion_plan('dfr_order_items+') ORDER BY step;
SELECT model, status, tests_passed, tests_failed FROM medallion_run('dfr_order_items+');
INSERT INTO dfr.items VALUES (7, 8, 0, 1);
SELECT model, status, tests_passed, tests_failed, message FROM medallion_run('dfr_order_items+');
SELECT test, status, failures FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY test;
SELECT * FROM gold.dfr_report;
DELETE FROM dfr.items WHERE item_id = 7;
SELECT medallion_drop_test('dfr_order_items', 'report_complete');

-- A test whose referenced model is not built from the tested one keeps
-- running with its model's step
SELECT medallion_create_model('dfr_known', $$SELECT DISTINCT order_id FROM dfr.items$$, layer => 'silver');
SELECT medallion_add_test('dfr_report', 'sql', sql => $$SELECT * FROM dfr_report WHERE orders > (SELECT count(*) FROM dfr_known)$$,
  name => 'report_known');
SELECT step, model, tests FROM medallion_plan('dfr_known dfr_report') ORDER BY step;

-- Unit tests are listed too
SELECT medallion_add_unit_test('dfr_report', 'counts', given => '{"dfr_orders": [{"order_id": 1, "total": 5}]}',
  expect => '[{"orders": 1, "total": 5}]');
SELECT model, tests FROM medallion_plan('dfr_report');

-- medallion_test never says pass for a model never built
SELECT medallion_create_model('dfr_never', $$SELECT order_id FROM dfr.items$$, layer => 'silver');
SELECT medallion_add_test('dfr_never', 'relationships', column_name => 'order_id',
  to_model => 'dfr_orders', to_column => 'order_id');
SELECT model, test, status, message FROM medallion_test('dfr_never');

SET client_min_messages = warning;
SELECT medallion_drop_model('dfr_order_items', cascade => true);
SELECT medallion_drop_model('dfr_lines', cascade => true);
SELECT medallion_drop_model(name) FROM medallion.models WHERE name IN ('dfr_other', 'dfr_known', 'dfr_never') ORDER BY name;
DROP SCHEMA dfr CASCADE;
RESET client_min_messages;
