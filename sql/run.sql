--
-- Runs: medallion_run builds candidates nobody else can see, then publishes
-- every model that built in one burst.
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;     -- progress lines without durations
-- run numbers in this file start at 1
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
RESET client_min_messages;
CREATE SCHEMA runsrc;
CREATE TABLE runsrc.customers (id int PRIMARY KEY, name text, country text);
CREATE TABLE runsrc.orders (id int PRIMARY KEY, customer_id int, amount numeric, qty int);
INSERT INTO runsrc.customers SELECT g, 'customer ' || g, (ARRAY['NL', 'DE', 'FR'])[1 + g % 3]
  FROM generate_series(1, 300) g;
INSERT INTO runsrc.orders SELECT g, 1 + g % 300, (g % 50) + 0.5, 1 + g % 4
  FROM generate_series(1, 3000) g;

SELECT medallion_create_model('run_customers', $$SELECT id AS customer_id, name, country FROM runsrc.customers$$,
  layer => 'bronze');
SELECT medallion_create_model('run_orders', $$SELECT id AS order_id, customer_id, amount, qty FROM runsrc.orders$$,
  layer => 'bronze');
SELECT medallion_create_model('run_customer_sales',
  $$SELECT c.customer_id, c.country, sum(o.amount * o.qty) AS revenue, count(*) AS orders
      FROM run_customers c JOIN run_orders o USING (customer_id) GROUP BY 1, 2$$,
  layer => 'silver', indexes => ARRAY['customer_id']);
SELECT medallion_create_model('run_by_country',
  $$SELECT country, sum(revenue) AS revenue, sum(orders) AS orders FROM run_customer_sales GROUP BY 1$$,
  layer => 'gold', description => 'Revenue per country');
-- avg quantity per order line: fails with division by zero once a qty is 0
SELECT medallion_create_model('run_unit_price',
  $$SELECT customer_id, sum(amount * qty) / sum(qty) AS unit_price FROM run_orders GROUP BY 1$$,
  layer => 'gold');
SELECT medallion_create_model('run_unit_price_top',
  $$SELECT customer_id, unit_price FROM run_unit_price ORDER BY unit_price DESC, customer_id LIMIT 3$$,
  layer => 'gold');

-- What BI has built on gold: a view, a grant, a comment, a row-level policy
CREATE VIEW runsrc.bi_report AS SELECT country, revenue FROM gold.run_by_country;
GRANT SELECT ON gold.run_by_country TO medallion_reader;
COMMENT ON COLUMN gold.run_by_country.revenue IS 'Sum of amount times quantity';
ALTER TABLE gold.run_by_country ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_eu ON gold.run_by_country FOR SELECT TO medallion_reader USING (country <> 'US');
CREATE TEMP TABLE kept AS
SELECT 'gold.run_by_country'::regclass::oid AS table_oid,
       'runsrc.bi_report'::regclass::oid AS view_oid,
       (SELECT oid FROM pg_policy WHERE polname = 'only_eu') AS policy_oid;
CREATE TEMP TABLE relations_before AS
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'medallion_history';

-- A run of gold: progress as NOTICEs, a row per model
SELECT model, layer, materialized, status, rows, message FROM medallion_run('gold');
SELECT * FROM gold.run_by_country ORDER BY country;
SELECT * FROM runsrc.bi_report ORDER BY country;

-- The run ledger
SELECT run_id, selector, status, models, succeeded, failed, skipped, published, message,
       started_by = current_user AS by_me, finished_at >= started_at AS finished
  FROM medallion.runs ORDER BY run_id;
SELECT model, step, wave, status, published, rows, sqlstate, message
  FROM medallion.run_models ORDER BY run_id, step;
SELECT model, last_status, last_rows, last_success IS NOT NULL AS built, stale FROM medallion.status ORDER BY model;
-- a layer with a freshness expectation: its models are stale once older
UPDATE medallion.layers SET freshness = '1 hour' WHERE name = 'gold';
SELECT model, stale FROM medallion.status WHERE layer = 'gold' ORDER BY model;
UPDATE medallion.runs SET finished_at = finished_at - interval '2 hours';
UPDATE medallion.run_models SET finished_at = finished_at - interval '2 hours';
SELECT model, stale FROM medallion.status WHERE layer = 'gold' ORDER BY model;
UPDATE medallion.layers SET freshness = NULL WHERE name = 'gold';

