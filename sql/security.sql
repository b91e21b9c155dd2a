--
-- Security: who may define models, and model SQL running as its owner
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
CREATE ROLE regress_med_alice LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_med_bob LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_med_eve LOGIN;
CREATE SCHEMA secsrc;
CREATE TABLE secsrc.public_data (id int, label text);
CREATE TABLE secsrc.secret (id int, salary numeric);
CREATE TABLE secsrc.partial (id int, hidden text);
GRANT USAGE ON SCHEMA secsrc TO regress_med_alice, regress_med_bob;
GRANT SELECT ON secsrc.public_data TO regress_med_alice, regress_med_bob;
GRANT SELECT (id) ON secsrc.partial TO regress_med_alice;

-- Only medallion_admin members may call the API
SET ROLE regress_med_eve;
SELECT medallion_create_model('sec_x', 'SELECT 1 AS one', layer => 'silver');
SELECT * FROM medallion_plan('all');
-- nor write the catalog directly
INSERT INTO medallion.models (name, layer, materialized, sql, owner, search_path, sql_hash)
VALUES ('sec_x', 'silver', 'table', 'SELECT 1', 'regress_med_eve', 'public', 'x');
RESET ROLE;

-- Admins read the catalog but cannot write it by hand either
SET ROLE regress_med_alice;
SELECT count(*) >= 0 AS can_read FROM medallion.models;
DELETE FROM medallion.models;
RESET ROLE;

-- A model is owned by the role that defines it, and so is its relation
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_public', $$SELECT id, label FROM secsrc.public_data$$, layer => 'silver');
RESET ROLE;
SELECT owner FROM medallion.models WHERE name = 'sec_public';
SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'silver.sec_public'::regclass;

-- Its owner must be able to read everything the model reads: checked with
-- the owner's privileges, columns included
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_secret', $$SELECT id, salary FROM secsrc.secret$$, layer => 'silver');
SELECT medallion_create_model('sec_partial', $$SELECT id FROM secsrc.partial$$, layer => 'silver');
SELECT medallion_create_model('sec_partial2', $$SELECT id, hidden FROM secsrc.partial$$, layer => 'silver');
SELECT medallion_create_model('sec_partial3', $$SELECT p.id FROM secsrc.partial p WHERE p.hidden IS NOT NULL$$, layer => 'silver');
RESET ROLE;

-- Another admin may not change or drop alice's model
SET ROLE regress_med_bob;
SELECT medallion_create_model('sec_public', $$SELECT id FROM secsrc.public_data$$);
SELECT * FROM medallion_drop_model('sec_public');
RESET ROLE;

-- A superuser may redefine it, but the SQL is still checked as alice:
-- even a superuser cannot make alice's model read what alice cannot
SELECT medallion_create_model('sec_public', $$SELECT p.id, s.salary FROM secsrc.public_data p JOIN secsrc.secret s USING (id)$$);
SELECT medallion_create_model('sec_public', $$SELECT id, upper(label) AS label FROM secsrc.public_data$$);
SELECT owner, version FROM medallion.models WHERE name = 'sec_public';

-- A reader of gold cannot define anything
SET ROLE medallion_reader;
SELECT medallion_create_model('sec_y', 'SELECT 1 AS one', layer => 'gold');
RESET ROLE;

-- ---------------------------------------------------------------------
-- A model means what it meant when it was defined.  The reproductions
-- below are an admin (alice, not a superuser) attacking a superuser's
-- models; each must fail safely.
-- ---------------------------------------------------------------------
SET medallion.log_timing = off;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
CREATE TABLE secsrc.people (customer_id int, lname varchar(20));
INSERT INTO secsrc.people VALUES (1, 'SMITH'), (2, 'JONES');
GRANT SELECT ON secsrc.people TO regress_med_alice;
-- what an attacker's code would do if it ever ran as the superuser
CREATE TABLE secsrc.pwned (who text, at timestamptz DEFAULT now());
GRANT INSERT ON secsrc.pwned TO PUBLIC;
SELECT medallion_create_model('slvr_x', $$SELECT customer_id, lname FROM secsrc.people$$,
  layer => 'silver');
