--
-- Column changes in every materialization (issue 28): table models take the
-- new columns at their next build; incremental models follow
-- on_schema_change, and a full refresh takes the new columns; snapshot
-- models add columns and keep history; view models keep their columns in
-- place and bind their readers again in the same transaction.
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;
SET client_min_messages = warning;
CREATE SCHEMA scsrc;
CREATE TABLE scsrc.items (id int, label text, price numeric, weight int);
INSERT INTO scsrc.items VALUES (1, 'a', 1.5, 10), (2, 'b', 2.5, 20);
CREATE ROLE regress_sc_bi;
CREATE ROLE regress_sc_other LOGIN IN ROLE medallion_admin;
GRANT USAGE ON SCHEMA scsrc TO regress_sc_other;
GRANT SELECT ON scsrc.items TO regress_sc_other;

-- ---------------------------------------------------------------------
-- A table model is rebuilt whole: its next run publishes the new shape,
-- whatever on_schema_change says, keeping the table's OID, grants,
-- comments and the users' views that read columns that stay.
-- ---------------------------------------------------------------------
SELECT medallion_create_model('sc_items', $$SELECT id, label, price FROM scsrc.items$$, layer => 'gold');
SELECT status, rows FROM medallion_run('sc_items');
CREATE VIEW scsrc.bi_labels AS SELECT id, label FROM gold.sc_items;
GRANT SELECT ON gold.sc_items TO regress_sc_bi;
COMMENT ON TABLE gold.sc_items IS 'kept by a user';
CREATE TEMP TABLE oids AS SELECT 'gold.sc_items'::regclass::oid AS oid;

-- a column added in the middle
SELECT medallion_create_model('sc_items', $$SELECT id, weight, label, price FROM scsrc.items$$);
SELECT status, message FROM medallion_run('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
-- a column removed and one retyped
SELECT medallion_create_model('sc_items', $$SELECT id, weight::numeric AS weight, label FROM scsrc.items$$);
SELECT status, message FROM medallion_run('sc_items');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'gold.sc_items'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT * FROM gold.sc_items ORDER BY id;
SELECT * FROM scsrc.bi_labels ORDER BY id;
-- each publish swaps the table's storage with its previous version's:
-- their toast tables keep PostgreSQL's names (pg_toast_<OID of the
-- table>), so rewriting the table (VACUUM FULL, CLUSTER, ALTER ... TYPE)
-- does not collide with the previous version's
SELECT c.reltoastrelid::regclass::text = 'pg_toast.pg_toast_' || c.oid AS toast_named,
       h.reltoastrelid::regclass::text = 'pg_toast.pg_toast_' || h.oid AS previous_toast_named
  FROM pg_class c, pg_class h
 WHERE c.oid = 'gold.sc_items'::regclass AND h.oid = 'medallion_history.sc_items'::regclass;
VACUUM FULL gold.sc_items;
SELECT 'gold.sc_items'::regclass::oid = oid AS same_oid,
       has_table_privilege('regress_sc_bi', 'gold.sc_items', 'SELECT') AS grant_kept,
       obj_description('gold.sc_items'::regclass, 'pg_class') AS comment
  FROM oids;
