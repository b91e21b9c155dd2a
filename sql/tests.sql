--
-- Data-quality tests: defined against the model's columns, run on the
-- candidate before anything is published, fused into one scan per model.
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;
-- run numbers in this file start at 1
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
SET client_min_messages = notice;
CREATE SCHEMA dq;
CREATE TABLE dq.customers (id int, email text, segment text, signup timestamptz);
CREATE TABLE dq.orders (id int, customer_id int, amount numeric);
INSERT INTO dq.customers VALUES
  (1, 'a@x', 'gold', now() - interval '1 day'),
  (2, 'b@x', 'silver', now() - interval '2 days'),
  (3, 'c@x', 'bronze', now() - interval '3 days');
INSERT INTO dq.orders VALUES (10, 1, 5), (11, 2, 7), (12, 3, 9);

SELECT medallion_create_model('dq_customers', $$SELECT id, email, segment, signup FROM dq.customers$$, layer => 'silver');
SELECT medallion_create_model('dq_orders', $$SELECT o.id, o.customer_id, o.amount FROM dq.orders o$$, layer => 'silver');
SELECT medallion_create_model('dq_revenue', $$SELECT c.segment, sum(o.amount) AS revenue
  FROM dq_orders o JOIN dq_customers c ON c.id = o.customer_id GROUP BY c.segment$$, layer => 'gold');

-- One test of each kind; the name is derived unless given
SELECT medallion_add_test('dq_customers', 'not_null', column_name => 'email');
SELECT medallion_add_test('dq_customers', 'unique', column_name => 'id', store_failures => true);
SELECT medallion_add_test('dq_customers', 'unique', columns => ARRAY['email', 'segment'], name => 'unique_email_segment');
SELECT medallion_add_test('dq_customers', 'accepted_values', column_name => 'segment',
  accepted => ARRAY['gold', 'silver', 'bronze'], store_failures => true);
SELECT medallion_add_test('dq_customers', 'row_count', min_rows => 1, max_rows => 1000);
SELECT medallion_add_test('dq_customers', 'freshness', column_name => 'signup', max_age => '7 days');
SELECT medallion_add_test('dq_orders', 'relationships', column_name => 'customer_id',
  to_model => 'dq_customers', to_column => 'id', store_failures => true, name => 'customer_exists');
SELECT medallion_add_test('dq_orders', 'expression', expression => 'amount >= 0', name => 'amount_not_negative');
SELECT medallion_add_test('dq_orders', 'sql', sql => 'SELECT * FROM dq_orders WHERE amount > 1000',
  name => 'no_huge_orders', severity => 'warn');
SELECT model, name, kind, columns, severity, blocking, store_failures FROM medallion.tests ORDER BY model, name;
-- a relationships test orders the tested model after the one it references
SELECT medallion_create_model('dq_a_refs', 'SELECT customer_id FROM dq.orders', layer => 'silver');
SELECT medallion_create_model('dq_z_target', 'SELECT id FROM dq.customers', layer => 'silver');
SELECT step, wave, model FROM medallion_plan('dq_a_refs dq_z_target');
SELECT medallion_add_test('dq_a_refs', 'relationships', column_name => 'customer_id',
  to_model => 'dq_z_target', to_column => 'id');
SELECT step, wave, model FROM medallion_plan('dq_a_refs dq_z_target');
-- dropping the referenced model drops that test, not the model tested
SELECT * FROM medallion_drop_model('dq_z_target');
SELECT count(*) AS tests_of_dq_a_refs FROM medallion.tests WHERE model = 'dq_a_refs';
SELECT * FROM medallion_drop_model('dq_a_refs');

-- All pass: the six column tests of dq_customers ran as ONE query
SELECT model, status, tests_passed, tests_warned, tests_failed FROM medallion_run('all');
SELECT model, test_queries FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY step;
SELECT test, status, failures, observed FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND test <> 'freshness_signup' ORDER BY model, test;
SELECT count(*) FROM medallion_audit."dq_customers$unique_id";

-- A failing blocking test: the model fails and says which test, nothing it
-- built is published (byte-identical), its downstream is skipped
CREATE TEMP TABLE published_before AS
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM silver.dq_customers t) AS customers,
       (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM gold.dq_revenue t) AS revenue;
INSERT INTO dq.customers VALUES (3, 'd@x', 'platinum', now());
SELECT model, status, tests_passed, tests_warned, tests_failed, message FROM medallion_run('all');
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM silver.dq_customers t) = customers AS customers_unchanged,
       (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM gold.dq_revenue t) = revenue AS revenue_unchanged
  FROM published_before;