SELECT medallion_create_model('gld_x', $$SELECT customer_id, lower(lname) AS lname FROM slvr_x$$,
  layer => 'gold');
SELECT model, status FROM medallion_run('+gld_x');
-- the binding: a view owned by the model owner, its names resolved
SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'medallion_bind.gld_x'::regclass;
SELECT pg_get_viewdef('medallion_bind.gld_x'::regclass);
-- pg_temp is never on a stored path, and is searched last
SET search_path = pg_temp, public;
SELECT medallion_create_model('sec_path', 'SELECT 1 AS one', layer => 'silver');
SELECT search_path FROM medallion.models WHERE name = 'sec_path';
RESET search_path;
SELECT * FROM medallion_drop_model('sec_path');

-- 1. A function with a better-matching signature in a schema on the path.
--    Admins cannot create in the layer schemas any more...
SET ROLE regress_med_alice;
CREATE FUNCTION bronze.lower(varchar) RETURNS text LANGUAGE sql AS $$SELECT 'pwned'$$;
CREATE VIEW bronze.slvr_x AS SELECT 1 AS customer_id, 'x'::varchar AS lname;
CREATE TABLE medallion_audit.scratch (id int);
CREATE TABLE medallion_bind.gld_y (id int);
RESET ROLE;
--    ... and where an attacker can (a careless GRANT on public, first on
--    the path), what the model names was bound when it was defined.
GRANT CREATE ON SCHEMA public TO regress_med_alice;
SET ROLE regress_med_alice;
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql
  AS $$INSERT INTO secsrc.pwned (who) VALUES (current_user) RETURNING 'pwned'$$;
-- 2. A view named like the model it reads, earlier on the path.
CREATE FUNCTION public.evil() RETURNS text LANGUAGE sql
  AS $$INSERT INTO secsrc.pwned (who) VALUES (current_user) RETURNING 'evil'$$;
CREATE VIEW public.slvr_x AS SELECT 1 AS customer_id, public.evil()::varchar AS lname;
RESET ROLE;
SELECT model, status FROM medallion_run('+gld_x');
SELECT * FROM gold.gld_x ORDER BY customer_id;
-- 3. A temporary view of the session that runs the model (see also the
--    isolation spec sec_temp_view).
SET ROLE regress_med_alice;
CREATE TEMP VIEW slvr_x AS SELECT 1 AS customer_id, public.evil()::varchar AS lname;
CREATE FUNCTION pg_temp.lower(varchar) RETURNS text LANGUAGE sql AS $$SELECT 'pwned'$$;
SELECT model, status FROM medallion_run('gld_x');
RESET ROLE;
SELECT * FROM gold.gld_x ORDER BY customer_id;
SELECT count(*) AS attacker_code_ran FROM secsrc.pwned;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_med_alice';
-- the owner binding again on purpose resolves names as they are now:
-- public.slvr_x and public.lower, first on the path, would be what the
-- model means; but their code is alice's, so the binding is refused
SELECT medallion_reanalyze('gld_x');
SELECT dep_schema, dep_name, kind FROM medallion.model_dependencies WHERE model = 'gld_x' ORDER BY 1, 2;
DROP VIEW pg_temp.slvr_x;
DROP FUNCTION pg_temp.lower(varchar);
DROP VIEW public.slvr_x;
DROP FUNCTION public.lower(varchar), public.evil();
REVOKE CREATE ON SCHEMA public FROM regress_med_alice;

