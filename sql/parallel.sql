--
-- Parallel runs: medallion_run(threads => n) builds independent table models
-- in background workers; the run tests and publishes them as its own.
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;
-- the models here build in milliseconds: give every table model to a worker
-- anyway (medallion.worker_min_ms has its own section below)
SET medallion.worker_min_ms = 0;
-- run numbers in this file start at 1
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
RESET client_min_messages;
CREATE ROLE regress_par_alice LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_par_bob LOGIN IN ROLE medallion_admin;
CREATE SCHEMA par_src;
CREATE TABLE par_src.customers (id int PRIMARY KEY, name text, country text, changed_at timestamptz);
CREATE TABLE par_src.orders (id int PRIMARY KEY, customer_id int, amount numeric, ordered_at timestamptz);
INSERT INTO par_src.customers
SELECT g, 'customer ' || g, (ARRAY['NL', 'DE', 'FR', 'BE'])[1 + g % 4], '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 400) g;
INSERT INTO par_src.orders
SELECT g, 1 + g % 400, (g % 97) + 0.25, '2026-02-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 6000) g;
GRANT USAGE ON SCHEMA par_src TO regress_par_alice, regress_par_bob;
GRANT SELECT ON ALL TABLES IN SCHEMA par_src TO regress_par_alice, regress_par_bob;

-- Every kind of model: tables (workers build them when all they read is
-- committed), an ephemeral one inlined, a view, an incremental model and a
-- snapshot (the run builds those), and models owned by two roles
SET ROLE regress_par_alice;
SELECT medallion_create_model('par_customers',
  $$SELECT id AS customer_id, name, country FROM par_src.customers$$, tags => ARRAY['par'], layer => 'bronze', materialized => 'table');
SELECT medallion_create_model('par_orders',
  $$SELECT id AS order_id, customer_id, amount, ordered_at FROM par_src.orders$$, tags => ARRAY['par'],
  layer => 'bronze', materialized => 'table', indexes => ARRAY['customer_id']);
SELECT medallion_create_model('par_big_orders',
  $$SELECT order_id, customer_id, amount FROM par_orders WHERE amount > 10$$, tags => ARRAY['par'],
  layer => 'silver', materialized => 'ephemeral');
SELECT medallion_create_model('par_customer_sales',
  $$SELECT c.customer_id, c.country, sum(o.amount) AS revenue, count(*) AS orders
      FROM par_customers c JOIN par_big_orders o USING (customer_id) GROUP BY 1, 2$$, tags => ARRAY['par'],
  layer => 'silver', materialized => 'table');
SELECT medallion_create_model('par_orders_v',
  $$SELECT order_id, amount * 2 AS doubled FROM par_orders$$, tags => ARRAY['par'], layer => 'silver', materialized => 'view');
SELECT medallion_create_model('par_orders_inc',
  $$SELECT order_id, customer_id, amount, ordered_at FROM par_orders$$, tags => ARRAY['par'], layer => 'silver',
  materialized => 'incremental', unique_key => ARRAY['order_id'], watermark => 'ordered_at');
SELECT medallion_create_model('par_customers_snap',
  $$SELECT id AS customer_id, country, changed_at FROM par_src.customers$$, tags => ARRAY['par'], layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['customer_id'], snapshot_strategy => 'timestamp',
  updated_at => 'changed_at');
SELECT medallion_create_model('par_by_country',
  $$SELECT country, sum(revenue) AS revenue, sum(orders) AS orders FROM par_customer_sales GROUP BY 1$$, tags => ARRAY['par'],
  layer => 'gold', materialized => 'table');
SELECT medallion_create_model('par_from_inc',
  $$SELECT customer_id, count(*) AS orders FROM par_orders_inc GROUP BY 1$$, tags => ARRAY['par'], layer => 'gold', materialized => 'table');
SELECT medallion_create_model('par_from_view',
  $$SELECT count(*) AS n, sum(doubled) AS doubled FROM par_orders_v$$, tags => ARRAY['par'], layer => 'gold', materialized => 'table');
SELECT medallion_add_test('par_customer_sales', 'unique', column_name => 'customer_id');
SELECT medallion_add_test('par_customer_sales', 'relationships', column_name => 'customer_id',
  to_model => 'par_customers', to_column => 'customer_id');
SELECT medallion_add_test('par_by_country', 'accepted_values', column_name => 'country',
  accepted => ARRAY['NL', 'DE', 'FR', 'BE']);
GRANT SELECT ON silver.par_customer_sales TO regress_par_bob;
RESET ROLE;
-- bob's model reads alice's: a worker candidate is readable by the run's model owners
SET ROLE regress_par_bob;
SELECT medallion_create_model('par_bob_top',
  $$SELECT customer_id, revenue FROM par_customer_sales ORDER BY revenue DESC, customer_id LIMIT 10$$, tags => ARRAY['par'],
  layer => 'gold', materialized => 'table');
RESET ROLE;
GRANT SELECT ON gold.par_by_country TO medallion_reader;

-- A fingerprint of every published relation
CREATE FUNCTION par_src.fingerprint() RETURNS TABLE (model text, rows bigint, md5 text)
LANGUAGE plpgsql AS $$
DECLARE
	m record;