SELECT test, status, failures FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND status <> 'pass' ORDER BY model, test;
-- a failing row: the first query (row tests OR-ed) sees it, a second counts per test
SELECT model, test_queries FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND model = 'dq_customers';
-- the failing rows were kept, although the model failed
SELECT failure_no, failing_row->>'id' AS id, failing_row->>'segment' AS segment
  FROM medallion_audit."dq_customers$unique_id" ORDER BY failure_no;
SELECT failing_row->>'segment' AS segment FROM medallion_audit."dq_customers$accepted_values_segment";

-- Severity warn and thresholds: warnings are reported and published
SELECT medallion_add_test('dq_customers', 'unique', column_name => 'id', severity => 'warn', store_failures => true);
SELECT medallion_add_test('dq_customers', 'accepted_values', column_name => 'segment',
  accepted => ARRAY['gold', 'silver', 'bronze'], error_if => '> 1', warn_if => '> 0');
SELECT model, status, tests_passed, tests_warned, tests_failed FROM medallion_run('dq_customers+');
SELECT count(*) AS published_rows FROM silver.dq_customers;
-- a failing test that is not blocking is reported but does not stop publishing
SELECT medallion_add_test('dq_customers', 'row_count', max_rows => 2, blocking => false);
SELECT model, status, tests_failed FROM medallion_run('dq_customers');

-- Broken references: the relationships anti-join finds orphans in the candidate
DELETE FROM dq.customers WHERE id = 3;
SELECT medallion_add_test('dq_customers', 'row_count', min_rows => 1);
SELECT model, status, message FROM medallion_run('all');
SELECT failing_row->>'customer_id' AS orphan FROM medallion_audit."dq_orders$customer_exists";

-- An expression failing at run time, and a test query that errors
INSERT INTO dq.customers VALUES (3, 'c@x', 'bronze', now());
INSERT INTO dq.orders VALUES (13, 1, -1);
SELECT medallion_add_test('dq_orders', 'expression', expression => '1 / (amount + 1) > -100', name => 'divides');
SELECT model, status, message FROM medallion_run('dq_orders');
SELECT test, status, failures, message FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND status <> 'pass' ORDER BY test;
SELECT medallion_drop_test('dq_orders', 'divides');
SELECT medallion_drop_test('dq_orders', 'amount_not_negative');

-- medallion_test runs the tests of what is published, without building
DELETE FROM dq.orders WHERE amount < 0;
SELECT model, status FROM medallion_run('all');
SELECT model, test, status, failures FROM medallion_test('dq_customers dq_orders') WHERE test <> 'freshness_signup';
SELECT (options->>'test_only')::boolean AS test_only, status FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
-- a table never built is empty: its tests say "not built", never pass
SELECT medallion_create_model('dq_never', 'SELECT id FROM dq.customers', layer => 'silver', materialized => 'table');
SELECT medallion_add_test('dq_never', 'not_null', column_name => 'id');
SELECT model, test, status, failures, message FROM medallion_test('dq_never');
SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
SELECT status FROM medallion_run('dq_never');
SELECT model, test, status, failures FROM medallion_test('dq_never');
SELECT * FROM medallion_drop_model('dq_never');

-- Source freshness
CREATE TABLE dq.events (id int, loaded_at timestamptz);
INSERT INTO dq.events VALUES (1, now() - interval '2 hours');
SELECT medallion_create_source('dq_src', 'dq', tables => ARRAY['events', 'customers'],
  freshness_column => 'loaded_at', warn_after => '1 hour', error_after => '1 day');
SELECT source, relation, status, message FROM medallion_check_sources();
UPDATE dq.events SET loaded_at = now() - interval '2 days';
SELECT source, relation, status, message FROM medallion_check_sources();
SELECT medallion_drop_source('dq_src');

