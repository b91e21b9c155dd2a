--
-- Incremental models: each run reads only the rows past the high-water mark
-- of the watermark column, tests them, and applies them by strategy.
--
-- every run here builds its models: change-aware runs are tested in changes.sql
SET medallion.changed_only = off;
SET medallion.log_timing = off;
SET client_min_messages = warning;
TRUNCATE medallion.runs CASCADE;
SELECT setval('medallion.runs_run_id_seq', 1, false);
SET client_min_messages = notice;
CREATE SCHEMA inc;
CREATE TABLE inc.events (id int PRIMARY KEY, account text, amount int, updated_at timestamptz);
INSERT INTO inc.events SELECT g, 'acct' || (g % 3), g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour'
  FROM generate_series(1, 20) g;

-- merge on a key (the default when there is a unique_key), append, delete+insert
SELECT medallion_create_model('inc_merge', 'SELECT id, account, amount, updated_at FROM inc.events',
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'updated_at');
SELECT medallion_create_model('inc_append', 'SELECT id, account, amount, updated_at FROM inc.events',
  layer => 'silver', materialized => 'incremental', watermark => 'updated_at');
SELECT medallion_create_model('inc_delins', 'SELECT id, account, amount, updated_at FROM inc.events',
  layer => 'silver', materialized => 'incremental', strategy => 'delete+insert',
  unique_key => ARRAY['id'], watermark => 'updated_at', lookback => '2 hours');
SELECT medallion_create_model('inc_totals', 'SELECT account, sum(amount) AS amount, count(*) AS n FROM inc_merge GROUP BY account',
  layer => 'gold');
SELECT name, materialized, strategy, unique_key, watermark, lookback FROM medallion.models
 WHERE name LIKE 'inc\_%' ORDER BY name;
SELECT medallion_add_test('inc_merge', 'expression', expression => 'amount >= 0');

-- the first run builds them whole
SELECT model, status, rows FROM medallion_run('all');
SELECT model, watermark, max_seen FROM medallion.model_state ORDER BY model;

-- no new rows: up to date, nothing applied (the lookback of delete+insert
-- is for watermarks of foreign tables: row capture needs none)
SELECT model, status, rows, message FROM medallion_run('layer:silver');

-- new and changed rows
UPDATE inc.events SET amount = amount * 100, updated_at = '2024-02-01 00:00+00' WHERE id IN (1, 2);
INSERT INTO inc.events VALUES (21, 'acct0', 21, '2024-02-01 01:00+00');
SELECT model, status, rows FROM medallion_run('all');
SELECT count(*), sum(amount) FROM silver.inc_merge;
SELECT count(*), sum(amount) FROM silver.inc_delins;
-- append keeps the old versions of the changed rows
SELECT id, amount FROM silver.inc_append WHERE id IN (1, 2, 21) ORDER BY id, amount;
SELECT * FROM gold.inc_totals ORDER BY account;
SELECT model, watermark FROM medallion.model_state ORDER BY model;

-- the delta is audited before it is applied: a failing test keeps it out,
-- and the high-water mark does not move
CREATE TEMP TABLE before AS SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM silver.inc_merge t) AS data,
  (SELECT watermark FROM medallion.model_state WHERE model = 'inc_merge') AS watermark;
INSERT INTO inc.events VALUES (22, 'acct1', -5, '2024-02-02 00:00+00');
SELECT model, status, message FROM medallion_run('inc_merge');
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM silver.inc_merge t) = data AS data_unchanged,
       (SELECT watermark FROM medallion.model_state WHERE model = 'inc_merge') = watermark AS watermark_unchanged
  FROM before;
UPDATE inc.events SET amount = 22 WHERE id = 22;
-- a failure while applying the delta (here a CHECK constraint added to the
-- published table by hand) also leaves table and mark as they were
ALTER TABLE silver.inc_merge ADD CONSTRAINT amount_positive CHECK (amount > 0);
UPDATE inc.events SET amount = 0 WHERE id = 22;
SELECT model, status, message FROM medallion_run('inc_merge');
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM silver.inc_merge t) = data AS data_unchanged,
       (SELECT watermark FROM medallion.model_state WHERE model = 'inc_merge') = watermark AS watermark_unchanged
  FROM before;
UPDATE inc.events SET amount = 22 WHERE id = 22;
ALTER TABLE silver.inc_merge DROP CONSTRAINT amount_positive;
SELECT model, status, rows FROM medallion_run('inc_merge');

-- full_refresh rebuilds from scratch; so does a changed share above the threshold
SELECT model, status, rows FROM medallion_run('inc_merge', full_refresh => true);
SELECT medallion_create_model('inc_merge', 'SELECT id, account, amount, updated_at FROM inc.events',
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'updated_at',
  full_refresh_threshold => 0.2);
UPDATE inc.events SET updated_at = '2024-03-01 00:00+00' WHERE id <= 10;
SELECT model, status, rows FROM medallion_run('inc_merge');
SELECT count(*), sum(amount) FROM silver.inc_merge;

-- a numeric watermark, and no watermark at all (merge every row)
SELECT medallion_create_model('inc_by_id', 'SELECT id, amount FROM inc.events',
  layer => 'silver', materialized => 'incremental', watermark => 'id');
SELECT medallion_create_model('inc_nowm', 'SELECT id, amount FROM inc.events',
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['id']);
SELECT model, status, rows FROM medallion_run('inc_by_id inc_nowm');
INSERT INTO inc.events VALUES (23, 'acct2', 23, '2024-03-02 00:00+00');
SELECT model, status, rows FROM medallion_run('inc_by_id inc_nowm');
SELECT count(*) FROM silver.inc_by_id;

-- bad settings
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental', strategy => 'merge');
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental', strategy => 'upsert', unique_key => ARRAY['id']);
SELECT medallion_create_model('inc_bad', 'SELECT id, account FROM inc.events', layer => 'silver',
  materialized => 'incremental', watermark => 'account');
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental', watermark => 'nosuch');
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental', watermark => 'id', lookback => '1 day');
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'table', watermark => 'id');
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental', full_refresh_threshold => 0);
-- no watermark and no unique key: it could only append duplicates
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental');
SELECT medallion_create_model('inc_bad', 'SELECT id FROM inc.events', layer => 'silver',
  materialized => 'incremental', strategy => 'append', unique_key => ARRAY['id']);
SELECT count(*) AS inc_bad_defined FROM medallion.models WHERE name = 'inc_bad';

SELECT * FROM medallion_drop_model('inc_merge', cascade => true);
SELECT * FROM medallion_drop_model('inc_append');
SELECT * FROM medallion_drop_model('inc_delins');
SELECT * FROM medallion_drop_model('inc_by_id');
SELECT * FROM medallion_drop_model('inc_nowm');
SELECT count(*) AS state_left FROM medallion.model_state;
DROP SCHEMA inc CASCADE;
