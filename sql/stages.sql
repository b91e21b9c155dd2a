--
-- Staged deploys (issue 28): new definitions built and tested into
-- candidates that nobody reads, kept with the definitions pending, then
-- published in one commit without computing them again (what changed
-- since is built first) or discarded.  A definition a stage depends on
-- that changes meanwhile discards it.
--
SET medallion.log_timing = off;
SET client_min_messages = warning;
CREATE SCHEMA stg;
CREATE TABLE stg.orders (id int PRIMARY KEY, amount numeric, note text);
INSERT INTO stg.orders SELECT g, g * 10, CASE WHEN g = 1 THEN repeat('long ', 2000) END
  FROM generate_series(1, 100) g;
CREATE TABLE stg.other (x int);
SELECT medallion_create_model('stg_orders', 'SELECT id, amount, note FROM stg.orders', layer => 'silver', tags => '{stg}');
SELECT medallion_create_model('stg_other', 'SELECT x FROM stg.other', layer => 'silver', tags => '{stg}');
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total, count(*) AS n FROM silver.stg_orders',
                              layer => 'gold', tags => '{stg}');
SELECT model, status FROM medallion_run('tag:stg');
-- a reader of gold, as BI tools read it
CREATE ROLE regress_stg_bi;
GRANT USAGE ON SCHEMA gold TO regress_stg_bi;
GRANT SELECT ON gold.stg_total TO regress_stg_bi;

-- ---------------------------------------------------------------------
-- Stage: the new definitions in a savepoint, medallion_stage_build, the
-- rollback, medallion_stage_keep.  What readers see does not change.
-- ---------------------------------------------------------------------
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_orders', 'SELECT id, amount * 2 AS amount, note FROM stg.orders',
                              layer => 'silver', tags => '{stg}');
SELECT medallion_add_test('stg_total', 'row_count', min_rows => 1);
SELECT model, status, rows, tests_passed, regexp_replace(message, 'run \d+', 'run N') AS message
  FROM medallion_stage_build('tag:stg', exclude => 'stg_other');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT * FROM gold.stg_total;
SELECT sql FROM medallion.models WHERE name = 'stg_orders';
SELECT count(*) AS tests FROM medallion.tests WHERE model = 'stg_total';
SELECT state, created_by = current_user AS mine, selector, exclude, depends,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(builds) k) AS builds,
       jsonb_array_length(definitions) AS definitions, jsonb_array_length(tests) AS tests
  FROM medallion.stages WHERE stage_id = :stage_id;
-- the candidates: in medallion_stage, their owner's only, with the new rows
SELECT model, rows, relid::regclass::text ~ '^medallion_stage\.s\d+_\d+$' AS named,
       pg_get_userbyid(c.relowner) = current_user AS owner, c.relacl IS NULL AS no_grants
  FROM medallion.stage_tables t JOIN pg_class c ON c.oid = t.relid
 WHERE stage_id = :stage_id ORDER BY model;
SET ROLE regress_stg_bi;
SELECT count(*) FROM medallion_stage.pg_class;
SELECT * FROM gold.stg_total;
RESET ROLE;
-- another session finds it: committed tables and a catalog row
\c
SET medallion.log_timing = off;
SET client_min_messages = warning;
SELECT state FROM medallion.stages WHERE stage_id = :stage_id;
CREATE TEMP TABLE oids AS SELECT 'gold.stg_total'::regclass::oid AS oid;

-- ---------------------------------------------------------------------
-- Promote: definitions applied, candidates swapped in (the table keeps
-- its OID and grants), nothing built again when nothing changed.
-- ---------------------------------------------------------------------
SELECT medallion_promote(:stage_id);
SELECT * FROM gold.stg_total;
SELECT 'gold.stg_total'::regclass::oid = oid AS same_oid FROM oids;
SELECT has_table_privilege('regress_stg_bi', 'gold.stg_total', 'SELECT') AS bi_reads;
SELECT sql FROM medallion.models WHERE name = 'stg_orders';
SELECT name FROM medallion.tests WHERE model = 'stg_total';
SELECT length(note) FROM silver.stg_orders WHERE id = 1;
SELECT state, finished_at IS NOT NULL AS finished FROM medallion.stages WHERE stage_id = :stage_id;
SELECT count(*) AS left_over FROM pg_class WHERE relnamespace = 'medallion_stage'::regnamespace;
-- the next run finds everything up to date
SELECT model, status FROM medallion_run('tag:stg');

-- ---------------------------------------------------------------------
-- Promote after the inputs changed: what changed since the stage is
-- built again, in the same transaction.
-- ---------------------------------------------------------------------
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total, count(*) AS n FROM silver.stg_orders WHERE id > 0',
                              layer => 'gold', tags => '{stg}');
