--
-- Maintained models and the roles around them (issue 31): the delta of a
-- table is copied for a model owner by medallion itself, tuple by tuple:
-- no code of the table's owner (a domain's default or check on a column)
-- runs as anyone, only the columns the model reads are copied, and only
-- when its owner may read them.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE ROLE regress_mts_tab LOGIN;					-- owns the table
CREATE ROLE regress_mts_model LOGIN IN ROLE medallion_admin;	-- owns the model
CREATE SCHEMA mts AUTHORIZATION regress_mts_tab;
GRANT USAGE ON SCHEMA mts TO PUBLIC;
CREATE TABLE mts.ran (who text, superuser boolean);
GRANT INSERT ON mts.ran TO PUBLIC;

SET ROLE regress_mts_tab;
CREATE FUNCTION mts.spy() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mts.ran SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
	RETURN true;
END
$$;
CREATE TABLE mts.sales (id int PRIMARY KEY, region text, amount numeric, secret text);
INSERT INTO mts.sales SELECT i, 'r' || (i % 5), i, 's' || i FROM generate_series(1, 500) i;
GRANT SELECT (id, region, amount) ON mts.sales TO regress_mts_model;
SELECT medallion_track('mts.sales');
RESET ROLE;

SET ROLE regress_mts_model;
SELECT medallion_create_model('mts_by_region',
  'SELECT region, count(*) AS n, sum(amount) AS amount FROM mts.sales GROUP BY region', layer => 'gold');
SELECT model, maintain FROM medallion_plan('mts_by_region');
SELECT model, status FROM medallion_run('mts_by_region');
RESET ROLE;
-- rows of the published table and of its query, each not in the other
CREATE VIEW mts.differing AS SELECT count(*) AS differing FROM (
  (SELECT region, n, amount FROM gold.mts_by_region
   EXCEPT ALL SELECT region, count(*), sum(amount) FROM mts.sales GROUP BY region)
  UNION ALL
  (SELECT region, count(*), sum(amount) FROM mts.sales GROUP BY region
   EXCEPT ALL SELECT region, n, amount FROM gold.mts_by_region)) d;
GRANT SELECT ON mts.differing TO regress_mts_model;

-- the table's owner adds a column of a domain whose check, for anyone
-- else, turns medallion's guard off (only a superuser may) and calls its
-- function: an INSERT of the delta into a table of its shape as the
-- extension owner made the table's owner a superuser
SET ROLE regress_mts_tab;
CREATE DOMAIN mts.trap AS int;
ALTER TABLE mts.sales ADD COLUMN z mts.trap;
ALTER DOMAIN mts.trap ADD CONSTRAINT c CHECK (current_user = 'regress_mts_tab' OR (
  pg_catalog.set_config('medallion.trusted_code_only', 'off', true) IS NOT NULL AND
  pg_catalog.query_to_xml('SELECT mts.spy()', false, false, '') IS NOT NULL));
INSERT INTO mts.sales VALUES (501, 'r1', 10, 'x', NULL);
UPDATE mts.sales SET amount = amount + 1 WHERE id = 2;
RESET ROLE;
SET ROLE regress_mts_model;
SELECT model, status, mhelp.mask(message) AS message FROM medallion_run('mts_by_region');
SELECT differing FROM mts.differing;
RESET ROLE;
-- nothing of the table owner's ran, as anyone
SELECT * FROM mts.ran;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_mts_tab';

-- a model owner who may not make temporary tables (TEMP revoked from
-- PUBLIC): its build's work tables (temporary ones on PostgreSQL 15.20 and
-- later) are made by medallion, and the build is as exact
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;
SET ROLE regress_mts_tab;
UPDATE mts.sales SET amount = amount + 2 WHERE id = 3;
RESET ROLE;
SET ROLE regress_mts_model;
SELECT has_database_privilege(current_database(), 'TEMPORARY') AS may_make_temp_tables;
SELECT model, status, mhelp.mask(message) AS message FROM medallion_run('mts_by_region');
SELECT differing FROM mts.differing;
RESET ROLE;
DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database()); END $$;

-- the model owner loses the right to read a column it reads: the delta is
-- not copied, and the rebuild it falls back to fails as its query would
SET ROLE regress_mts_tab;
REVOKE SELECT (amount) ON mts.sales FROM regress_mts_model;
INSERT INTO mts.sales VALUES (502, 'r2', 10, 'y', NULL);
RESET ROLE;
SET ROLE regress_mts_model;
SELECT model, status, mhelp.mask(message) AS message FROM medallion_run('mts_by_region');
SELECT sum(n) AS published_rows FROM gold.mts_by_region;
RESET ROLE;

