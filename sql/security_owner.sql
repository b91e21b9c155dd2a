--
-- Security, round three: no code of another role runs as a model owner
-- (types included), no name another role can take, a model's result does
-- not depend on who runs it, and no caller holds another owner's tables.
--
SET medallion.changed_only = off;
SET medallion.log_timing = off;
-- run numbers depend on the suites before this one: no progress lines
SET client_min_messages = warning;
CREATE ROLE regress_own_alice LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_own_mallory LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_own_tab LOGIN;		-- owns a table, nothing of medallion
CREATE SCHEMA own_src AUTHORIZATION regress_own_tab;
GRANT USAGE ON SCHEMA own_src TO PUBLIC;

-- 1. Failing rows: a table per (model, test) that no other pair can name.
--    "a" + "b__c" and "a__b" + "c" made one name in 0.2.0.
CREATE TABLE own_src.nums (id int);
INSERT INTO own_src.nums VALUES (1), (2), (3);
GRANT SELECT ON own_src.nums TO PUBLIC;
SET ROLE regress_own_mallory;
SELECT medallion_create_model('own_a__b', 'SELECT id FROM own_src.nums', layer => 'silver');
SELECT medallion_add_test('own_a__b', 'expression', expression => 'id < 0', name => 'c',
  severity => 'warn', store_failures => true);
SELECT model, status FROM medallion_run('own_a__b');
RESET ROLE;
SELECT medallion_create_model('own_a', 'SELECT id FROM own_src.nums WHERE id > 1', layer => 'silver');
SELECT medallion_add_test('own_a', 'expression', expression => 'id < 0', name => 'b__c',
  severity => 'warn', store_failures => true);
SELECT model, status FROM medallion_run('own_a');
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner,
       (SELECT count(*) FROM medallion.audit_tables a WHERE a.relid = c.oid) AS recorded
  FROM pg_class c WHERE c.relnamespace = 'medallion_audit'::regnamespace AND c.relname LIKE 'own_a%'
 ORDER BY 1;
SELECT count(*) AS mallory_rows FROM medallion_audit."own_a__b$c";
SELECT count(*) AS own_rows FROM medallion_audit."own_a$b__c";
-- its owner cannot rename it to take another pair's name
SET ROLE regress_own_mallory;
ALTER TABLE medallion_audit."own_a__b$c" RENAME TO "own_a$x";
RESET ROLE;
-- a name longer than PostgreSQL keeps is an md5 of it
SELECT medallion_add_test('own_a', 'expression', expression => 'id < 0',
  name => 'a_test_name_long_enough_that_model_and_test_do_not_fit_in_63',
  severity => 'warn', store_failures => true);
SELECT model, status FROM medallion_run('own_a');
SELECT c.relname ~ '^\$[0-9a-f]{32}$' AS hashed FROM medallion.audit_tables a JOIN pg_class c ON c.oid = a.relid
 WHERE a.test LIKE 'a_test_name_long%';

-- 2. Names starting with pg_ are PostgreSQL's: a model named like another
--    model's transient table (pg_temp_<OID>) is refused.
DO $$
BEGIN
	PERFORM medallion_create_model('pg_temp_' || 'silver.own_a'::regclass::oid, 'SELECT 1 AS one', layer => 'silver');
EXCEPTION WHEN reserved_name THEN
	RAISE WARNING 'refused: %', regexp_replace(SQLERRM, '\d+', 'N');
END $$;
SELECT medallion_create_model('pg_anything', 'SELECT 1 AS one', layer => 'silver');

-- 3. No crash from an OID that names no table; a dropped table neither.
SELECT medallion_track(0::regclass);
CREATE TABLE own_src.gone (id int);
SELECT set_config('own.gone', 'own_src.gone'::regclass::oid::text, false) IS NOT NULL AS noted;
DROP TABLE own_src.gone;
DO $$
BEGIN
	PERFORM medallion_track(current_setting('own.gone')::oid::regclass);
EXCEPTION WHEN undefined_table THEN
	RAISE WARNING 'refused: %', regexp_replace(SQLERRM, '\d+', 'N');