BEGIN
	FOR m IN SELECT name, layer FROM medallion.models WHERE materialized <> 'ephemeral' AND name LIKE 'par\_%' ORDER BY name LOOP
		model := m.name;
		EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %I.%I t',
					   '|', '', m.layer, m.name) INTO rows, md5;
		RETURN NEXT;
	END LOOP;
END
$$;

-- First build: serial (rolled back), then with four threads: identical
BEGIN;
SELECT count(*) > 0 AS built FROM medallion_run('tag:par', threads => 1);
SELECT string_agg(model || ' ' || rows || ' ' || md5, E'\n' ORDER BY model) AS serial_first
  FROM par_src.fingerprint() \gset
ROLLBACK;

SELECT model, status, rows FROM medallion_run('tag:par', threads => 4);
SELECT string_agg(model || ' ' || rows || ' ' || md5, E'\n' ORDER BY model) = :'serial_first' AS identical_first
  FROM par_src.fingerprint();
-- which steps workers built: tables whose every input was committed
SELECT model, worker FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY step;
SELECT options->'threads' AS threads FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
-- candidates are gone: published, or kept as previous versions (the older
-- versions discarded, d_<OID>, wait there for the ledger's next tidy)
SELECT count(*) AS left_in_build_schema FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace
   AND relname !~ '^d_';
-- the published tables keep their privileges and readers see the new data
SET ROLE medallion_reader;
SELECT country, orders FROM gold.par_by_country ORDER BY country;
RESET ROLE;

-- New and changed source rows: incremental delta, snapshot versions, tables rebuilt
INSERT INTO par_src.orders
SELECT g, 1 + g % 400, (g % 89) + 0.5, '2026-03-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(6001, 6500) g;
UPDATE par_src.customers SET country = 'NL', changed_at = changed_at + interval '1 year' WHERE id % 10 = 0;
BEGIN;
SELECT model, status, rows FROM medallion_run('tag:par', threads => 1);
SELECT string_agg(model || ' ' || rows || ' ' || md5, E'\n' ORDER BY model) AS serial_second
  FROM par_src.fingerprint() \gset
ROLLBACK;
SELECT model, status, rows FROM medallion_run('tag:par', threads => 4);
SELECT string_agg(model || ' ' || rows || ' ' || md5, E'\n' ORDER BY model) = :'serial_second' AS identical_second
  FROM par_src.fingerprint();

-- A worker's error comes back with its SQLSTATE and message; downstream is skipped
SET ROLE regress_par_alice;
SELECT medallion_create_model('par_customers',
  $$SELECT id AS customer_id, name, country FROM par_src.customers WHERE 1 / (id - 7) IS NOT NULL$$, tags => ARRAY['par'],
  layer => 'bronze', materialized => 'table');
RESET ROLE;
SELECT model, status, message FROM medallion_run('par_customers+', threads => 4);
SELECT model, status, worker, sqlstate, message FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY step;
SELECT count(*) AS left_in_build_schema FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relname !~ '^d_';

-- A failing blocking test of a worker's candidate: not published, candidate dropped
SET ROLE regress_par_alice;
SELECT medallion_create_model('par_customers',
  $$SELECT id AS customer_id, name, country FROM par_src.customers UNION ALL SELECT 1, 'twin', 'NL'$$, tags => ARRAY['par'],
  layer => 'bronze', materialized => 'table');
SELECT medallion_add_test('par_customers', 'unique', column_name => 'customer_id');
RESET ROLE;
SELECT model, status, message FROM medallion_run('par_customers+', threads => 4);
SELECT model, worker, status FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND model = 'par_customers';
SELECT count(*) AS published_rows FROM bronze.par_customers;
SELECT count(*) AS left_in_build_schema FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relname !~ '^d_';

-- A model whose columns change is handed back: the run alters the table itself
SET ROLE regress_par_alice;
SELECT medallion_drop_test('par_customers', 'unique_customer_id');
SELECT medallion_create_model('par_customers',
  $$SELECT id AS customer_id, name, country, length(name) AS name_length FROM par_src.customers$$, tags => ARRAY['par'],
  layer => 'bronze', materialized => 'table', on_schema_change => 'append_new_columns');
RESET ROLE;
SELECT model, status, rows FROM medallion_run('par_customers', threads => 4);
SELECT worker FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT count(*) AS rows, max(name_length) AS longest FROM bronze.par_customers;

-- A model's statement_timeout holds in a worker too
SET ROLE regress_par_alice;
SELECT medallion_create_model('par_slow',
  $$SELECT g, pg_sleep(0.01) IS NULL AS slept FROM generate_series(1, 500) g$$, tags => ARRAY['par'],
  layer => 'bronze', materialized => 'table', statement_timeout => '200ms');
RESET ROLE;
SELECT model, status, message FROM medallion_run('par_slow', threads => 2);
SELECT sqlstate, worker FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT * FROM medallion_drop_model('par_slow');

-- More threads than free worker slots (16 here): a model that finds no free
-- slot when its turn comes is built by the run itself
SET medallion.max_workers = 64;
SELECT medallion_create_model('par_many_' || g, format('SELECT g, md5(g::text) FROM generate_series(1, %s) g', 2000 + g),
  layer => 'bronze', materialized => 'table', tags => ARRAY['many'])
  FROM generate_series(1, 24) g;
SELECT count(*) FILTER (WHERE status = 'success') AS succeeded FROM medallion_run('tag:many', threads => 64);
SELECT count(*) FILTER (WHERE worker) > 0 AS some_by_workers
  FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
-- a worker builds model after model until the run ends: none is left after it
SELECT count(*) AS workers_left FROM pg_stat_activity WHERE backend_type = 'medallion build worker';
-- and with two threads, two workers build the 24 models
SELECT count(*) FILTER (WHERE status = 'success') AS succeeded FROM medallion_run('tag:many', threads => 2);
SELECT count(*) FILTER (WHERE worker) AS by_workers
  FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT count(*) FILTER (WHERE rows <> 2000 + substr(model, 10)::int) AS wrong_counts
  FROM par_src.fingerprint() WHERE model LIKE 'par\_many\_%';
-- change-aware with threads: the models are checked before a worker would
-- build them, and those up to date are given to none
SET medallion.changed_only = on;
-- (the forced runs above recorded what they read: forget it, to build once more)
SELECT count(*) AS recorded FROM medallion.build_state WHERE model LIKE 'par\_many\_%';
DELETE FROM medallion.build_state WHERE model LIKE 'par\_many\_%';
SELECT count(*) FILTER (WHERE status = 'success') AS built FROM medallion_run('tag:many', threads => 2);
SELECT count(*) FILTER (WHERE status = 'up_to_date') AS up_to_date FROM medallion_run('tag:many', threads => 2);
SELECT count(*) FILTER (WHERE worker) AS by_workers
  FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
SET medallion.changed_only = off;
RESET medallion.max_workers;

-- A staging table no extraction points at (as a restore leaves one) goes at the next run
CREATE TABLE medallion_build.s_12345 (x int);
SELECT count(*) FILTER (WHERE status = 'success') AS succeeded FROM medallion_run('par_many_1');
-- (dropped as the ledger is tidied: by the worker recording a run's start,
-- or at the end of a run too short to record one)
DO $$ BEGIN
  FOR i IN 1..200 LOOP
    EXIT WHEN NOT EXISTS (SELECT FROM pg_class WHERE relname = 's_12345'
                            AND relnamespace = 'medallion_build'::regnamespace);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS orphan_left FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relname !~ '^d_';

-- Which models a run gives to workers, and why not the others: what the
-- model is, what it reads, and how long its last build took
SELECT model, materialized, worker, reason FROM medallion_plan('tag:par', threads => 2) ORDER BY step;
RESET medallion.worker_min_ms;
SHOW medallion.worker_min_ms;
-- say every par model's last build took 3 ms: the run builds them all, and
-- starts no worker
UPDATE medallion.run_models SET ms = 3 WHERE model LIKE 'par\_%';
SELECT model, worker, reason
  FROM medallion_plan('tag:par', threads => 2) WHERE materialized = 'table' ORDER BY step;
SELECT count(*) FILTER (WHERE status IN ('success', 'up_to_date')) AS built FROM medallion_run('tag:par', threads => 2);
SELECT count(*) FILTER (WHERE worker) AS by_workers
  FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
-- a small model read by a large one goes to a worker with it: the large
-- one can only read what is committed
UPDATE medallion.run_models SET ms = 3 WHERE model LIKE 'par\_%';
UPDATE medallion.run_models SET ms = 500
 WHERE model = 'par_customer_sales' AND run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT model, worker, reason
  FROM medallion_plan('tag:par', threads => 2) WHERE materialized = 'table' ORDER BY step;
SELECT model, worker, reason FROM medallion_plan('par_customer_sales', threads => 1);
SET medallion.worker_min_ms = 0;

-- Bad input
SELECT * FROM medallion_plan('tag:par', threads => 0);
SELECT * FROM medallion_run('all', threads => 0);
SELECT * FROM medallion_run('all', threads => NULL);
-- with uncommitted changes in the transaction, the run stays serial
BEGIN;
INSERT INTO par_src.orders VALUES (10000, 1, 1, '2026-05-01');
SELECT count(*) AS models FROM medallion_run('par_orders', threads => 4);
SELECT worker FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs);
ROLLBACK;

SELECT count(*) AS dropped FROM (SELECT medallion_drop_model(name) FROM medallion.models
                                  WHERE name LIKE 'par\_many\_%') d;
SELECT * FROM medallion_drop_model('par_customers', cascade => true);
SELECT * FROM medallion_drop_model('par_orders', cascade => true);
SELECT * FROM medallion_drop_model('par_customers_snap');
SELECT count(*) AS models_left FROM medallion.models WHERE name LIKE 'par\_%';
DROP SCHEMA par_src CASCADE;
DROP OWNED BY regress_par_alice, regress_par_bob;
DROP ROLE regress_par_alice, regress_par_bob;