-- Everything BI built survives, with the same OIDs, over several runs
SELECT count(*) FROM (SELECT * FROM medallion_run('gold') UNION ALL SELECT * FROM medallion_run('gold')) r;
SELECT 'gold.run_by_country'::regclass::oid = table_oid AS same_table,
       'runsrc.bi_report'::regclass::oid = view_oid AS same_view,
       (SELECT oid FROM pg_policy WHERE polname = 'only_eu'
         AND polrelid = 'gold.run_by_country'::regclass) = policy_oid AS same_policy
  FROM kept;
-- the previous version keeps the table's row-level security (and is its
-- owner's only, as a table with policies)
SELECT c.relrowsecurity, p.polname, pg_get_expr(p.polqual, p.polrelid) AS qual, c.relacl IS NOT NULL AS private
  FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid
 WHERE c.oid = 'medallion_history.run_by_country'::regclass;
-- autovacuum leaves medallion's own heaps alone (candidates, history); the
-- published table keeps its own options
SELECT relnamespace::regnamespace AS schema, relname, reloptions FROM pg_class
 WHERE oid IN ('medallion_history.run_by_country'::regclass, 'gold.run_by_country'::regclass)
 ORDER BY 1::text;
SELECT has_table_privilege('medallion_reader', 'gold.run_by_country', 'SELECT') AS granted,
       col_description('gold.run_by_country'::regclass, 2) AS column_comment,
       obj_description('gold.run_by_country'::regclass, 'pg_class') AS table_comment,
       relrowsecurity FROM pg_class WHERE oid = 'gold.run_by_country'::regclass;
SELECT * FROM runsrc.bi_report ORDER BY country;
-- the declared index is there, and used
SELECT indexdef FROM pg_indexes WHERE schemaname = 'silver' AND tablename = 'run_customer_sales';
SET enable_seqscan = off;
SELECT customer_id, country, revenue FROM silver.run_customer_sales WHERE customer_id = 42;
RESET enable_seqscan;

-- A model that fails at run time: reported with its SQLSTATE, its
-- downstream skipped, independent models still published, and what it had
-- published left exactly as it was
CREATE TEMP TABLE before_fail AS
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY customer_id)) FROM gold.run_unit_price t) AS unit_price,
       (SELECT md5(string_agg(t::text, ',' ORDER BY customer_id)) FROM gold.run_unit_price_top t) AS top;
UPDATE runsrc.orders SET qty = 0 WHERE customer_id = 7;
UPDATE runsrc.orders SET amount = amount + 1 WHERE customer_id = 8;
SELECT model, status, rows, message FROM medallion_run('gold');
SELECT sqlstate, message FROM medallion.run_models
 WHERE model = 'run_unit_price' ORDER BY run_id DESC LIMIT 1;
SELECT status, succeeded, failed, skipped, published FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY customer_id)) FROM gold.run_unit_price t) = unit_price AS unit_price_unchanged,
       (SELECT md5(string_agg(t::text, ',' ORDER BY customer_id)) FROM gold.run_unit_price_top t) = top AS top_unchanged
  FROM before_fail;
-- ... while the independent branch has the new data
SELECT revenue FROM silver.run_customer_sales WHERE customer_id = 8;

-- strict => true raises at the end; the ledger still has the run
SELECT count(*) FROM medallion_run('gold', strict => true);
SELECT status, failed, skipped FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
UPDATE runsrc.orders SET qty = 1 WHERE customer_id = 7;

-- A model over its statement_timeout fails; the rest of the run goes on
SELECT medallion_create_model('run_slow', $$SELECT pg_sleep(2) IS NULL AS slept$$,
  layer => 'gold', statement_timeout => '50 ms');
SELECT model, status, message FROM medallion_run('run_slow run_by_country');