END $$;

-- a temporary table is not tracked (any login could grow the change log)
CREATE TEMP TABLE own_temp (x int);
SELECT medallion_track('own_temp');

-- 4. Code reached through types runs as the model owner: a range type's
--    subtype_diff, a domain's check, owned by a table owner, refused for a
--    superuser's model; reading the other columns is fine.
SET ROLE regress_own_tab;
CREATE FUNCTION own_src.diff(float8, float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS 'SELECT $1 - $2';
CREATE TYPE own_src.frange AS RANGE (subtype = float8, subtype_diff = own_src.diff);
CREATE FUNCTION own_src.ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE DOMAIN own_src.checked AS int CHECK (own_src.ok(VALUE));
CREATE DOMAIN own_src.plain AS int;
CREATE TABLE own_src.typed (id int, r own_src.frange, c own_src.checked, p own_src.plain);
INSERT INTO own_src.typed VALUES (1, '[1,2)', 1, 1);
GRANT SELECT ON own_src.typed TO PUBLIC;
RESET ROLE;
SELECT medallion_create_model('own_range', 'SELECT id, r FROM own_src.typed', layer => 'silver');
SELECT medallion_create_model('own_domain', 'SELECT id, c FROM own_src.typed', layer => 'silver');
SELECT medallion_create_model('own_row', 'SELECT t FROM own_src.typed t', layer => 'silver');
SELECT medallion_create_model('own_plain', 'SELECT id, p FROM own_src.typed', layer => 'silver');
SELECT model, status FROM medallion_run('own_plain');
-- the table owner gives its domain a check later: the next run refuses it
SET ROLE regress_own_tab;
ALTER DOMAIN own_src.plain ADD CONSTRAINT ok CHECK (own_src.ok(VALUE));
RESET ROLE;
SELECT model, status, message FROM medallion_run('own_plain');
-- the model owner's own types are its business
SET ROLE regress_own_tab;
ALTER DOMAIN own_src.plain DROP CONSTRAINT ok;
RESET ROLE;
SELECT model, status FROM medallion_run('own_plain');
-- a cast from a built-in type to a type of its own (any role that owns a
-- type may make one) is not medallion's business: only casts to text and
-- json(b) run in medallion's SQL.  It once stopped every model reading an
-- integer column, of every other owner
SET ROLE regress_own_tab;
CREATE TYPE own_src.box AS (v int);
CREATE FUNCTION own_src.boxed(int) RETURNS own_src.box LANGUAGE sql IMMUTABLE AS 'SELECT ROW($1)::own_src.box';
CREATE CAST (int AS own_src.box) WITH FUNCTION own_src.boxed(int);
-- a cast of its own type to text is checked
CREATE FUNCTION own_src.box_text(own_src.box) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ($1).v::text';
CREATE CAST (own_src.box AS text) WITH FUNCTION own_src.box_text(own_src.box);
CREATE TABLE own_src.boxes (id int, b own_src.box);
GRANT SELECT ON own_src.boxes TO PUBLIC;
RESET ROLE;
SELECT model, status FROM medallion_run('own_plain', changed_only => false);
SELECT medallion_create_model('own_boxes', 'SELECT id, b FROM own_src.boxes', layer => 'silver');
SET ROLE regress_own_tab;
DROP CAST (int AS own_src.box);
DROP CAST (own_src.box AS text);
RESET ROLE;

-- 4b. Code PostgreSQL runs though the query does not name it: the planner
--    folds immutable functions of the index predicates, CHECK constraints
--    and statistics of the tables read.  A function a table owner declares
--    immutable in an index predicate is refused when it would be called as
--    the model owner (at run: the guard checks each function as it is set
--    up to be called), and nothing of it runs.
SET ROLE regress_own_tab;
CREATE TABLE own_src.ran (who text);
GRANT INSERT ON own_src.ran TO PUBLIC;
CREATE FUNCTION own_src.payload() RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO own_src.ran VALUES (current_user); RETURN true; END$$;
CREATE FUNCTION own_src.folded() RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT own_src.payload()$$;
CREATE TABLE own_src.indexed (id int);
INSERT INTO own_src.indexed VALUES (1), (2);
GRANT SELECT ON own_src.indexed TO PUBLIC;
RESET ROLE;
SELECT medallion_create_model('own_indexed', 'SELECT id FROM own_src.indexed WHERE id > 0', layer => 'silver');
SELECT model, status FROM medallion_run('own_indexed');
SET ROLE regress_own_tab;
CREATE INDEX indexed_folded ON own_src.indexed (id) WHERE own_src.folded();
CREATE TABLE own_src.indexed_child (CHECK (own_src.folded())) INHERITS (own_src.indexed);
RESET ROLE;
SET ROLE regress_own_mallory;
SELECT model, status, message FROM medallion_run('own_indexed');
RESET ROLE;
SELECT count(*) AS ran_as_someone_else FROM own_src.ran WHERE who <> 'regress_own_tab';
SET ROLE regress_own_tab;
DROP INDEX own_src.indexed_folded;
DROP TABLE own_src.indexed_child;
RESET ROLE;
SELECT model, status FROM medallion_run('own_indexed');

-- 4c. Another role's foreign table is read with the model owner's user
--    mapping, and its owner decides (its options) what that reads: refused
--    like another role's code.
CREATE EXTENSION postgres_fdw;
CREATE SERVER own_remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
GRANT USAGE ON FOREIGN SERVER own_remote TO regress_own_tab;
SET ROLE regress_own_tab;
CREATE FOREIGN TABLE own_src.remote (id int) SERVER own_remote OPTIONS (table_name 'public_data');
GRANT SELECT ON own_src.remote TO PUBLIC;
RESET ROLE;
SELECT medallion_create_model('own_remote', 'SELECT id FROM own_src.remote', layer => 'silver');
-- nor as a partition or inheritance child added later to a table a model reads
SET ROLE regress_own_tab;
CREATE TABLE own_src.parent (id int);
GRANT SELECT ON own_src.parent TO PUBLIC;
RESET ROLE;
SELECT medallion_create_model('own_parent', 'SELECT count(*) AS n FROM own_src.parent', layer => 'silver');
SET ROLE regress_own_tab;
CREATE FOREIGN TABLE own_src.parent_remote () INHERITS (own_src.parent) SERVER own_remote;
RESET ROLE;
SELECT model, status, message FROM medallion_run('own_parent');
SELECT medallion_drop_model('own_parent');
-- another role's security_invoker view decides what the owner's rights read
SET ROLE regress_own_tab;
CREATE VIEW own_src.invoker WITH (security_invoker = true) AS SELECT 1 AS k;
GRANT SELECT ON own_src.invoker TO PUBLIC;
RESET ROLE;
SELECT medallion_create_model('own_invoker', 'SELECT k FROM own_src.invoker', layer => 'silver');
-- SECURITY DEFINER does not make another role's function trusted (its
-- owner can drop the clause, or RESET ALL, at any moment), nor does a SET
-- clause hide one from the guard at the call
SET ROLE regress_own_tab;
CREATE FUNCTION own_src.definer(int) RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT $1';
CREATE FUNCTION own_src.folded_set() RETURNS boolean LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog
  AS $$BEGIN RETURN own_src.payload(); END$$;
