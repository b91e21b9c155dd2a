--
-- Snapshot models (SCD type 2): the published table keeps every version of
-- every key, with valid_from, valid_to (NULL while current), is_current
-- and a surrogate key scd_id.
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
SET client_min_messages = notice;
CREATE SCHEMA snap;
CREATE TABLE snap.customers (id int PRIMARY KEY, name text, tier text, updated_at timestamp);

-- check strategy (every non-key column compared NULL-safely), deletes invalidated
SELECT medallion_create_model('snap_check', 'SELECT id, name, tier FROM snap.customers',
  layer => 'silver', materialized => 'snapshot', unique_key => ARRAY['id'], hard_deletes => 'invalidate');
-- timestamp strategy, deletes ignored (the default)
SELECT medallion_create_model('snap_ts', 'SELECT id, name, tier, updated_at FROM snap.customers',
  layer => 'silver', materialized => 'snapshot', unique_key => ARRAY['id'], updated_at => 'updated_at');
SELECT name, snapshot_strategy, updated_at_column, hard_deletes FROM medallion.models WHERE name LIKE 'snap\_%' ORDER BY 1;
SELECT attname FROM pg_attribute WHERE attrelid = 'silver.snap_check'::regclass AND attnum > 0 ORDER BY attnum;

-- History of snap_check: versions per key in order, with whether each
-- closed version ends where the next begins
CREATE VIEW snap.check_history AS
SELECT id, row_number() OVER w AS version, name, tier, is_current,
       CASE WHEN valid_to IS NULL THEN 'open'
            WHEN valid_to = lead(valid_from) OVER w THEN 'closed by next'
            ELSE 'closed' END AS ended
  FROM silver.snap_check WINDOW w AS (PARTITION BY id ORDER BY valid_from)
 ORDER BY id, version;

-- run 1: three customers
INSERT INTO snap.customers VALUES (1, 'Ada', 'gold', '2024-01-01'), (2, 'Bob', NULL, '2024-01-01'),
                                  (3, 'Cy', 'silver', '2024-01-01');
SELECT model, status, rows FROM medallion_run('layer:silver');
SELECT * FROM snap.check_history;

-- run 2: nothing changed
SELECT model, status, rows FROM medallion_run('layer:silver');

-- run 3: an update, an update from NULL, a new key
UPDATE snap.customers SET tier = 'platinum', updated_at = '2024-02-01' WHERE id = 1;
UPDATE snap.customers SET tier = 'bronze', updated_at = '2024-02-01' WHERE id = 2;
INSERT INTO snap.customers VALUES (4, 'Di', 'gold', '2024-02-01');
SELECT model, status, rows FROM medallion_run('layer:silver');
SELECT * FROM snap.check_history;

-- run 4: an update to NULL (check sees it even without a newer updated_at)
-- and a delete
UPDATE snap.customers SET name = NULL WHERE id = 4;
DELETE FROM snap.customers WHERE id = 3;
SELECT model, status, rows FROM medallion_run('layer:silver');
SELECT * FROM snap.check_history;

-- run 5: the deleted key comes back
INSERT INTO snap.customers VALUES (3, 'Cy', 'gold', '2024-03-01');
SELECT model, status, rows FROM medallion_run('layer:silver');
SELECT * FROM snap.check_history;

-- run 6: nothing changed again
SELECT model, status, rows FROM medallion_run('layer:silver');
SELECT count(*) AS versions, count(*) FILTER (WHERE is_current) AS current,
       count(DISTINCT scd_id) AS surrogate_keys FROM silver.snap_check;

-- the timestamp strategy: versions follow updated_at; the deleted key 3
-- stayed current (hard_deletes = ignore) until it changed
SELECT id, name, tier, valid_from, valid_to, is_current FROM silver.snap_ts ORDER BY id, valid_from;

-- one current row per key: a test on the history table
SELECT medallion_add_test('snap_check', 'sql', name => 'one_current_version',
  sql => 'SELECT id FROM snap_check WHERE is_current GROUP BY id HAVING count(*) > 1');
SELECT model, status, tests_passed, tests_failed FROM medallion_run('snap_check');

-- bad settings
SELECT medallion_create_model('snap_bad', 'SELECT id, tier FROM snap.customers', layer => 'silver',
  materialized => 'snapshot');
SELECT medallion_create_model('snap_bad', 'SELECT id, tier FROM snap.customers', layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['id'], snapshot_strategy => 'timestamp');
SELECT medallion_create_model('snap_bad', 'SELECT id, tier FROM snap.customers', layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['id'], check_columns => ARRAY['nosuch']);
SELECT medallion_create_model('snap_bad', 'SELECT id, tier, true AS is_current FROM snap.customers', layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['id']);
SELECT medallion_create_model('snap_bad', 'SELECT id, tier FROM snap.customers', layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['id'], hard_deletes => 'purge');
SELECT medallion_create_model('snap_bad', 'SELECT id, tier FROM snap.customers', layer => 'silver',
  materialized => 'table', hard_deletes => 'invalidate');

DROP VIEW snap.check_history;
SELECT * FROM medallion_drop_model('snap_check');
SELECT * FROM medallion_drop_model('snap_ts');
DROP SCHEMA snap CASCADE;