-- Cancelling a run (here: the session's own statement_timeout) publishes
-- nothing of it, and the ledger says so
SELECT medallion_create_model('run_slow', $$SELECT pg_sleep(0.5) IS NULL AS slept$$,
  layer => 'gold', statement_timeout => NULL);
UPDATE runsrc.orders SET amount = amount + 100 WHERE customer_id = 9;
SET statement_timeout = '300ms';
SELECT * FROM medallion_run('run_customer_sales run_slow');
RESET statement_timeout;
SELECT status, message FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
SELECT model, status, published FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY step;
SELECT revenue = (SELECT sum(amount * qty) FROM runsrc.orders WHERE customer_id = 9) AS published_new_data
  FROM silver.run_customer_sales WHERE customer_id = 9;
SELECT * FROM medallion_drop_model('run_slow');

-- The model SQL runs as its owner, even when a superuser starts the run
CREATE ROLE regress_run_owner IN ROLE medallion_admin;
CREATE TABLE runsrc.private (id int);
INSERT INTO runsrc.private VALUES (1), (2);
GRANT USAGE ON SCHEMA runsrc TO regress_run_owner;
GRANT SELECT ON runsrc.private TO regress_run_owner;
SET ROLE regress_run_owner;
SELECT medallion_create_model('run_private', $$SELECT count(*) AS n FROM runsrc.private$$, layer => 'gold');
RESET ROLE;
REVOKE SELECT ON runsrc.private FROM regress_run_owner;
SELECT model, status, message FROM medallion_run('run_private');
SELECT sqlstate FROM medallion.run_models WHERE model = 'run_private';
SELECT * FROM medallion_drop_model('run_private');
REVOKE USAGE ON SCHEMA runsrc FROM regress_run_owner;
DROP ROLE regress_run_owner;

-- Rolling back swaps the previous content back in, and forward again
UPDATE runsrc.orders SET amount = amount + 1000 WHERE customer_id = 1;
SELECT status FROM medallion_run('run_customer_sales');
SELECT revenue FROM silver.run_customer_sales WHERE customer_id = 1;
SELECT medallion_rollback('run_customer_sales');
SELECT revenue FROM silver.run_customer_sales WHERE customer_id = 1;
SELECT medallion_rollback('run_customer_sales');
SELECT revenue FROM silver.run_customer_sales WHERE customer_id = 1;

-- No candidate or leftover relation survives a run (kept versions live in
-- medallion_history)
SELECT c.oid::regclass AS new_relation
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'medallion_history'
   AND c.oid NOT IN (SELECT oid FROM relations_before);
SELECT relname FROM pg_class WHERE relnamespace = 'medallion_history'::regnamespace
   AND relkind = 'r' ORDER BY 1;

-- A rebuild builds its candidate in the model's previous version when that
-- can stand in for a new heap: emptied inside the step (so a failed build
-- gives it back whole), it keeps its OID and its indexes, and holds what the
-- run replaced; its wide column lives in TOAST
CREATE TABLE runsrc.recycle (id int, v numeric);
INSERT INTO runsrc.recycle SELECT g, g FROM generate_series(1, 300) g;
SELECT medallion_create_model('run_recycle', $$SELECT id, 600 / v AS q,
  (SELECT string_agg(md5(id::text || g::text), '') FROM generate_series(1, 100) g) AS pad
  FROM runsrc.recycle$$, layer => 'silver', materialized => 'table', indexes => ARRAY['id']);
SELECT status FROM medallion_run('run_recycle');
UPDATE runsrc.recycle SET v = v + 1;
SELECT status FROM medallion_run('run_recycle');
CREATE TEMP TABLE recycle_seen AS
SELECT 'medallion_history.run_recycle'::regclass::oid AS history,
       (SELECT array_agg(indexrelid ORDER BY indexrelid) FROM pg_index
         WHERE indrelid = 'medallion_history.run_recycle'::regclass) AS indexes;
CREATE TEMP TABLE recycle_before AS SELECT * FROM silver.run_recycle;
UPDATE runsrc.recycle SET v = v + 1;
SELECT status FROM medallion_run('run_recycle');
SELECT s.history = 'medallion_history.run_recycle'::regclass::oid AS same_history,
       s.indexes = (SELECT array_agg(indexrelid ORDER BY indexrelid) FROM pg_index
                     WHERE indrelid = 'medallion_history.run_recycle'::regclass) AS same_indexes,
       (SELECT reltoastrelid <> 0 FROM pg_class WHERE oid = s.history) AS has_toast
  FROM recycle_seen s;
CREATE TEMP VIEW recycle_query AS
SELECT id, 600 / v AS q, (SELECT string_agg(md5(id::text || g::text), '') FROM generate_series(1, 100) g) AS pad
  FROM runsrc.recycle;
SELECT (SELECT count(*) FROM (SELECT * FROM medallion_history.run_recycle EXCEPT ALL SELECT * FROM recycle_before) d) +
       (SELECT count(*) FROM (SELECT * FROM recycle_before EXCEPT ALL SELECT * FROM medallion_history.run_recycle) d)
         AS history_differs,
       (SELECT count(*) FROM (SELECT * FROM silver.run_recycle EXCEPT ALL SELECT * FROM recycle_query) d) +
       (SELECT count(*) FROM (SELECT * FROM recycle_query EXCEPT ALL SELECT * FROM silver.run_recycle) d)
         AS published_differs;
-- the indexes of both were rebuilt for their rows
SET enable_seqscan = off;
SELECT (SELECT q FROM silver.run_recycle WHERE id = 7) = 600 / 9.0 AS published_by_index,
       (SELECT q FROM medallion_history.run_recycle WHERE id = 7) = 600 / 8.0 AS history_by_index;
RESET enable_seqscan;
-- a failed build leaves both as they were
CREATE TEMP TABLE recycle_published AS SELECT * FROM silver.run_recycle;
CREATE TEMP TABLE recycle_history AS SELECT * FROM medallion_history.run_recycle;
UPDATE runsrc.recycle SET v = 0 WHERE id = 5;
SELECT status, message FROM medallion_run('run_recycle');
SELECT (SELECT count(*) FROM (SELECT * FROM medallion_history.run_recycle EXCEPT ALL SELECT * FROM recycle_history) d) +
       (SELECT count(*) FROM (SELECT * FROM recycle_history EXCEPT ALL SELECT * FROM medallion_history.run_recycle) d)
         AS history_differs,
       (SELECT count(*) FROM (SELECT * FROM silver.run_recycle EXCEPT ALL SELECT * FROM recycle_published) d) +
       (SELECT count(*) FROM (SELECT * FROM recycle_published EXCEPT ALL SELECT * FROM silver.run_recycle) d)
         AS published_differs;
SET enable_seqscan = off;
SELECT q = 600 / 8.0 AS history_index_intact FROM medallion_history.run_recycle WHERE id = 7;
RESET enable_seqscan;
-- a run whose caller rolls back gives it back too; rolling back swaps the two
BEGIN;
UPDATE runsrc.recycle SET v = 1 WHERE id = 5;
SELECT status FROM medallion_run('run_recycle');
ROLLBACK;
SELECT count(*) AS history_rows, min(q) = 600 / 8.0 AS history_min FROM medallion_history.run_recycle WHERE id = 7;
SELECT medallion_rollback('run_recycle');
SELECT q = 600 / 8.0 AS rolled_back FROM silver.run_recycle WHERE id = 7;
-- with a new column the previous version cannot stand in: a new one is made
UPDATE runsrc.recycle SET v = 1 WHERE id = 5;
SELECT medallion_create_model('run_recycle', $$SELECT id, 600 / v AS q, 1 AS extra FROM runsrc.recycle$$,
  layer => 'silver', materialized => 'table', indexes => ARRAY['id']);
SELECT status FROM medallion_run('run_recycle');
SELECT s.history <> 'medallion_history.run_recycle'::regclass::oid AS new_history FROM recycle_seen s;
-- nor one over 8 MB: its old storage would be unlinked at the run's commit
SELECT medallion_create_model('run_recycle', $$SELECT id, 600 / v AS q,
  (SELECT string_agg(md5(id::text || g::text), '') FROM generate_series(1, 100) g) AS pad
  FROM runsrc.recycle$$, layer => 'silver', materialized => 'table', indexes => ARRAY['id']);
INSERT INTO runsrc.recycle SELECT g, g FROM generate_series(301, 3000) g;
SELECT status FROM medallion_run('run_recycle');
SELECT status FROM medallion_run('run_recycle');
TRUNCATE recycle_seen;
INSERT INTO recycle_seen SELECT 'medallion_history.run_recycle'::regclass::oid, NULL;
SELECT status FROM medallion_run('run_recycle');
SELECT s.history <> 'medallion_history.run_recycle'::regclass::oid AS new_history,
       pg_relation_size('medallion_history.run_recycle') +
       pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE oid = 'medallion_history.run_recycle'::regclass))
         > 8 * 1024 * 1024 AS over_8mb
  FROM recycle_seen s;