SELECT model, status FROM medallion_stage_build('stg_total');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
INSERT INTO stg.orders VALUES (101, 1000);
SELECT model, status FROM medallion_run('stg_orders');
SELECT medallion_promote(:stage_id);
SELECT * FROM gold.stg_total;
SELECT model, status FROM medallion_run('tag:stg');

-- A definition that changes the table's indexes: the candidate gets the
-- new ones at the promote, and nothing is built again
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_orders', 'SELECT id, amount * 2 AS amount, note FROM stg.orders',
                              layer => 'silver', tags => '{stg}', indexes => '{amount}');
SELECT model, status FROM medallion_stage_build('stg_orders');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'silver.stg_orders'::regclass;
SELECT medallion_promote(:stage_id);
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'silver.stg_orders'::regclass;
SELECT count(*) AS left_over FROM pg_class WHERE relnamespace = 'medallion_stage'::regnamespace;
SELECT sum(amount) FROM silver.stg_orders;

-- A definition that changes a table's columns (one added, one removed):
-- the promote gives the published table the candidate's columns, as the
-- build did, keeping its OID, and swaps the candidate in; nothing is
-- built again
CREATE TEMP TABLE oids_orders AS SELECT 'silver.stg_orders'::regclass::oid AS oid;
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_orders', 'SELECT id, amount * 2 AS amount, amount > 500 AS big FROM stg.orders',
                              layer => 'silver', tags => '{stg}', indexes => '{amount}');
SELECT model, status FROM medallion_stage_build('tag:stg');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT model, rows FROM medallion.stage_tables WHERE stage_id = :stage_id ORDER BY model;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns FROM pg_attribute
 WHERE attrelid = 'silver.stg_orders'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT medallion_promote(:stage_id);
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns FROM pg_attribute
 WHERE attrelid = 'silver.stg_orders'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT 'silver.stg_orders'::regclass::oid = oid AS same_oid FROM oids_orders;
SELECT count(*) FILTER (WHERE big) AS big, sum(amount) FROM silver.stg_orders;
SELECT * FROM gold.stg_total;
SELECT model, status FROM medallion_run('tag:stg');

-- A model the definitions add: its candidate is kept as a table of its
-- own, and the promote swaps it into the table its definition makes
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_by_size', 'SELECT big, count(*) AS n FROM silver.stg_orders GROUP BY big',
                              layer => 'gold', tags => '{stg}', indexes => '{big}');
SELECT medallion_add_test('stg_by_size', 'unique', column_name => 'big');
SELECT model, status FROM medallion_stage_build('tag:stg');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT model, rows, published = 0 AS new FROM medallion.stage_tables WHERE stage_id = :stage_id;
SELECT to_regclass('gold.stg_by_size') AS published;
SELECT medallion_promote(:stage_id);
SELECT * FROM gold.stg_by_size ORDER BY big;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'gold.stg_by_size'::regclass;
SELECT model, status FROM medallion_run('tag:stg');

-- ---------------------------------------------------------------------
-- Discard
-- ---------------------------------------------------------------------
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total, count(*) AS n FROM silver.stg_orders WHERE id > 1',
                              layer => 'gold', tags => '{stg}');
SELECT model, status FROM medallion_stage_build('stg_total');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT count(*) AS staged FROM medallion.stage_tables WHERE stage_id = :stage_id;
SELECT medallion_discard(:stage_id);
SELECT state, reason FROM medallion.stages WHERE stage_id = :stage_id;
SELECT count(*) AS left_over FROM pg_class WHERE relnamespace = 'medallion_stage'::regnamespace;
SELECT * FROM gold.stg_total;

-- ---------------------------------------------------------------------
-- A definition the stage depends on changes: the stage is discarded.
-- A model it does not read changes nothing.
-- ---------------------------------------------------------------------
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total, count(*) AS n FROM silver.stg_orders WHERE id > 2',
                              layer => 'gold', tags => '{stg}');
SELECT model, status FROM medallion_stage_build('stg_total');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT medallion_create_model('stg_other', 'SELECT x, 1 AS y FROM stg.other', layer => 'silver', tags => '{stg}');
SELECT state FROM medallion.stages WHERE stage_id = :stage_id;
SELECT medallion_create_model('stg_orders', 'SELECT id, amount * 3 AS amount, note FROM stg.orders',
                              layer => 'silver', tags => '{stg}');
SELECT state, reason FROM medallion.stages WHERE stage_id = :stage_id;
SELECT count(*) AS left_over FROM pg_class WHERE relnamespace = 'medallion_stage'::regnamespace;

-- ---------------------------------------------------------------------
-- Refused
-- ---------------------------------------------------------------------
\set VERBOSITY default
SELECT medallion_promote(:stage_id);
SELECT medallion_discard(:stage_id);
SELECT medallion_promote(9999);
SELECT medallion_promote(1);
SELECT * FROM medallion_stage_build('tag:stg');
SELECT medallion_stage_keep();
-- the definitions must be rolled back, not kept or released
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total FROM silver.stg_orders',
                              layer => 'gold', tags => '{stg}');