DROP VIEW mts.differing;
SET ROLE regress_mts_model;
SELECT medallion_drop_model('mts_by_region');
RESET ROLE;
DROP SCHEMA mts CASCADE;
DROP ROLE regress_mts_model;
DROP ROLE regress_mts_tab;

-- tables whose writes capture cannot see whole are not maintained: a
-- foreign partition (written elsewhere), a child with two parents
SET client_min_messages = warning;
CREATE SCHEMA mtt;
CREATE TABLE mtt.p (k int, v int) PARTITION BY LIST (k);
CREATE TABLE mtt.p1 PARTITION OF mtt.p FOR VALUES IN (1);
CREATE FOREIGN DATA WRAPPER mtt_fdw;
CREATE SERVER mtt_server FOREIGN DATA WRAPPER mtt_fdw;
CREATE FOREIGN TABLE mtt.p2 PARTITION OF mtt.p FOR VALUES IN (2) SERVER mtt_server;
CREATE TABLE mtt.a (k int, v int);
CREATE TABLE mtt.b (k int, v int);
CREATE TABLE mtt.ab () INHERITS (mtt.a, mtt.b);
SELECT medallion_create_model('mtt_p', 'SELECT k, sum(v) AS v FROM mtt.p GROUP BY k', layer => 'gold');
SELECT medallion_create_model('mtt_a', 'SELECT k, sum(v) AS v FROM mtt.a GROUP BY k', layer => 'gold');
SELECT model, maintain FROM medallion_plan('mtt_p mtt_a') ORDER BY model;
SELECT medallion_create_model('mtt_p_inc', 'SELECT k, sum(v) AS v FROM mtt.p GROUP BY k', layer => 'gold',
  maintain => 'incremental');
SELECT count(*) AS logs FROM pg_class WHERE relnamespace = 'medallion_delta'::regnamespace
   AND relname IN ('d' || 'mtt.p'::regclass::oid, 'd' || 'mtt.a'::regclass::oid);
SELECT medallion_drop_model('mtt_p');
SELECT medallion_drop_model('mtt_a');
DROP SCHEMA mtt CASCADE;
DROP SERVER mtt_server;
DROP FOREIGN DATA WRAPPER mtt_fdw;

-- captured columns renamed under the log: two columns of different types
-- swap names (the values of one were written into the other's log column,
-- and the server crashed), then one is renamed away; the table's writers
-- go on, the model is rebuilt whole and equals its query
CREATE SCHEMA mtr;
CREATE TABLE mtr.t (a int, b text, c int);
INSERT INTO mtr.t SELECT i, 'k' || (i % 3), i FROM generate_series(1, 30) i;
SELECT medallion_create_model('mtr_m', 'SELECT b, sum(a) AS s, count(*) AS n FROM mtr.t GROUP BY b', layer => 'gold');
SELECT model, status FROM medallion_run('mtr_m');
ALTER TABLE mtr.t RENAME a TO tmp;
ALTER TABLE mtr.t RENAME b TO a;
ALTER TABLE mtr.t RENAME tmp TO b;
INSERT INTO mtr.t VALUES (31, 'k1', 31);
SELECT model, maintain FROM medallion_plan('mtr_m');
SELECT model, status, mhelp.mask(regexp_replace(message, '(; )?input table .*$', '')) AS message FROM medallion_run('mtr_m');
SELECT count(*) AS differing FROM ((SELECT * FROM gold.mtr_m EXCEPT ALL SELECT a, sum(b), count(*) FROM mtr.t GROUP BY a)
  UNION ALL (SELECT a, sum(b), count(*) FROM mtr.t GROUP BY a EXCEPT ALL SELECT * FROM gold.mtr_m)) d;
ALTER TABLE mtr.t RENAME b TO renamed;
INSERT INTO mtr.t VALUES (32, 'k2', 32);
UPDATE mtr.t SET renamed = renamed + 1 WHERE c = 5;
SELECT model, maintain FROM medallion_plan('mtr_m');
SELECT model, status, mhelp.mask(regexp_replace(message, '(; )?input table .*$', '')) AS message FROM medallion_run('mtr_m');
SELECT count(*) AS differing FROM ((SELECT * FROM gold.mtr_m EXCEPT ALL SELECT a, sum(renamed), count(*) FROM mtr.t GROUP BY a)
  UNION ALL (SELECT a, sum(renamed), count(*) FROM mtr.t GROUP BY a EXCEPT ALL SELECT * FROM gold.mtr_m)) d;