RESET ROLE;
SELECT medallion_create_model('own_definer', 'SELECT own_src.definer(id) AS id FROM own_src.nums', layer => 'silver');
SELECT medallion_create_model('own_indexed2', 'SELECT id FROM own_src.indexed WHERE id > 0', layer => 'silver');
SET ROLE regress_own_tab;
CREATE INDEX indexed_folded_set ON own_src.indexed (id) WHERE own_src.folded_set();
RESET ROLE;
SELECT model, status, regexp_replace(message, ' \(.*', '') AS message FROM medallion_run('own_indexed2');
SELECT count(*) AS ran_as_someone_else FROM own_src.ran WHERE who <> 'regress_own_tab';
SET ROLE regress_own_tab;
DROP INDEX own_src.indexed_folded_set;
RESET ROLE;
SELECT medallion_drop_model('own_indexed2');
DROP EXTENSION postgres_fdw CASCADE;

-- 5. The caller's session settings do not reach the owner's model: the
--    owner's (ALTER ROLE) values apply, whoever runs it.
ALTER ROLE regress_own_alice SET TimeZone = 'UTC';
ALTER ROLE regress_own_alice SET DateStyle = 'ISO, MDY';
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_day', $$SELECT ('2024-01-02 03:00:00+00'::timestamptz)::date AS day,
  ('2024-01-02 03:00:00+00'::timestamptz)::date::text AS day_text,
  current_setting('TimeZone') AS tz, current_setting('search_path') AS path$$, layer => 'silver');