-- what a binding reads cannot be dropped from under it, unless with
-- CASCADE: the model is then unbound, its runs fail saying so, until its
-- owner binds it again
CREATE VIEW secsrc.v_people AS SELECT customer_id, lname FROM secsrc.people;
SELECT medallion_create_model('sec_unbound', 'SELECT customer_id FROM secsrc.v_people', layer => 'silver');
DROP VIEW secsrc.v_people;
DROP VIEW secsrc.v_people CASCADE;
SELECT model, status, message FROM medallion_run('sec_unbound');
CREATE VIEW secsrc.v_people AS SELECT customer_id, lname FROM secsrc.people;
SELECT medallion_reanalyze('sec_unbound');
SELECT model, status FROM medallion_run('sec_unbound');
SELECT * FROM medallion_drop_model('sec_unbound');

-- a model is never bound to a temporary object, which would take the
-- model's relations with it when its session ends
SET ROLE regress_med_alice;
CREATE TEMP TABLE tmp_people AS SELECT * FROM secsrc.people;
SELECT medallion_create_model('sec_tmp', 'SELECT * FROM pg_temp.tmp_people', layer => 'bronze');
CREATE FUNCTION pg_temp.up(text) RETURNS text LANGUAGE sql AS $$SELECT upper($1)$$;
SELECT medallion_create_model('sec_tmp', 'SELECT pg_temp.up(lname) AS l FROM secsrc.people', layer => 'bronze');
DROP TABLE pg_temp.tmp_people;
DROP FUNCTION pg_temp.up(text);
RESET ROLE;

-- 8. Code another role can change never runs as a model's owner: not in a
--    view model it reads, redefined after the model was bound...
CREATE SCHEMA alice_code AUTHORIZATION regress_med_alice;
SET ROLE regress_med_alice;
CREATE FUNCTION alice_code.pwn() RETURNS boolean LANGUAGE sql
  AS $$INSERT INTO secsrc.pwned (who) VALUES (current_user) RETURNING true$$;
SELECT medallion_create_model('sec_alice_v', 'SELECT customer_id, lname FROM secsrc.people', layer => 'bronze');
RESET ROLE;
SELECT medallion_create_model('sec_su_m', 'SELECT customer_id FROM sec_alice_v', layer => 'gold');
SELECT model, status FROM medallion_run('sec_su_m');
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_alice_v', 'SELECT customer_id, lname FROM secsrc.people WHERE alice_code.pwn()',
  layer => 'bronze');
RESET ROLE;
SELECT model, status, message FROM medallion_run('sec_su_m');
--    ... nor in a row-level security policy of a table it reads
SET ROLE regress_med_alice;
CREATE TABLE alice_code.accounts (id int);
INSERT INTO alice_code.accounts VALUES (1);
ALTER TABLE alice_code.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone ON alice_code.accounts USING (alice_code.pwn());
GRANT USAGE ON SCHEMA alice_code TO regress_med_bob;
GRANT SELECT ON alice_code.accounts TO regress_med_bob;
RESET ROLE;
SET ROLE regress_med_bob;
SELECT medallion_create_model('sec_bob_acc', 'SELECT id FROM alice_code.accounts', layer => 'silver');
RESET ROLE;
SELECT count(*) AS attacker_code_ran FROM secsrc.pwned;
SELECT * FROM medallion_drop_model('sec_su_m');
SET ROLE regress_med_alice;
SELECT * FROM medallion_drop_model('sec_alice_v');
RESET ROLE;
DROP SCHEMA alice_code CASCADE;

-- 4. Sources have owners: another admin cannot change or drop them.
CREATE SCHEMA secbob;
CREATE TABLE secbob.t (id int);
GRANT USAGE ON SCHEMA secbob TO regress_med_bob;
SET ROLE regress_med_bob;
SELECT medallion_create_source('bob_src', 'secbob', tables => ARRAY['t']);
RESET ROLE;
SELECT name, owner FROM medallion.sources WHERE name = 'bob_src';
SET ROLE regress_med_alice;
SELECT medallion.source_write('delete', 'bob_src');
SELECT medallion.source_write('upsert', 'bob_src', 'local', local_schema => 'secsrc');
SELECT medallion_drop_source('bob_src');
SELECT medallion_create_source('bob_src', 'secsrc');
-- nor store credentials, through the helper either
SELECT medallion.source_write('upsert', 'alice_src', 'local', local_schema => 'secsrc',
  options => '{"password": "hunter2"}');
