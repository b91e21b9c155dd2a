--
-- Unit tests (issue 29): a model's bound query run on given rows for its
-- inputs, in a subtransaction rolled back, compared with the rows expected
-- as a multiset on the columns they name.  Nothing is built or published.
--
SET medallion.changed_only = off;
SET medallion.log_timing = off;
SET client_min_messages = warning;
CREATE SCHEMA utsrc;
CREATE TABLE utsrc.orders (id int, customer_id int, amount numeric(10,2), status text, ordered_at date);
ALTER TABLE utsrc.orders ADD COLUMN dropped_soon int;
ALTER TABLE utsrc.orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
ALTER TABLE utsrc.orders DROP COLUMN dropped_soon;
INSERT INTO utsrc.orders VALUES (1, 10, 5.00, 'paid', '2024-01-01'), (2, 11, 7.50, 'open', '2024-01-02');
CREATE TABLE utsrc.customers (id int, name text, country char(2));
INSERT INTO utsrc.customers VALUES (10, 'Ada', 'NL');

-- a view over the source, a table joining it, an incremental model
SELECT medallion_create_model('ut_orders', $$SELECT id, customer_id, amount, lower(status) AS status, ordered_at FROM utsrc.orders$$,
  layer => 'bronze', materialized => 'view');
SELECT medallion_create_model('ut_customer_totals', $$
  SELECT c.id AS customer_id, c.name, count(o.id) AS orders, coalesce(sum(o.amount), 0) AS total,
         c.country = 'NL' AS domestic
    FROM utsrc.customers c LEFT JOIN bronze.ut_orders o ON o.customer_id = c.id AND o.status = 'paid'
   GROUP BY c.id, c.name, c.country$$, layer => 'silver', materialized => 'table');
SELECT medallion_create_model('ut_paid', $$SELECT id, amount, ordered_at FROM bronze.ut_orders WHERE status = 'paid'$$,
  layer => 'silver', materialized => 'incremental', unique_key => '{id}', watermark => 'ordered_at');

-- given rows for the view model and the source (only some columns; typed
-- by the inputs' columns); expected rows compared on the columns named
SELECT medallion_add_unit_test('ut_customer_totals', 'totals_of_paid_orders',
  given => '{"ut_orders": [{"id": 1, "customer_id": 1, "amount": "2.50", "status": "paid"},
                           {"id": 2, "customer_id": 1, "amount": 1, "status": "paid"},
                           {"id": 3, "customer_id": 1, "amount": 100, "status": "open"},
                           {"id": 4, "customer_id": 2, "amount": 9, "status": "paid"}],
             "utsrc.customers": [{"id": 1, "name": "Bo", "country": "NL"}, {"id": 2, "name": "Cy"}, {"id": 3}]}',
  expect => '[{"customer_id": 1, "orders": 2, "total": 3.5, "domestic": true},
              {"customer_id": 2, "orders": 1, "total": 9},
              {"customer_id": 3, "orders": 0, "total": 0}]');
-- the same rows expected twice: multisets, so one is missing
SELECT medallion_add_unit_test('ut_customer_totals', 'wrong_on_purpose',
  given => '{"ut_orders": [], "utsrc.customers": [{"id": 1, "name": "Bo"}]}',
  expect => '[{"customer_id": 1, "orders": 0}, {"customer_id": 1, "orders": 0}, {"customer_id": 9, "orders": 1}]',
  description => 'fails: one row expected twice, one not given');
-- a source read by a view model, given to the view model itself; the
-- source's dropped column keeps the given table's columns in place
SELECT medallion_add_unit_test('ut_orders', 'lower_case_status',
  given => '{"utsrc.orders": [{"id": 1, "status": "PAID", "currency": "USD"}, {"id": 2, "status": "Open"}]}',
  expect => '[{"id": 1, "status": "paid"}, {"id": 2, "status": "open"}]');
-- the incremental form: rows past the newest watermark of the given this
SELECT medallion_add_unit_test('ut_paid', 'only_new_rows',
  given => '{"ut_orders": [{"id": 1, "status": "paid", "ordered_at": "2024-03-01"},
                           {"id": 2, "status": "paid", "ordered_at": "2024-03-05"},
                           {"id": 3, "status": "open", "ordered_at": "2024-03-06"}],
             "this": [{"id": 1, "ordered_at": "2024-03-01"}]}',
  expect => '[{"id": 2, "ordered_at": "2024-03-05"}]', incremental => true);
-- the full form of the same model: every paid row
SELECT medallion_add_unit_test('ut_paid', 'all_rows',
  given => '{"ut_orders": [{"id": 1, "status": "paid", "ordered_at": "2024-03-01"},
                           {"id": 2, "status": "paid", "ordered_at": "2024-03-05"}]}',
  expect => '[{"id": 1}, {"id": 2}]');
-- no rows expected
SELECT medallion_add_unit_test('ut_paid', 'nothing_paid',
  given => '{"ut_orders": [{"id": 1, "status": "open"}]}', expect => '[]');
SELECT model, name, incremental FROM medallion.unit_tests ORDER BY model, name;