-- and later: the log has no column of the new name, so it gives no delta
-- (rebuilt whole as a model outside the class, until defined again)
INSERT INTO mtr.t VALUES (33, 'k0', 33);
SELECT model, status, mhelp.mask(regexp_replace(message, '(; )?input table .*$', '')) AS message FROM medallion_run('mtr_m');
SELECT count(*) AS differing FROM ((SELECT * FROM gold.mtr_m EXCEPT ALL SELECT a, sum(renamed), count(*) FROM mtr.t GROUP BY a)
  UNION ALL (SELECT a, sum(renamed), count(*) FROM mtr.t GROUP BY a EXCEPT ALL SELECT * FROM gold.mtr_m)) d;
-- a column named as the log's own columns is not captured; w and xid are
CREATE TABLE mtr.u (w int, xid int, v int, medallion_w int);
SELECT medallion_create_model('mtr_w', 'SELECT w, xid, sum(v) AS v FROM mtr.u GROUP BY w, xid', layer => 'gold');
SELECT medallion_create_model('mtr_mw', 'SELECT medallion_w, sum(v) AS v FROM mtr.u GROUP BY medallion_w', layer => 'gold');
SELECT model, maintain FROM medallion_plan('mtr_mw');
SELECT medallion_drop_model('mtr_mw');
SELECT model, maintain FROM medallion_plan('mtr_w');
SELECT medallion_drop_model('mtr_w');
SELECT medallion_drop_model('mtr_m');
DROP SCHEMA mtr CASCADE;

-- a column whose type reaches code of a role that is not a superuser is
-- not captured: its delta log, the extension owner's, would run that code
-- when analyzed (autovacuum's ANALYZE runs as a table's owner: a range's
-- subtype_diff here, which made a medallion_admin a superuser)
CREATE ROLE regress_mts_admin LOGIN IN ROLE medallion_admin;
CREATE SCHEMA mta AUTHORIZATION regress_mts_admin;
SET ROLE regress_mts_admin;
CREATE FUNCTION mta.payload() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE regress_mts_admin SUPERUSER';
  END IF;
END $f$;
CREATE FUNCTION mta.diff(a float8, b float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM mta.payload(); RETURN a - b; END $f$;
CREATE TYPE mta.frange AS RANGE (subtype = float8, subtype_diff = mta.diff);
CREATE TABLE mta.t (id int PRIMARY KEY, r mta.frange, n int);
SELECT medallion_track('mta.t');
SELECT medallion_create_model('mta_range', 'SELECT r, count(*) AS n FROM mta.t GROUP BY r', layer => 'silver');
SELECT model, maintain FROM medallion_plan('mta_range');
\set VERBOSITY default
SELECT medallion_create_model('mta_range_inc', 'SELECT r, count(*) AS n FROM mta.t GROUP BY r',
  layer => 'silver', maintain => 'incremental');
\set VERBOSITY terse
-- a column of a built-in type of the same table is captured
SELECT medallion_create_model('mta_n', 'SELECT n, count(*) AS c FROM mta.t GROUP BY n', layer => 'silver');
SELECT model, maintain FROM medallion_plan('mta_n');
INSERT INTO mta.t SELECT i, mta.frange(i, i + 1), i % 3 FROM generate_series(1, 300) i;
RESET ROLE;
SELECT a.attname AS captured FROM pg_attribute a
 WHERE a.attrelid = ('medallion_delta.d' || 'mta.t'::regclass::oid)::regclass AND a.attnum > 2;
ANALYZE;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_mts_admin';
SET ROLE regress_mts_admin;
SELECT medallion_drop_model('mta_range');
SELECT medallion_drop_model('mta_n');
RESET ROLE;
DROP SCHEMA mta CASCADE;
DROP ROLE regress_mts_admin;

-- medallion.track_deltas given fewer columns than its log has (only a
-- superuser can make such a trigger) fails the statement, and never
-- reads past the columns it was given (it crashed the server)
CREATE TABLE public.mt_few (id int, a text, b text);
SELECT medallion.capture_deltas('public.mt_few', ARRAY['a', 'b']);
DO $$ BEGIN EXECUTE format('CREATE TRIGGER z AFTER INSERT ON public.mt_few REFERENCING NEW TABLE AS n '
  'FOR EACH STATEMENT EXECUTE FUNCTION medallion.track_deltas(%L, %L)',
  ('medallion_delta.d' || 'public.mt_few'::regclass::oid)::regclass::oid::text, 'a'); END $$;
INSERT INTO public.mt_few VALUES (1, 'x', 'y');
DO $$ BEGIN
  EXECUTE format('ALTER EXTENSION medallion DROP TABLE %s; DROP TABLE %1$s',
                 ('medallion_delta.d' || 'public.mt_few'::regclass::oid)::regclass);
END $$;
DROP TABLE public.mt_few;