RESET ROLE;
SELECT name, owner, local_schema FROM medallion.sources WHERE name LIKE '%\_src' ORDER BY 1;
SET ROLE regress_med_bob;
SELECT medallion_drop_source('bob_src');
RESET ROLE;
DROP SCHEMA secbob CASCADE;
-- schedules too: only their owner records an outcome or drops them
INSERT INTO medallion.schedules (name, selector, cron, owner)
VALUES ('sec_nightly', 'all', '0 1 * * *', 'regress_med_bob');
SET ROLE regress_med_alice;
SELECT medallion.schedule_write('outcome', 'sec_nightly', last_status => 'success');
SELECT medallion.schedule_write('delete', 'sec_nightly');
RESET ROLE;
SELECT name, owner, last_status FROM medallion.schedules;
DELETE FROM medallion.schedules WHERE name = 'sec_nightly';

-- 5. The previous version of a table with row-level security is as
--    private as the table; so are stored failing rows.
CREATE ROLE regress_med_reader;
ALTER TABLE gold.gld_x ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON gold.gld_x FOR SELECT TO regress_med_reader USING (customer_id = 1);
GRANT USAGE ON SCHEMA gold, medallion_history, medallion_audit TO regress_med_reader;
GRANT SELECT ON gold.gld_x TO regress_med_reader;
SELECT medallion_add_test('gld_x', 'accepted_values', column_name => 'lname',
  accepted => ARRAY['smith'], severity => 'warn', store_failures => true);
SELECT model, status FROM medallion_run('gld_x');
SET ROLE regress_med_reader;
SELECT count(*) AS rows_seen FROM gold.gld_x;
SELECT count(*) FROM medallion_history.gld_x;
SELECT count(*) FROM medallion_audit."gld_x$accepted_values_lname";
RESET ROLE;
SELECT count(*) AS failing_rows_kept FROM medallion_audit."gld_x$accepted_values_lname";
SELECT pg_get_userbyid(relowner) AS audit_owner FROM pg_class
 WHERE oid = 'medallion_audit."gld_x$accepted_values_lname"'::regclass;

-- 5b. Private copies follow the table's current grants: the previous
--     version is its owner's only (not the grants the table had when it
--     was copied); grants the owner gives it and the stored failing rows
--     last only while the table allows them (a later REVOKE or row-level
--     security takes them back); a rollback publishes the old rows under
--     the table's grants and keeps the newer ones private.
SELECT medallion_create_model('sec_hist', $$SELECT customer_id, lower(lname) AS lname FROM slvr_x$$,
  layer => 'gold');
SELECT medallion_add_test('sec_hist', 'accepted_values', column_name => 'lname',
  accepted => ARRAY['smith'], severity => 'warn', store_failures => true);
GRANT SELECT ON gold.sec_hist TO regress_med_reader;
SELECT model, status FROM medallion_run('sec_hist');
SELECT model, status FROM medallion_run('sec_hist');
SET ROLE regress_med_reader;
SELECT count(*) FROM medallion_history.sec_hist;
RESET ROLE;
GRANT SELECT ON medallion_history.sec_hist, medallion_audit."sec_hist$accepted_values_lname" TO regress_med_reader;
SET ROLE regress_med_reader;
SELECT count(*) AS history_rows FROM medallion_history.sec_hist;
SELECT count(*) AS failing_rows FROM medallion_audit."sec_hist$accepted_values_lname";
RESET ROLE;
REVOKE SELECT ON gold.sec_hist FROM regress_med_reader;
SET ROLE regress_med_reader;
SELECT count(*) FROM medallion_history.sec_hist;
SELECT count(*) FROM medallion_audit."sec_hist$accepted_values_lname";
RESET ROLE;
GRANT SELECT ON gold.sec_hist, medallion_history.sec_hist,
  medallion_audit."sec_hist$accepted_values_lname" TO regress_med_reader;