SELECT model, status FROM medallion_stage_build('stg_total');
SELECT medallion_stage_keep();
ROLLBACK TO SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total FROM silver.stg_orders',
                              layer => 'gold', tags => '{stg}');
SAVEPOINT t;
SELECT model, status FROM medallion_stage_build('stg_total');
RELEASE SAVEPOINT t;
SELECT medallion_stage_keep();
ROLLBACK;
-- ... all of them: a savepoint inside theirs is not enough
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total FROM silver.stg_orders',
                              layer => 'gold', tags => '{stg}');
SAVEPOINT t;
SELECT model, status FROM medallion_stage_build('stg_total');
ROLLBACK TO SAVEPOINT t;
SELECT medallion_stage_keep();
ROLLBACK;
-- a stage whose model fails its tests is not kept
BEGIN;
SAVEPOINT s;
SELECT medallion_add_test('stg_total', 'row_count', min_rows => 5);
SELECT model, status, message FROM medallion_stage_build('stg_total');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep();
ROLLBACK;
-- only the role that staged (or one with its privileges) promotes
CREATE ROLE regress_stg_other IN ROLE medallion_admin;
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stg_total', 'SELECT sum(amount) AS total, count(*) AS n FROM silver.stg_orders WHERE id > 3',
                              layer => 'gold', tags => '{stg}');
SELECT model, status FROM medallion_stage_build('stg_total');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SET ROLE regress_stg_other;
SELECT medallion_promote(:stage_id);
RESET ROLE;
SELECT medallion_discard(:stage_id);

-- a definition that binds otherwise at the promote than at the stage (a
-- table made meanwhile in a schema its search_path names first) is
-- refused: the staged rows would not be its query's
CREATE SCHEMA stg_a;
CREATE SCHEMA stg_b;
CREATE TABLE stg_a.items (x int);
INSERT INTO stg_a.items VALUES (1), (2);
SET search_path = stg_b, stg_a, public;
SELECT medallion_create_model('stg_items', 'SELECT x FROM items', layer => 'silver');
RESET search_path;
SELECT model, status FROM medallion_run('stg_items');
BEGIN;
SAVEPOINT s;
SET LOCAL search_path = stg_b, stg_a, public;
SELECT medallion_create_model('stg_items', 'SELECT x, x * 2 AS y FROM items', layer => 'silver');
SELECT model, status FROM medallion_stage_build('stg_items');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS shadow_stage \gset
COMMIT;
SELECT jsonb_object_keys(bindings) AS bound FROM medallion.stages WHERE stage_id = :shadow_stage;
CREATE TABLE stg_b.items (x int);
INSERT INTO stg_b.items VALUES (100);
SELECT medallion_promote(:shadow_stage);
SELECT state FROM medallion.stages WHERE stage_id = :shadow_stage;
SELECT * FROM silver.stg_items ORDER BY x;
-- without the shadowing table it binds as staged, and is promoted
DROP TABLE stg_b.items;
SELECT medallion_promote(:shadow_stage) IS NOT NULL AS promoted;
SELECT * FROM silver.stg_items ORDER BY x;
\set VERBOSITY terse

SELECT medallion_drop_model('stg_items');
DROP SCHEMA stg_a CASCADE;
DROP SCHEMA stg_b CASCADE;
SELECT medallion_drop_model('stg_total');
SELECT medallion_drop_model('stg_by_size');
SELECT medallion_drop_model('stg_orders');
SELECT medallion_drop_model('stg_other');
DROP SCHEMA stg CASCADE;
REVOKE ALL ON SCHEMA gold FROM regress_stg_bi;
DROP ROLE regress_stg_bi;
DROP ROLE regress_stg_other;

-- ---------------------------------------------------------------------
-- A maintained model (docs/incremental-maintenance.md) is staged as a
-- candidate built whole (a maintained build replaces rows in the
-- published table itself, which a stage leaves as it is until promoted),
-- and the promote's run maintains what was written since.  The definitions made in the savepoint drop and
-- make delta logs: they lock no catalog (the list of logs read was freed
-- memory once, and the catalogs named there were locked exclusively to
-- the end of the transaction: the ledger writer recording the stage's run
-- could not start its session, and the stage waited for it).  A hang
-- fails here instead of blocking the suite.
-- ---------------------------------------------------------------------
SET statement_timeout = '60s';
SET medallion.maintain_weighed_ms = '1h';
CREATE SCHEMA stm;
CREATE TABLE stm.sales (id int PRIMARY KEY, region text, product int, amount numeric);
INSERT INTO stm.sales SELECT i, 'r' || (i % 5), i % 3, i FROM generate_series(1, 500) i;
SELECT medallion_create_model('stm_by_region', 'SELECT region, count(*) AS n, sum(amount) AS amount FROM stm.sales GROUP BY region',
                              layer => 'gold');