SELECT * FROM medallion_drop_model('run_recycle');
DROP VIEW recycle_query;
DROP TABLE runsrc.recycle;

-- Nothing selected, bad arguments
SELECT model, status FROM medallion_run('layer:bronze run_customers');
SELECT medallion_create_model('run_orders', $$SELECT id AS order_id, customer_id, amount, qty FROM runsrc.orders$$, enabled => false);
SELECT * FROM medallion_run('run_orders');
SELECT * FROM medallion_run('all', on_conflict => 'queue');
SELECT * FROM medallion_run('nosuch');
SELECT * FROM medallion_run(NULL);
SELECT medallion_rollback('run_customers');
SELECT medallion_rollback('run_by_country');
SELECT medallion_rollback('run_unit_price');   -- the last run changed it: swaps forward

-- A run whose caller rolls back published nothing: it is not recorded as a
-- success (a quiet run's finish goes with its caller's transaction; a start
-- recorded meanwhile is marked cancelled when the ledger is next tidied)
CREATE TEMP TABLE before_rollback AS SELECT pg_catalog.nextval('medallion.runs_run_id_seq') AS last;
BEGIN;
SELECT model, status FROM medallion_run('run_customers');
ROLLBACK;
SELECT model, status FROM medallion_run('run_customers');
DO $$ BEGIN
  FOR i IN 1..200 LOOP
    EXIT WHEN NOT EXISTS (SELECT FROM medallion.runs WHERE status = 'running');
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT coalesce((SELECT status FROM medallion.runs r, before_rollback b WHERE r.run_id = b.last + 1),
                'cancelled') = 'cancelled' AS rolled_back_not_a_success,
       (SELECT status FROM medallion.runs r, before_rollback b WHERE r.run_id = b.last + 2) AS next_run;