-- a user's view on a column that goes is in the way: the error names it,
-- the model fails and what is published stays
SELECT medallion_create_model('sc_items', $$SELECT id, weight::numeric AS weight FROM scsrc.items$$);
SELECT status, message FROM medallion_run('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
-- full_refresh alike; once the view is gone, the change goes through
SELECT status FROM medallion_run('sc_items', full_refresh => true);
DROP VIEW scsrc.bi_labels;
SELECT status FROM medallion_run('sc_items', full_refresh => true);
SELECT * FROM gold.sc_items ORDER BY id;
-- the previous version (the rows of the build before, in today's columns)
SELECT medallion_rollback('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
SELECT status FROM medallion_run('sc_items');

-- a model downstream of a table model is bound to the columns it reads:
-- the run that changes such a column binds the model again before it
-- builds it (a column of another type); one that no longer binds (it reads
-- a column that is gone) stays unbound, and says so, until it is changed
SELECT medallion_create_model('sc_items', $$SELECT id, label, weight FROM scsrc.items$$);
SELECT status FROM medallion_run('sc_items');
SELECT medallion_create_model('sc_weights', 'SELECT id, weight FROM sc_items', layer => 'gold');
SELECT model, status FROM medallion_run('sc_items+');
SELECT medallion_create_model('sc_items', $$SELECT id, label, weight::bigint AS weight FROM scsrc.items$$);
SELECT model, status, message FROM medallion_run('sc_items+');
SELECT format_type(atttypid, atttypmod) AS weight_type FROM pg_attribute
 WHERE attrelid = 'gold.sc_weights'::regclass AND attname = 'weight';
SELECT * FROM gold.sc_weights ORDER BY id;
SELECT medallion_create_model('sc_items', $$SELECT id, upper(label) AS label_upper FROM scsrc.items$$);
SELECT model, status, message FROM medallion_run('sc_items+');
SELECT medallion_create_model('sc_weights', 'SELECT id, label_upper FROM sc_items', layer => 'gold');
SELECT model, status FROM medallion_run('sc_items+');
SELECT * FROM gold.sc_weights ORDER BY id;
SELECT * FROM medallion_drop_model('sc_items', cascade => true);

-- ---------------------------------------------------------------------
-- Incremental models keep their rows: on_schema_change says what a run
-- does when the columns change (dbt's meanings); a full refresh rebuilds
-- with the new columns whatever it says.
-- ---------------------------------------------------------------------
SELECT medallion_create_model('sc_inc', $$SELECT id, label FROM scsrc.items$$, layer => 'silver',
  materialized => 'incremental', unique_key => ARRAY['id']);
SELECT status, rows FROM medallion_run('sc_inc');
-- fail (the default): the run fails the model, and says what to do
SELECT medallion_create_model('sc_inc', $$SELECT id, label, price FROM scsrc.items$$, unique_key => ARRAY['id']);
SELECT status, message FROM medallion_run('sc_inc');
-- ignore: new columns are not added; the rows go on merging
SELECT medallion_create_model('sc_inc', $$SELECT id, label, price FROM scsrc.items$$,
  on_schema_change => 'ignore', unique_key => ARRAY['id']);
INSERT INTO scsrc.items VALUES (3, 'c', 3.5, 30);
SELECT status, rows FROM medallion_run('sc_inc');
SELECT * FROM silver.sc_inc ORDER BY id;
-- ignore, with a column removed: the table's column would get nothing
SELECT medallion_create_model('sc_inc', $$SELECT id, price FROM scsrc.items$$,
  on_schema_change => 'ignore', unique_key => ARRAY['id']);
SELECT status, message FROM medallion_run('sc_inc');
-- a full refresh takes the query's columns
SELECT status FROM medallion_run('sc_inc', full_refresh => true);
SELECT * FROM silver.sc_inc ORDER BY id;
-- append_new_columns: the table is rebuilt with the new column added
SELECT medallion_create_model('sc_inc', $$SELECT id, price, weight FROM scsrc.items$$,
  on_schema_change => 'append_new_columns', unique_key => ARRAY['id']);
SELECT status FROM medallion_run('sc_inc');
SELECT * FROM silver.sc_inc ORDER BY id;
-- sync_all_columns: removed and retyped too
SELECT medallion_create_model('sc_inc', $$SELECT id, weight::bigint AS weight FROM scsrc.items$$,
  on_schema_change => 'sync_all_columns', unique_key => ARRAY['id']);
SELECT status FROM medallion_run('sc_inc');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'silver.sc_inc'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT * FROM silver.sc_inc ORDER BY id;
-- what is published equals the query
SELECT count(*) AS differing FROM (
  (SELECT id, weight::bigint FROM scsrc.items EXCEPT ALL SELECT * FROM silver.sc_inc)
  UNION ALL (SELECT * FROM silver.sc_inc EXCEPT ALL SELECT id, weight::bigint FROM scsrc.items)) d;
SELECT * FROM medallion_drop_model('sc_inc');

-- ---------------------------------------------------------------------
-- Snapshot models keep their history: a new column is added (earlier
-- versions hold NULL), a removed one stays (NULL in new versions), a new
-- type casts the history.
-- ---------------------------------------------------------------------
SELECT medallion_create_model('sc_snap', $$SELECT id, label FROM scsrc.items$$, layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['id'], snapshot_strategy => 'check');
SELECT status, rows FROM medallion_run('sc_snap');
SELECT medallion_create_model('sc_snap', $$SELECT id, label, weight FROM scsrc.items$$,
  materialized => 'snapshot', unique_key => ARRAY['id'], snapshot_strategy => 'check');
SELECT status FROM medallion_run('sc_snap');
SELECT id, label, weight, is_current FROM silver.sc_snap ORDER BY id, valid_from, is_current;
SELECT medallion_create_model('sc_snap', $$SELECT id, weight::numeric AS weight FROM scsrc.items$$,
  materialized => 'snapshot', unique_key => ARRAY['id'], snapshot_strategy => 'check');
UPDATE scsrc.items SET weight = weight + 1 WHERE id = 1;
SELECT status FROM medallion_run('sc_snap');
SELECT id, label, weight, is_current FROM silver.sc_snap ORDER BY id, valid_from, is_current;
SELECT format_type(atttypid, atttypmod) AS weight_type FROM pg_attribute
 WHERE attrelid = 'silver.sc_snap'::regclass AND attname = 'weight';
SELECT * FROM medallion_drop_model('sc_snap');

-- ---------------------------------------------------------------------
-- View models: columns added anywhere keep the published view's columns
-- in place (new ones at the end), so users' views, grants and readers
-- stay; a removed or retyped column makes the view again and binds its
-- readers again in the same transaction, with the grants kept; a reader
-- that no longer binds, or a user's view in the way, fails the change,
-- naming it, and nothing changes.
-- ---------------------------------------------------------------------
SELECT medallion_create_model('sc_v', $$SELECT id, label FROM scsrc.items$$, layer => 'bronze');
SELECT medallion_create_model('sc_v2', $$SELECT id, label FROM sc_v$$, layer => 'silver');
SELECT medallion_create_model('sc_t', $$SELECT id, upper(label) AS label FROM sc_v2$$, layer => 'gold',
  materialized => 'table');
SELECT model, status FROM medallion_run('sc_v+');
GRANT SELECT ON bronze.sc_v, silver.sc_v2 TO regress_sc_bi;
CREATE VIEW scsrc.bi_v AS SELECT id, label FROM bronze.sc_v;
CREATE TEMP TABLE voids AS SELECT 'bronze.sc_v'::regclass::oid AS oid;
SELECT medallion_add_test('sc_v', 'not_null', column_name => 'label');
SELECT medallion_add_test('sc_t', 'relationships', column_name => 'id', to_model => 'sc_v', to_column => 'id');

-- the impact report, before anything changes: per column, and per model,
-- test, user view and grant reading it, whether it breaks and why
SELECT * FROM medallion_impact('sc_v', $$SELECT id, price, label FROM scsrc.items$$);
SELECT * FROM medallion_impact('sc_v', $$SELECT id, label::varchar(10) AS label FROM scsrc.items$$);
SELECT * FROM medallion_impact('sc_v', $$SELECT id AS item_id, price FROM scsrc.items$$);
SELECT * FROM medallion_impact('sc_new', $$SELECT 1 AS one$$);
-- nothing changed
SELECT version FROM medallion.models WHERE name = 'sc_v';
-- bad input: SQL that does not bind, missing arguments, another owner's model
SELECT medallion_impact('sc_v', $$SELECT nosuch FROM scsrc.items$$);
SELECT medallion_impact('sc_v', NULL);
SET ROLE regress_sc_other;
SELECT medallion_impact('sc_v', $$SELECT id FROM scsrc.items$$);
RESET ROLE;

-- a column in the middle
SELECT medallion_create_model('sc_v', $$SELECT id, price, label FROM scsrc.items$$);
SELECT attname FROM pg_attribute WHERE attrelid = 'bronze.sc_v'::regclass AND attnum > 0 ORDER BY attnum;
SELECT * FROM bronze.sc_v ORDER BY id;
SELECT * FROM scsrc.bi_v ORDER BY id;
SELECT 'bronze.sc_v'::regclass::oid = oid AS same_oid FROM voids;
SELECT model, status FROM medallion_run('sc_v+');
SELECT * FROM gold.sc_t ORDER BY id;
-- the lineage follows the names, not the places
SELECT model, column_name, src_relation, src_column FROM medallion.column_lineage
 WHERE model IN ('sc_v2', 'sc_t') AND kind = 'projection' ORDER BY 1, 2, 3, 4;
-- a removed column that a user's view reads is in the way
SELECT medallion_create_model('sc_v', $$SELECT id, price FROM scsrc.items$$);
DROP VIEW scsrc.bi_v;
-- a removed column that a reader reads: the reader is named, nothing changes
SELECT medallion_create_model('sc_v', $$SELECT id, price FROM scsrc.items$$);
SELECT version, sql FROM medallion.models WHERE name = 'sc_v';
SELECT * FROM bronze.sc_v ORDER BY id;
-- a reader bound again must mean what it meant: resolving its names again
-- must not find an object made since (here a function that the new type
-- would choose)
CREATE SCHEMA scx;
CREATE SCHEMA scy;
CREATE FUNCTION scx.fmt(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT '<' || t || '>'$$;
SET search_path = scy, scx, public;
SELECT medallion_create_model('sc_fmt', $$SELECT id, fmt(label) AS l FROM sc_v$$, layer => 'gold', materialized => 'view');
RESET search_path;
CREATE FUNCTION scy.fmt(t varchar) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'captured'$$;
SELECT medallion_create_model('sc_v', $$SELECT id, label::varchar(10) AS label FROM scsrc.items$$);
SELECT * FROM gold.sc_fmt ORDER BY id;
SELECT * FROM medallion_drop_model('sc_fmt');
DROP SCHEMA scx, scy CASCADE;
-- a column retyped and one removed that no reader reads: the view and its
-- reader's view are made again, bound again, and keep their grants
SELECT medallion_create_model('sc_v', $$SELECT id, label::varchar(10) AS label FROM scsrc.items$$);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'bronze.sc_v'::regclass AND attnum > 0 ORDER BY attnum;
SELECT has_table_privilege('regress_sc_bi', 'bronze.sc_v', 'SELECT') AS sc_v_grant,
       has_table_privilege('regress_sc_bi', 'silver.sc_v2', 'SELECT') AS sc_v2_grant;
SELECT * FROM silver.sc_v2 ORDER BY id;
SELECT model, status, message FROM medallion_run('sc_v+');
SELECT * FROM gold.sc_t ORDER BY id;
SELECT * FROM medallion_drop_model('sc_v', cascade => true);

-- a reader of another owner, whom the caller does not act for, is not
-- bound again by the caller: a change that needs it is refused, one that
-- keeps the columns in place goes through
CREATE ROLE regress_sc_up LOGIN IN ROLE medallion_admin;
GRANT USAGE ON SCHEMA scsrc TO regress_sc_up;
GRANT SELECT ON scsrc.items TO regress_sc_up;
SET ROLE regress_sc_up;
SELECT medallion_create_model('sc_up', $$SELECT id, label FROM scsrc.items$$, layer => 'bronze');
GRANT SELECT ON bronze.sc_up TO regress_sc_other;
SET ROLE regress_sc_other;
SELECT medallion_create_model('sc_other', $$SELECT id FROM sc_up$$, layer => 'gold');
SET ROLE regress_sc_up;
SELECT medallion_create_model('sc_up', $$SELECT id FROM scsrc.items$$);
SELECT medallion_create_model('sc_up', $$SELECT price, id, label FROM scsrc.items$$);
SET ROLE regress_sc_other;
SELECT status, rows FROM medallion_run('sc_other');
SELECT * FROM medallion_drop_model('sc_other');
SET ROLE regress_sc_up;
SELECT * FROM medallion_drop_model('sc_up');
RESET ROLE;
DROP OWNED BY regress_sc_up;
DROP ROLE regress_sc_up;

DROP SCHEMA scsrc CASCADE;
REVOKE ALL ON SCHEMA bronze, silver, gold FROM regress_sc_bi;
DROP ROLE regress_sc_bi;
DROP OWNED BY regress_sc_other;
DROP ROLE regress_sc_other;