SELECT medallion_create_model('stm_by_product', 'SELECT product, max(amount) AS top FROM stm.sales GROUP BY product',
                              layer => 'gold');
SELECT model, status FROM medallion_run('stm_by_region stm_by_product') ORDER BY model;
INSERT INTO stm.sales SELECT i, 'r' || (i % 7), i % 3, i FROM generate_series(501, 510) i;
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stm_by_product',
  'SELECT product, max(amount) AS top, count(*) AS n, min(region) AS first FROM stm.sales GROUP BY product',
  layer => 'gold');
SELECT count(*) AS catalogs_locked FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'relation' AND mode = 'AccessExclusiveLock' AND relation < 16384;
SELECT model, status, regexp_replace(regexp_replace(regexp_replace(regexp_replace(message,
         'run \d+', 'run N', 'g'), '^(incremental: [0-9,]+) of [0-9,.M]+ rows', '\1 of T rows'),
         'est\. [0-9.]+ (ms|s|min)', 'est. E', 'g'), 'full [0-9.]+ (ms|s)\M', 'full F', 'g') AS message
  FROM medallion_stage_build('stm_by_region stm_by_product') ORDER BY model;
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS maintained_stage \gset
COMMIT;
-- the published table is as it was until the promote (500 rows, not 510)
SELECT sum(n) AS published_rows FROM gold.stm_by_region;
UPDATE stm.sales SET amount = amount + 1, region = 'r9' WHERE id IN (1, 2);
SELECT regexp_replace(medallion_promote(:maintained_stage), 'stage \d+', 'stage N') AS promoted;
-- the promote's run maintained what changed since the stage
SELECT model, status, regexp_replace(regexp_replace(regexp_replace(regexp_replace(message,
         'run \d+', 'run N', 'g'), '^(incremental: [0-9,]+) of [0-9,.M]+ rows', '\1 of T rows'),
         'est\. [0-9.]+ (ms|s|min)', 'est. E', 'g'), 'full [0-9.]+ (ms|s)\M', 'full F', 'g') AS message
  FROM medallion.run_models
 WHERE run_id = (SELECT max(run_id) FROM medallion.run_models) ORDER BY model;
SELECT count(*) AS differing FROM ((SELECT * FROM gold.stm_by_region
    EXCEPT ALL SELECT region, count(*), sum(amount) FROM stm.sales GROUP BY region)
  UNION ALL (SELECT region, count(*), sum(amount) FROM stm.sales GROUP BY region
    EXCEPT ALL SELECT * FROM gold.stm_by_region)) d;
SELECT count(*) AS differing FROM ((SELECT * FROM gold.stm_by_product
    EXCEPT ALL SELECT product, max(amount), count(*), min(region) FROM stm.sales GROUP BY product)
  UNION ALL (SELECT product, max(amount), count(*), min(region) FROM stm.sales GROUP BY product
    EXCEPT ALL SELECT * FROM gold.stm_by_product)) d;
RESET statement_timeout;
SELECT medallion_drop_model('stm_by_region');
SELECT medallion_drop_model('stm_by_product');
DROP SCHEMA stm CASCADE;

-- a model defined with maintain => 'full' is staged and promoted as it
-- was defined: the stage applies every setting of the definition (it
-- applied maintain as 'auto', found the definition changed since the
-- stage, and discarded it)
CREATE SCHEMA stf;
CREATE TABLE stf.p (id int PRIMARY KEY, c int);
INSERT INTO stf.p SELECT i, i % 5 FROM generate_series(1, 50) i;
SELECT medallion_create_model('stf_counts', 'SELECT c, count(*) AS n FROM stf.p GROUP BY c',
                              layer => 'silver', maintain => 'full');
SELECT count(*) FROM medallion_run('stf_counts');
BEGIN;
SAVEPOINT s;
SELECT medallion_create_model('stf_counts', 'SELECT c, count(*) AS n FROM stf.p WHERE c > 0 GROUP BY c',
                              layer => 'silver', maintain => 'full');
SELECT model, status FROM medallion_stage_build('stf_counts');
ROLLBACK TO SAVEPOINT s;
SELECT medallion_stage_keep() AS stage_id \gset
COMMIT;
SELECT medallion_promote(:stage_id) IS NOT NULL AS promoted;
SELECT state FROM medallion.stages WHERE stage_id = :stage_id;
SELECT maintain, sql FROM medallion.models WHERE name = 'stf_counts';
SELECT count(*) AS groups FROM silver.stf_counts;
SELECT medallion_drop_model('stf_counts');
DROP SCHEMA stf CASCADE;