-- Ledger retention: runs older than medallion.ledger_retention go with
-- their steps and test results, at the next run's start or on demand
SHOW medallion.ledger_retention;
SELECT count(*) > 2 AS several_runs FROM medallion.runs;
UPDATE medallion.runs SET started_at = started_at - interval '40 days'
 WHERE run_id < (SELECT max(run_id) FROM medallion.runs);
SELECT count(*) > 0 AS old_steps FROM medallion.run_models
 WHERE run_id < (SELECT max(run_id) FROM medallion.runs);
CREATE TEMP TABLE runs_before_trim AS SELECT max(run_id) AS newest FROM medallion.runs;
SELECT model, status FROM medallion_run('run_customers');
-- the ledger is tidied by the worker that records a run's start, while the
-- run goes on, or at the end of a run too short to record its start: wait
DO $$ BEGIN
  FOR i IN 1..200 LOOP
    EXIT WHEN (SELECT count(*) FROM medallion.runs) <= 2;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS runs_left FROM medallion.runs;
SELECT count(*) AS old_steps_left FROM medallion.run_models
 WHERE run_id < (SELECT newest FROM runs_before_trim);
-- on demand: an admin may keep less only down to the retention
UPDATE medallion.runs SET started_at = started_at - interval '10 days';
CREATE ROLE regress_run_trimmer IN ROLE medallion_admin;
SET ROLE regress_run_trimmer;
SELECT medallion_trim_ledger(interval '1 day');
SELECT medallion_trim_ledger(interval '-1 day');
SELECT medallion_trim_ledger(interval '-10 years 3630 days');  -- more than 30 days as an interval, a cutoff after now
SELECT medallion_trim_ledger(interval '60 days') AS trimmed;
SELECT medallion_trim_ledger() AS trimmed;
DELETE FROM medallion.runs;
RESET ROLE;
DROP ROLE regress_run_trimmer;
SELECT medallion_trim_ledger(interval '0') AS trimmed;
SELECT count(*) AS runs_left FROM medallion.runs;
SET medallion.ledger_retention = 0;
SELECT medallion_trim_ledger() AS trimmed;
RESET medallion.ledger_retention;
-- any interval, as PostgreSQL reads intervals; minutes without a unit
SET medallion.ledger_retention = '1 hour';
SHOW medallion.ledger_retention;
SET medallion.ledger_retention = '90d';
SET medallion.ledger_retention = 'P1D';
SET medallion.ledger_retention = 1440;
SET medallion.ledger_retention = 'soon';
SET medallion.ledger_retention = '-1 day';
RESET medallion.ledger_retention;
SHOW medallion.ledger_retention;

-- a transaction that ran models cannot be prepared: until it ends, the
-- snapshot it holds keeps the trims of the logs from deleting what its
-- builds did not see (a prepared transaction holds none)
BEGIN;
SELECT model, status FROM medallion_run('run_customers', full_refresh => true);
PREPARE TRANSACTION 'run_prepared';
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'run_prepared';
-- (a run rolled back to a savepoint leaves nothing to keep; PostgreSQL
-- itself refuses one that used temporary tables, which this one did not)
BEGIN;
SAVEPOINT before_run;
SELECT model, status FROM medallion_run('run_customers', full_refresh => true);
ROLLBACK TO before_run;
PREPARE TRANSACTION 'run_rolled_back';
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'run_rolled_back';
ROLLBACK PREPARED 'run_rolled_back';

DROP VIEW runsrc.bi_report;
SELECT * FROM medallion_drop_model('run_customers', cascade => true);
SELECT * FROM medallion_drop_model('run_orders', cascade => true);
DROP SCHEMA runsrc CASCADE;