RESET ROLE;
SET TimeZone = 'America/Los_Angeles';
SET DateStyle = 'SQL, DMY';
SET ROLE regress_own_mallory;
SET TimeZone = 'Pacific/Honolulu';
SELECT model, status FROM medallion_run('own_day');
RESET ROLE;
SELECT day::text, day_text, tz, path FROM silver.own_day;
SELECT model, status FROM medallion_run('own_day');
SELECT day::text, day_text, tz FROM silver.own_day;
-- background workers (threads) too: they start with the caller's settings
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_day2', 'SELECT day, day_text, tz FROM own_day', layer => 'silver');
RESET ROLE;
SET medallion.worker_min_ms = 0;
SELECT model, status, message FROM medallion_run('own_day own_day2', threads => 2);
RESET medallion.worker_min_ms;
SELECT worker, count(*) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs) GROUP BY 1;
SELECT day::text, day_text, tz FROM silver.own_day2;
RESET TimeZone;
RESET DateStyle;
-- any other setting the caller changed that can change a result (a
-- plug-in's: plpgsql.check_asserts) has the owner's value too, with
-- threads as without
CREATE SCHEMA own_alice AUTHORIZATION regress_own_alice;
SET ROLE regress_own_alice;
CREATE FUNCTION own_alice.checked(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS $$BEGIN ASSERT i < 100, 'value out of range'; RETURN i; END$$;
SELECT medallion_create_model('own_checked', 'SELECT own_alice.checked(id * 100) AS id FROM own_src.nums',
  layer => 'silver');
SELECT model, status, message FROM medallion_run('own_checked');
RESET ROLE;
SET ROLE regress_own_mallory;
SET plpgsql.check_asserts = off;
SELECT model, status, message FROM medallion_run('own_checked');
SET medallion.worker_min_ms = 0;
SELECT model, status FROM medallion_run('own_checked', threads => 2);
RESET medallion.worker_min_ms;
RESET plpgsql.check_asserts;
RESET ROLE;
SELECT count(*) AS rows_published FROM silver.own_checked;
-- a variable no library defines (set_config of an application's) does
-- not reach the owner's model either
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_tenant', $$SELECT coalesce(current_setting('own_app.tenant', true), 'unset') AS tenant$$,
  layer => 'silver');
RESET ROLE;
SET ROLE regress_own_mallory;
SET own_app.tenant = '7';
SELECT model, status FROM medallion_run('own_tenant');
RESET own_app.tenant;
RESET ROLE;
SELECT tenant = '7' AS callers_value FROM silver.own_tenant;

-- 6. medallion.keep_previous of a caller who does not act for the owner
--    does not drop the owner's previous version.
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_kept', 'SELECT id FROM own_src.nums', layer => 'silver');
SELECT model, status FROM medallion_run('own_kept');
RESET ROLE;
SET ROLE regress_own_mallory;
SET medallion.keep_previous = off;
SELECT model, status FROM medallion_run('own_kept');
RESET medallion.keep_previous;
RESET ROLE;
SELECT count(*) AS previous_kept FROM medallion_history.own_kept;
-- a previous version that is not the owner's is never rolled back to
ALTER TABLE medallion_history.own_kept OWNER TO regress_own_mallory;
SET ROLE regress_own_alice;
SELECT medallion_rollback('own_kept');
RESET ROLE;
ALTER TABLE medallion_history.own_kept OWNER TO regress_own_alice;

-- 6b. A grant the owner (not a superuser) gave on its history copy is
--    taken back when its grantee may no longer read the table, and the
--    statement that fired it goes through (PostgreSQL 15 refuses REVOKE
--    ... GRANTED BY another role; every GRANT, REVOKE and ALTER TABLE of
--    the database failed once such a grant was left).
CREATE ROLE regress_own_bi;
GRANT USAGE ON SCHEMA silver, medallion_history TO regress_own_bi;
SET ROLE regress_own_alice;
GRANT SELECT ON silver.own_kept, medallion_history.own_kept TO regress_own_bi;
REVOKE SELECT ON silver.own_kept FROM regress_own_bi;
RESET ROLE;
SELECT has_table_privilege('regress_own_bi', 'medallion_history.own_kept', 'SELECT') AS bi_reads_history;
SET ROLE regress_own_tab;
ALTER TABLE own_src.ran ADD COLUMN extra int;
RESET ROLE;

-- 6c. What an owner's reads found (the largest watermark) is its own
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_inc', 'SELECT id FROM own_src.nums', layer => 'silver',
  materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'id');
SELECT model, status FROM medallion_run('own_inc');
SELECT count(*) AS alice_sees FROM medallion.model_state WHERE model = 'own_inc';
RESET ROLE;
SET ROLE regress_own_mallory;
SELECT count(*) AS mallory_sees FROM medallion.model_state WHERE model = 'own_inc';
RESET ROLE;

-- 7. A run of another owner's models is its own transaction.
SET ROLE regress_own_mallory;
BEGIN;
SELECT model, status FROM medallion_run('own_kept');
ROLLBACK;
BEGIN;
SELECT model, status FROM medallion_run('own_a__b');	-- its own: fine
COMMIT;
-- a statement that goes on after a run of one's own models is its own
-- business (one that holds another owner's: test/t/011_owner_scope.pl)
SELECT (SELECT count(*) FROM medallion_run('own_a__b')) AS runs, pg_sleep(2.5) IS NOT NULL AS own_may_wait;
RESET ROLE;
-- a superuser acts for every owner
BEGIN;
SELECT model, status FROM medallion_run('own_kept');
COMMIT;
-- testing another owner's models locks their relations too: not inside a
-- transaction block either (a savepoint in one is no way out); a plan
-- there does not check them
SET ROLE regress_own_mallory;
BEGIN;
SELECT test, status FROM medallion_test('own_kept');
ROLLBACK;
BEGIN;
SELECT model, build, why FROM medallion_plan('own_kept');	-- says what, not whether
SELECT count(*) AS binding_locks FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'own_kept';
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT model, status FROM medallion_run('own_kept');
ROLLBACK;
BEGIN;
SELECT medallion.note_outside_block() AS outside;		-- says no inside a block
SAVEPOINT s;
SELECT model, status FROM medallion_run('own_kept');
ROLLBACK;
-- ... and on their own they are fine, also in an exception block of a
-- statement that said it is outside one (medallion_run_scheduled)
SELECT count(*) >= 0 AS tested FROM medallion_test('own_kept');
SELECT count(*) AS planned FROM medallion_plan('own_kept');
DO $$
BEGIN
	PERFORM medallion.note_outside_block();
	BEGIN
		PERFORM count(*) FROM medallion_run('own_kept', changed_only => false);
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'refused: %', SQLERRM;
	END;
END $$;
-- (a schedule of another owner's models: test/t/004_schedule.pl)
RESET ROLE;

-- 7b. What a step's error or a test says may quote the owner's data: a
--    caller who does not act for the owner sees its SQLSTATE, and no admin
--    reads those columns of the ledger but through medallion.run_messages,
--    for the owners it acts for.
SET ROLE regress_own_tab;
CREATE TABLE own_src.cards (card text);
INSERT INTO own_src.cards VALUES ('4111-1111');
GRANT SELECT ON own_src.cards TO regress_own_alice;
RESET ROLE;
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_cards', 'SELECT card::int AS n FROM own_src.cards', layer => 'silver');
SELECT model, status, message FROM medallion_run('own_cards');
RESET ROLE;
SET ROLE regress_own_mallory;
SELECT model, status, message FROM medallion_run('own_cards');
SELECT message FROM medallion.run_models WHERE model = 'own_cards';
SELECT count(*) AS steps, count(sqlstate) AS with_sqlstate FROM medallion.run_models WHERE model = 'own_cards';
SELECT count(*) AS mallory_reads FROM medallion.run_messages WHERE model = 'own_cards';
SELECT last_status, last_message FROM medallion.status WHERE model = 'own_cards';
RESET ROLE;
SET ROLE regress_own_alice;
SELECT status, sqlstate, message FROM medallion.run_messages WHERE model = 'own_cards' ORDER BY run_id;
SELECT last_message FROM medallion.status WHERE model = 'own_cards';
SELECT medallion_drop_model('own_cards');
RESET ROLE;

-- 7c. A failing test's messages show a few failing rows, read as the owner:
--     they are the owner's data, shown by the same rules as 7b.
SET ROLE regress_own_tab;
CREATE TABLE own_src.vips (id int, tier text);
INSERT INTO own_src.vips VALUES (1, 'gold'), (2, 'tier-secret-42'), (3, 'silver');
GRANT SELECT ON own_src.vips TO regress_own_alice;
RESET ROLE;
SET ROLE regress_own_alice;
SELECT medallion_create_model('own_vips', 'SELECT id, tier FROM own_src.vips', layer => 'silver');
SELECT model, status FROM medallion_run('own_vips');
SELECT medallion_add_test('own_vips', 'accepted_values', column_name => 'tier', accepted => ARRAY['gold', 'silver']);
SELECT medallion_add_test('own_vips', 'accepted_values', column_name => 'tier', accepted => ARRAY['gold'],
                          severity => 'warn', name => 'only_gold');
-- the owner sees them, in the step's message, the test lines and medallion_test
SET client_min_messages = notice;
SET medallion.log_timing = off;
SELECT model, status, message FROM medallion_run('own_vips');
SELECT test, status, failures, message FROM medallion_test('own_vips') ORDER BY test;
RESET ROLE;
-- an admin who does not act for the owner sees counts, never the rows
SET ROLE regress_own_mallory;
SELECT model, status, message FROM medallion_run('own_vips');
SELECT test, status, failures, message FROM medallion_test('own_vips') ORDER BY test;
SELECT count(*) AS mallory_reads FROM medallion.run_messages WHERE model = 'own_vips';
SELECT message FROM medallion.test_results WHERE model = 'own_vips';
SELECT message FROM medallion.run_models WHERE model = 'own_vips';
SELECT last_message FROM medallion.status WHERE model = 'own_vips';
SELECT count(*) FILTER (WHERE message LIKE '%tier-secret%') AS leaked FROM medallion.run_messages;
RESET client_min_messages;
RESET medallion.log_timing;
RESET ROLE;
SET ROLE regress_own_alice;
SELECT DISTINCT test, message FROM medallion.run_messages
 WHERE model = 'own_vips' AND test IS NOT NULL ORDER BY test;
SELECT medallion_drop_model('own_vips');
RESET ROLE;

-- 8. Names are escaped in every drawing of the graph.
CREATE TABLE own_src."a<b>&c""#d`e" (id int);
SELECT medallion_create_model('own_markup', 'SELECT id FROM own_src."a<b>&c""#d`e"', layer => 'silver');
SELECT medallion_graph('own_markup', 'mermaid') AS mermaid;
SELECT medallion_graph('own_markup', 'dot') AS dot;
SELECT position('<b>' IN medallion_graph('own_markup', 'svg')) = 0 AS svg_escaped;

-- leave nothing for the suites after this one
SELECT medallion_drop_model(name) FROM medallion.models WHERE name LIKE 'own\_%' ORDER BY name DESC;