-- Bad definitions: clear errors, nothing stored
CREATE TEMP TABLE tests_before AS SELECT count(*) AS n FROM medallion.tests;
SELECT medallion_add_test('dq_customers', 'not_null', column_name => 'nosuch');
SELECT medallion_add_test('dq_customers', 'not_null');
SELECT medallion_add_test('dq_customers', 'telepathy', column_name => 'id');
SELECT medallion_add_test('dq_customers', 'freshness', column_name => 'email', max_age => '1 day');
SELECT medallion_add_test('dq_customers', 'freshness', column_name => 'signup');
SELECT medallion_add_test('dq_customers', 'accepted_values', column_name => 'id', accepted => ARRAY['1', 'two']);
SELECT medallion_add_test('dq_customers', 'accepted_values', column_name => 'id');
SELECT medallion_add_test('dq_orders', 'relationships', column_name => 'customer_id', to_model => 'nosuch', to_column => 'id');
SELECT medallion_add_test('dq_orders', 'relationships', column_name => 'customer_id', to_relation => 'dq.nosuch', to_column => 'id');
SELECT medallion_add_test('dq_orders', 'relationships', column_name => 'customer_id', to_model => 'dq_customers', to_column => 'nosuch');
SELECT medallion_add_test('dq_orders', 'relationships', column_name => 'customer_id', to_model => 'dq_customers', to_column => 'email');
SELECT medallion_add_test('dq_orders', 'expression', expression => 'amount + 1');
SELECT medallion_add_test('dq_orders', 'expression', expression => 'true) FROM dq.orders; SELECT (true');
SELECT medallion_add_test('dq_orders', 'expression', expression => 'nosuch > 0');
SELECT medallion_add_test('dq_orders', 'sql', sql => 'DELETE FROM dq.orders');
SELECT medallion_add_test('dq_orders', 'sql', sql => 'SELECT * FROM dq.nosuch');
SELECT medallion_add_test('dq_orders', 'row_count', min_rows => 5, max_rows => 1);
SELECT medallion_add_test('dq_orders', 'row_count', column_name => 'id', min_rows => 1);
SELECT medallion_add_test('dq_orders', 'not_null', column_name => 'id', severity => 'fatal');
SELECT medallion_add_test('dq_orders', 'not_null', column_name => 'id', warn_if => 'lots');
SELECT medallion_add_test('dq_orders', 'not_null', column_name => 'id', name => 'Bad Name');
SELECT medallion_add_test('nosuch', 'not_null', column_name => 'id');
SELECT medallion_drop_test('dq_orders', 'nosuch');
SELECT count(*) = n AS nothing_stored FROM medallion.tests, tests_before GROUP BY n;

-- a model whose blocking test fails leaves no trace in the run: a later
-- test reading its table reads what is published, not its dropped candidate
CREATE TABLE dq.vals (v int);
INSERT INTO dq.vals VALUES (1), (2), (NULL);
SELECT medallion_create_model('dq_aaa', 'SELECT 1 AS x', layer => 'silver');
SELECT medallion_create_model('dq_fails', 'SELECT v FROM dq.vals', layer => 'silver');
SELECT count(*) FROM medallion_run('dq_fails');
SELECT medallion_add_test('dq_fails', 'not_null', column_name => 'v');
SELECT medallion_create_model('dq_after', 'SELECT 1 AS one', layer => 'gold');
SELECT medallion_add_test('dq_after', 'sql', sql => 'SELECT * FROM silver.dq_fails WHERE v > 5',
  name => 'reads_dq_fails');
SELECT model, status FROM medallion_run('dq_aaa dq_fails dq_after');
SELECT test, status FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY test;
SELECT * FROM medallion_drop_model('dq_after');
SELECT * FROM medallion_drop_model('dq_fails');
SELECT * FROM medallion_drop_model('dq_aaa');

SELECT * FROM medallion_drop_model('dq_customers', cascade => true);
SELECT * FROM medallion_drop_model('dq_orders', cascade => true);
SELECT count(*) AS tests_left FROM medallion.tests WHERE model LIKE 'dq\_%';
DROP SCHEMA dq CASCADE;

-- accepted_values on a char(n) column: the values are cast to the
-- column's type with its length (character alone is character(1))
CREATE TABLE public.dq_codes (code char(2), label varchar(3));
INSERT INTO public.dq_codes VALUES ('NL', 'abc'), ('DE', 'de');
SELECT medallion_create_model('dq_code_list', 'SELECT code, label FROM public.dq_codes', 'silver');
SELECT medallion_add_test('dq_code_list', 'accepted_values', column_name => 'code', accepted => '{NL,DE}');
SELECT medallion_add_test('dq_code_list', 'accepted_values', column_name => 'label', accepted => '{abc,de}');
SET client_min_messages = warning;
SELECT model, status, tests_passed, tests_failed FROM medallion_run('dq_code_list');
RESET client_min_messages;
SELECT * FROM medallion_drop_model('dq_code_list');
DROP TABLE public.dq_codes;

-- expression tests with long names that share their first 48 characters:
-- each keeps a column of its own in the model's test binding
CREATE TABLE public.dq_long (n int);
INSERT INTO public.dq_long VALUES (1), (2);
SELECT medallion_create_model('dq_long_names', 'SELECT n FROM public.dq_long', 'silver');
SELECT medallion_add_test('dq_long_names', 'expression', expression => 'n > 0',
	name => 'a_rather_long_test_name_that_goes_on_and_on_and_on_positive');
SELECT medallion_add_test('dq_long_names', 'expression', expression => 'n < 2', severity => 'warn',
	name => 'a_rather_long_test_name_that_goes_on_and_on_and_on_below_two');
SET client_min_messages = warning;
SELECT model, status, tests_passed, tests_warned, tests_failed FROM medallion_run('dq_long_names');
RESET client_min_messages;
SELECT * FROM medallion_drop_model('dq_long_names');
DROP TABLE public.dq_long;