ALTER TABLE gold.sec_hist ENABLE ROW LEVEL SECURITY;
CREATE POLICY none_for_reader ON gold.sec_hist FOR SELECT TO regress_med_reader USING (false);
SELECT c.relname, c.relacl IS NOT NULL AND c.relacl::text LIKE '%regress_med_reader%' AS reader_granted
  FROM pg_class c WHERE c.oid IN ('gold.sec_hist'::regclass, 'medallion_history.sec_hist'::regclass,
                                  'medallion_audit."sec_hist$accepted_values_lname"'::regclass)
 ORDER BY 1;
SELECT medallion_rollback('sec_hist');
SET ROLE regress_med_reader;
SELECT count(*) AS rows_seen FROM gold.sec_hist;
SELECT count(*) FROM medallion_history.sec_hist;
RESET ROLE;
SELECT * FROM medallion_drop_model('sec_hist');

-- 6. Schedules work for admins: what pg_cron needs is read for them
SET ROLE regress_med_alice;
SELECT medallion.cron_database() IS NOT NULL AS knows_cron_database;
RESET ROLE;

-- 7. Settings are range-checked when they are stored
SELECT medallion_create_model('sec_bad', 'SELECT 1 AS one', layer => 'silver',
  statement_timeout => '-1 hour');
SELECT medallion_create_model('sec_bad', 'SELECT 1 AS one', layer => 'silver',
  statement_timeout => '0');
SELECT medallion_create_model('sec_bad', 'SELECT 1 AS t', layer => 'silver',
  materialized => 'incremental', watermark => 't', lookback => '-1 day');
SELECT medallion_create_model('sec_bad', 'SELECT 1 AS one', layer => 'silver',
  materialized => 'incremental', full_refresh_threshold => 1.5);
SELECT medallion_create_source('sec_bad', 'secsrc', options => '{"retries": 1e9}');
SELECT medallion_create_source('sec_bad', 'secsrc', options => '{"retries": 2.5}');
SELECT medallion_create_source('sec_bad', 'secsrc', options => '{"retry_delay": "-5 s"}');
SELECT medallion_create_source('sec_bad', 'secsrc', options => '{"batch_size": 0}');
SELECT medallion_add_test('slvr_x', 'freshness', column_name => 'customer_id', max_age => '-1 day');
SELECT count(*) AS stored FROM medallion.models WHERE name = 'sec_bad';
SELECT count(*) AS stored FROM medallion.sources WHERE name = 'sec_bad';

-- Upstream row-level security applies to the model as its owner
CREATE TABLE secsrc.accounts (id int, region text);
INSERT INTO secsrc.accounts VALUES (1, 'eu'), (2, 'us'), (3, 'eu');
ALTER TABLE secsrc.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY eu_only ON secsrc.accounts FOR SELECT TO regress_med_alice USING (region = 'eu');
GRANT SELECT ON secsrc.accounts TO regress_med_alice;
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_accounts', $$SELECT id, region FROM secsrc.accounts$$, layer => 'silver');
RESET ROLE;
SELECT model, status, rows FROM medallion_run('sec_accounts');
SELECT * FROM silver.sec_accounts ORDER BY id;

-- A table rebuilt in the run is read downstream through its candidate,
-- which has the table's row-level security too
SELECT medallion_create_model('sec_rls_t', $$SELECT id, region FROM secsrc.accounts$$, layer => 'silver');
SELECT count(*) FROM medallion_run('sec_rls_t');
ALTER TABLE silver.sec_rls_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY bob_us ON silver.sec_rls_t FOR SELECT TO regress_med_bob USING (region = 'us');
GRANT SELECT ON silver.sec_rls_t TO regress_med_bob;
SET ROLE regress_med_bob;
SELECT medallion_create_model('sec_bob_rls', 'SELECT id, region FROM sec_rls_t', layer => 'gold');
SELECT medallion_add_test('sec_bob_rls', 'relationships', column_name => 'id', to_model => 'sec_rls_t',
  to_column => 'id');