-- run them: nothing is built, published or kept
SELECT * FROM medallion_test('all', unit => true) ORDER BY model, test;
SELECT count(*) AS rows_published FROM silver.ut_customer_totals;
SELECT count(*) AS temporary_tables_left FROM pg_class WHERE relname LIKE 'medallion_unit%';
SELECT status, count(*) FROM medallion.test_results WHERE kind = 'unit' GROUP BY status ORDER BY status;
-- the page lists them with the model's tests: inputs given, rows expected, last result
SELECT regexp_replace(substring(medallion_docs('ut_customer_totals') FROM '<td>totals_of_paid_orders</td><td>unit</td>.*?</tr>'),
                      'run [0-9]+', 'run N') AS on_the_page;

-- errors: each clear (SQLSTATE, message, detail, hint), and nothing changes
CREATE FUNCTION utsrc.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text; msg text; detail text; hint text; context text;
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
		hint = PG_EXCEPTION_HINT, context = PG_EXCEPTION_CONTEXT;
	RETURN state || ': ' || msg || coalesce(E'\n  detail: ' || nullif(detail, ''), '')
		|| coalesce(E'\n  hint: ' || nullif(hint, ''), '')
		|| coalesce(E'\n  context: ' || nullif(substring(context from '(the rows [^\n]*)'), ''), '');
END
$$;
SELECT utsrc.try($$SELECT medallion_add_unit_test('no_such_model', 't', given => '{}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{"nothing_here": []}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{"utsrc.orders": []}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{"ut_orders": [{"idd": 1}]}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{}', expect => '[{"customer": 1}]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{"ut_orders": [{"id": "one"}]}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{}', expect => '[{"total": "lots"}]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{"ut_orders": {"id": 1}}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '[]', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{"this": []}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 't', given => '{}', expect => '[]', incremental => true)$$);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 'Bad Name', given => '{}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_drop_unit_test('ut_customer_totals', 'no_such_test')$$);
SELECT medallion_add_test('ut_customer_totals', 'not_null', column_name => 'customer_id', name => 'customer_given');
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_customer_totals', 'customer_given', given => '{}', expect => '[]')$$);
SELECT utsrc.try($$SELECT medallion_add_test('ut_customer_totals', 'not_null', column_name => 'name', name => 'totals_of_paid_orders')$$);
SELECT medallion_drop_test('ut_customer_totals', 'customer_given');
SELECT count(*) AS unit_tests FROM medallion.unit_tests;

-- a model query that fails on the given rows: the test errors, the others run
SELECT medallion_create_model('ut_ratio', $$SELECT id, 100 / customer_id AS ratio FROM bronze.ut_orders$$,
  layer => 'silver', materialized => 'table');
SELECT medallion_add_unit_test('ut_ratio', 'divides', given => '{"ut_orders": [{"id": 1, "customer_id": 0}]}',
  expect => '[{"id": 1}]');
SELECT model, test, status, message FROM medallion_test('ut_ratio ut_paid', unit => true) ORDER BY model, test;

-- dropped with the test, and with the model
SELECT medallion_drop_unit_test('ut_customer_totals', 'wrong_on_purpose');
SELECT medallion_drop_model('ut_ratio');
SELECT model, name FROM medallion.unit_tests ORDER BY model, name;
SELECT * FROM medallion_help('medallion_add_unit_test');

-- the model's SQL runs as its owner, whoever runs the test; only the owner
-- defines its unit tests; the caller's temporary objects change nothing
CREATE ROLE regress_unit_alice LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_unit_carol LOGIN IN ROLE medallion_admin;
CREATE SCHEMA ut_alice AUTHORIZATION regress_unit_alice;
GRANT USAGE ON SCHEMA utsrc TO regress_unit_carol;
SET ROLE regress_unit_alice;
CREATE TABLE ut_alice.t (id int, v text);
SELECT medallion_create_model('ut_alice_view', 'SELECT id, upper(v) AS v FROM ut_alice.t', layer => 'bronze', materialized => 'view');
SELECT medallion_create_model('ut_alice_table', 'SELECT id, v || current_user AS v FROM bronze.ut_alice_view',
  layer => 'silver', materialized => 'table');
SELECT medallion_add_unit_test('ut_alice_table', 'runs_as_owner', given => '{"ut_alice_view": [{"id": 1, "v": "x"}]}',
  expect => '[{"id": 1, "v": "xregress_unit_alice"}]');
RESET ROLE;
SET ROLE regress_unit_carol;
SELECT test, status, message FROM medallion_test('ut_alice_table', unit => true);
SELECT utsrc.try($$SELECT medallion_add_unit_test('ut_alice_table', 'x', given => '{}', expect => '[]')$$);
RESET ROLE;
CREATE TEMP TABLE ut_alice_view (id int, v text);
INSERT INTO ut_alice_view VALUES (2, 'temp');
SET search_path = pg_temp, public;
SELECT test, status, message FROM medallion_test('ut_alice_table', unit => true);
RESET search_path;
SELECT medallion_drop_model('ut_alice_table');
SELECT medallion_drop_model('ut_alice_view');
DROP OWNED BY regress_unit_alice, regress_unit_carol CASCADE;
DROP ROLE regress_unit_alice;
DROP ROLE regress_unit_carol;

-- leaves nothing behind
SELECT medallion_drop_model(name, cascade => true) FROM medallion.models WHERE name = 'ut_orders';
DROP SCHEMA utsrc CASCADE;
SELECT count(*) AS unit_tests_left FROM medallion.unit_tests;
