--
-- Column changes of table models at run time: on_schema_change
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;
SET client_min_messages = warning;
CREATE SCHEMA scsrc;
CREATE TABLE scsrc.items (id int, label text, price numeric, weight int);
INSERT INTO scsrc.items VALUES (1, 'a', 1.5, 10), (2, 'b', 2.5, 20);

SELECT medallion_create_model('sc_items', $$SELECT id, label, price FROM scsrc.items$$, layer => 'gold');
SELECT status, rows FROM medallion_run('sc_items');
CREATE VIEW scsrc.bi_labels AS SELECT id, label FROM gold.sc_items;
CREATE TEMP TABLE oids AS SELECT 'gold.sc_items'::regclass::oid AS oid;

-- fail (the default): a built table keeps its columns; the run fails the model
SELECT medallion_create_model('sc_items', $$SELECT id, label, price, weight FROM scsrc.items$$);
SELECT status, message FROM medallion_run('sc_items');
SELECT sqlstate FROM medallion.run_models WHERE model = 'sc_items' ORDER BY run_id DESC LIMIT 1;
SELECT * FROM gold.sc_items ORDER BY id;

-- append_new_columns: new columns are added at the end; rows replaced
SELECT medallion_create_model('sc_items', $$SELECT id, label, price, weight FROM scsrc.items$$,
  on_schema_change => 'append_new_columns');
SELECT status, message FROM medallion_run('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
-- a removed column stays, empty, with append_new_columns
SELECT medallion_create_model('sc_items', $$SELECT id, label, weight FROM scsrc.items$$,
  on_schema_change => 'append_new_columns');
SELECT status, message FROM medallion_run('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
-- but a changed type needs sync_all_columns
SELECT medallion_create_model('sc_items', $$SELECT id, label, weight::numeric AS weight FROM scsrc.items$$,
  on_schema_change => 'append_new_columns');
SELECT status, message FROM medallion_run('sc_items');

-- sync_all_columns: drops and retypes, unless an object that depends on the
-- column would break: then the error names it, and nothing changes
SELECT medallion_create_model('sc_items', $$SELECT id, upper(label) AS label_upper, weight::numeric AS weight FROM scsrc.items$$,
  on_schema_change => 'sync_all_columns');
SELECT status, message FROM medallion_run('sc_items');
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'gold.sc_items'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
DROP VIEW scsrc.bi_labels;
SELECT status, message FROM medallion_run('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'gold.sc_items'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
-- through all of it the table kept its OID
SELECT 'gold.sc_items'::regclass::oid = oid AS same_oid FROM oids;
-- and the next run, with the new shape, swaps as usual
UPDATE scsrc.items SET weight = weight + 1;
SELECT status, rows FROM medallion_run('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;
SELECT medallion_rollback('sc_items');
SELECT * FROM gold.sc_items ORDER BY id;

-- a model downstream is bound to the columns it reads: sync_all_columns
-- drops its binding before it drops such a column; the downstream model is
-- then unbound, and says so, until its owner defines or binds it again
SELECT medallion_create_model('sc_weights', 'SELECT id, weight FROM sc_items', layer => 'gold');
SELECT medallion_create_model('sc_items', $$SELECT id, upper(label) AS label_upper FROM scsrc.items$$,
  on_schema_change => 'sync_all_columns');
SELECT model, status, message FROM medallion_run('sc_items+');
SELECT medallion_create_model('sc_weights', 'SELECT id, label_upper FROM sc_items', layer => 'gold');
SELECT model, status FROM medallion_run('sc_items+');
SELECT * FROM gold.sc_weights ORDER BY id;

SELECT * FROM medallion_drop_model('sc_items', cascade => true);
DROP SCHEMA scsrc CASCADE;