RESET ROLE;
SELECT model, status, rows FROM medallion_run('+sec_bob_rls');
SELECT * FROM gold.sec_bob_rls;
SELECT * FROM medallion_drop_model('sec_rls_t', cascade => true);
-- a test of bob's references alice's model: she cannot drop it from under him
SET ROLE regress_med_alice;
SELECT medallion_create_model('sec_alice_dim', 'SELECT customer_id FROM secsrc.people', layer => 'silver');
GRANT SELECT ON silver.sec_alice_dim TO regress_med_bob;
RESET ROLE;
SET ROLE regress_med_bob;
SELECT medallion_create_model('sec_bob_fact', 'SELECT id AS customer_id FROM secsrc.public_data', layer => 'gold');
SELECT medallion_add_test('sec_bob_fact', 'relationships', column_name => 'customer_id',
  to_model => 'sec_alice_dim', to_column => 'customer_id', name => 'known_customer');
RESET ROLE;
SET ROLE regress_med_alice;
SELECT * FROM medallion_drop_model('sec_alice_dim');
RESET ROLE;
SET ROLE regress_med_bob;
SELECT medallion_drop_test('sec_bob_fact', 'known_customer');
SELECT * FROM medallion_drop_model('sec_bob_fact');
RESET ROLE;
SET ROLE regress_med_alice;
SELECT * FROM medallion_drop_model('sec_alice_dim');
RESET ROLE;

-- An upstream change that breaks a binding: a view model redefined with
-- a column of another type is made again (with its grants) and the
-- bindings reading it are bound again at once, by a caller acting for
-- their owner (sql/schema_change.sql: one who does not is refused).
SELECT medallion_create_model('sec_v', 'SELECT id, region FROM secsrc.accounts', layer => 'bronze');
GRANT SELECT ON secsrc.accounts TO regress_med_bob;
GRANT SELECT ON bronze.sec_v TO regress_med_bob;
SET ROLE regress_med_bob;
SELECT medallion_create_model('sec_bob', 'SELECT id FROM sec_v', layer => 'gold');
RESET ROLE;
SELECT medallion_create_model('sec_v', 'SELECT id, region::varchar AS region FROM secsrc.accounts', layer => 'bronze');
SELECT has_table_privilege('regress_med_bob', 'bronze.sec_v', 'SELECT') AS grant_kept;
SELECT model, status, message FROM medallion_run('sec_bob');
-- its owner may bind it again at any time, with the same result
SET ROLE regress_med_bob;
SELECT medallion_reanalyze('sec_bob');
RESET ROLE;
SELECT model, status FROM medallion_run('sec_bob');
SET ROLE regress_med_bob;
SELECT * FROM medallion_drop_model('sec_bob');
RESET ROLE;
SELECT * FROM medallion_drop_model('sec_v');

SET ROLE regress_med_alice;
SELECT * FROM medallion_drop_model('sec_accounts');
RESET ROLE;
SELECT * FROM medallion_drop_model('slvr_x', cascade => true);
REVOKE USAGE ON SCHEMA gold, medallion_history, medallion_audit FROM regress_med_reader;
DROP ROLE regress_med_reader;

SET ROLE regress_med_alice;
SELECT * FROM medallion_drop_model('sec_partial');
SELECT * FROM medallion_drop_model('sec_public');
RESET ROLE;
SELECT count(*) AS models_left FROM medallion.models WHERE name LIKE 'sec\_%';
DROP SCHEMA secsrc CASCADE;
DROP ROLE regress_med_alice, regress_med_bob, regress_med_eve;
