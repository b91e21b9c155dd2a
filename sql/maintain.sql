--
-- Maintained table models (issue 31, src/changes_maintain.c,
-- docs/incremental-maintenance.md): a table model whose query is a GROUP
-- BY over one table is brought up to date, in a change-aware run, by
-- recomputing only the groups its table's row deltas touch.  Differential:
-- after every kind of write the published table equals the model's query
-- (EXCEPT ALL both ways, mt.diff); the step's message says what ran.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE SCHEMA mt;
CREATE TABLE mt.sales (id int PRIMARY KEY, region text, product int, amount numeric, qty int);
CREATE INDEX ON mt.sales (region);
CREATE INDEX ON mt.sales (product);
INSERT INTO mt.sales
  SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'r' || (i % 5) END, i % 3, i * 1.5, i % 10
    FROM generate_series(1, 2000) i;
ANALYZE mt.sales;

-- a run's steps, what varies in messages masked: run numbers, the table's
-- rows (pg_class.reltuples, an estimate), measured and estimated durations
CREATE FUNCTION mt.run(selector text, full_refresh boolean DEFAULT false)
RETURNS TABLE (model text, status text, message text) LANGUAGE sql AS $$
	SELECT r.model, r.status,
	       mhelp.mask(r.message)
	  FROM medallion_run(selector, full_refresh => full_refresh) r ORDER BY r.model
$$;
CREATE VIEW mt.diffs AS
  SELECT mhelp.diff('mt_by_region') AS by_region, mhelp.diff('mt_by_product') AS by_product;

-- two keys (one with NULLs; an index on the other: the rows of the keys are
-- found through it), min and max, WHERE and HAVING; one key, avg
SELECT medallion_create_model('mt_by_region',
  $$SELECT region, product, sum(amount) AS amount, count(*) AS n, min(qty) AS lo, max(qty) AS hi
      FROM mt.sales WHERE qty <> 3 GROUP BY region, product HAVING count(*) > 1$$, layer => 'gold',
  indexes => ARRAY['product']);
SELECT medallion_create_model('mt_by_product',
  'SELECT product, avg(amount) AS avg_amount, max(amount) AS top FROM mt.sales GROUP BY product',
  layer => 'gold');
-- outside the class, and one that asks to be rebuilt whole
SELECT medallion_create_model('mt_ranked', 'SELECT id, rank() OVER (ORDER BY amount) AS r FROM mt.sales',
                              layer => 'gold');
SELECT medallion_create_model('mt_total', 'SELECT count(*) AS n FROM mt.sales', layer => 'gold');
SELECT medallion_create_model('mt_joined',
  'SELECT s.region, count(*) AS n FROM mt.sales s JOIN mt.sales t ON t.id = s.id + 1 GROUP BY s.region',
  layer => 'gold');
SELECT medallion_create_model('mt_whole', 'SELECT product, sum(qty) AS qty FROM mt.sales GROUP BY product',
                              layer => 'gold', maintain => 'full');
SELECT name, maintain FROM medallion.models WHERE name LIKE 'mt\_%' ORDER BY name;
-- the plan says how each table model is brought up to date, and what prevents it
SELECT model, maintain FROM medallion_plan('mt_by_region mt_by_product mt_ranked mt_total mt_joined mt_whole')
 ORDER BY model;
-- maintain => 'incremental' refuses a query it cannot maintain
\set VERBOSITY default
SELECT medallion_create_model('mt_strict', 'SELECT id, rank() OVER (ORDER BY amount) AS r FROM mt.sales',
                              layer => 'gold', maintain => 'incremental');
\set VERBOSITY terse
SELECT medallion_create_model('mt_bad', 'SELECT 1 AS one', layer => 'gold', maintain => 'sometimes');

-- row capture only for the table maintained models read, with their columns
SELECT tgname FROM pg_trigger WHERE tgrelid = 'mt.sales'::regclass AND tgname LIKE 'medallion_deltas%' ORDER BY 1;
SELECT 'mt.sales'::regclass::oid AS sales \gset
SELECT string_agg(attname, ', ' ORDER BY attnum) AS logged
  FROM pg_attribute WHERE attrelid = ('medallion_delta.d' || :sales)::regclass AND attnum > 0;

-- the first build is whole; the next one with nothing new builds nothing
SELECT * FROM mt.run('mt_by_region mt_by_product mt_whole');
SELECT model, status FROM medallion_run('mt_by_region mt_by_product mt_whole') ORDER BY model;
SELECT * FROM mt.diffs;
SELECT to_regclass('medallion_history.mt_by_region') IS NOT NULL AS previous_kept;

-- new rows, in old groups and a new one: replaced in place, in the published
-- table itself (its storage is the same), and the version kept before goes:
-- it is no longer the one just replaced
SELECT pg_relation_filenode('gold.mt_by_region') AS filenode \gset
INSERT INTO mt.sales VALUES (3001, 'r1', 0, 10, 1), (3002, 'r9', 7, 20, 2), (3003, 'r9', 7, 30, 5);
SELECT * FROM mt.run('mt_by_region mt_by_product mt_whole');
SELECT * FROM mt.diffs;
SELECT pg_relation_filenode('gold.mt_by_region') = :filenode AS same_storage,
       to_regclass('medallion_history.mt_by_region') IS NOT NULL AS previous_kept;
SELECT medallion_rollback('mt_by_region');
-- updates of values, and of keys (a row moves to another group)
UPDATE mt.sales SET amount = amount + 1 WHERE id IN (1, 2, 3);
UPDATE mt.sales SET region = 'r2', product = 5 WHERE id = 11;
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
-- a group deleted whole, the extremes of others (min, max)
DELETE FROM mt.sales WHERE region = 'r9';
DELETE FROM mt.sales WHERE id = (SELECT id FROM mt.sales WHERE region = 'r1' AND product = 0 ORDER BY qty DESC, id LIMIT 1);
DELETE FROM mt.sales WHERE id = (SELECT id FROM mt.sales ORDER BY amount DESC LIMIT 1);
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
-- NULL keys: a row into the NULL region, one out of it, a NULL product
INSERT INTO mt.sales VALUES (4001, NULL, 1, 5, 1), (4002, NULL, NULL, 6, 2), (4003, NULL, NULL, 7, 4);
UPDATE mt.sales SET region = 'r0' WHERE id = 7;
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
SELECT region, product, n FROM gold.mt_by_region WHERE region IS NULL OR product IS NULL ORDER BY 1, 2;
-- a row leaving the WHERE clause, a group leaving the HAVING clause
UPDATE mt.sales SET qty = 3 WHERE id = 4003;
SELECT * FROM mt.run('mt_by_region');
SELECT * FROM mt.diffs;
-- subtransactions rolled back, in a transaction that commits
BEGIN;
INSERT INTO mt.sales VALUES (5001, 'r3', 2, 100, 1);
SAVEPOINT a;
INSERT INTO mt.sales VALUES (5002, 'r4', 2, 100, 1);
DELETE FROM mt.sales WHERE region = 'r0';
ROLLBACK TO SAVEPOINT a;
UPDATE mt.sales SET amount = 0 WHERE id = 5001;
SAVEPOINT b;
UPDATE mt.sales SET product = 9;
ROLLBACK TO SAVEPOINT b;
COMMIT;
-- and a transaction rolled back whole
BEGIN;
DELETE FROM mt.sales WHERE product = 1;
ROLLBACK;
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
-- a prepared transaction: not seen by the run before it commits, seen by the next one
BEGIN;
INSERT INTO mt.sales VALUES (6001, 'r2', 0, 1000, 1), (6002, 'p', 0, 1, 1);
UPDATE mt.sales SET region = 'p' WHERE id = 12;
PREPARE TRANSACTION 'mt_2pc';
INSERT INTO mt.sales VALUES (6003, 'r2', 0, 1, 1);
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
COMMIT PREPARED 'mt_2pc';
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
SELECT region, product, n FROM gold.mt_by_region WHERE region = 'p';
-- an insert then a delete of the same row cancel: nothing to recompute
INSERT INTO mt.sales VALUES (7001, 'r1', 1, 1, 1);
DELETE FROM mt.sales WHERE id = 7001;
SELECT * FROM mt.run('mt_by_region');
SELECT * FROM mt.diffs;

-- a failing blocking test: the step rolls back, and the published table, the
-- version kept before and the build's stored state are as they were
SELECT model, status FROM medallion_run('mt_by_region', full_refresh => true);
CREATE TABLE mt.published AS SELECT * FROM gold.mt_by_region;
SELECT snapshot AS stored FROM medallion.build_state WHERE model = 'mt_by_region' \gset
SELECT medallion_add_test('mt_by_region', 'expression', expression => 'amount < 10000000') AS test \gset
INSERT INTO mt.sales VALUES (8001, 'r1', 1, 50000000, 1);
SELECT model, status, split_part(message, ':', 1) AS message FROM mt.run('mt_by_region');
SELECT (SELECT count(*) FROM ((TABLE gold.mt_by_region EXCEPT ALL TABLE mt.published)
        UNION ALL (TABLE mt.published EXCEPT ALL TABLE gold.mt_by_region)) d) AS changed,
       to_regclass('medallion_history.mt_by_region') IS NOT NULL AS previous_kept,
       (SELECT snapshot::text FROM medallion.build_state WHERE model = 'mt_by_region') = :'stored' AS same_state;
-- the row fixed, the next build recomputes its group from the last one that published
UPDATE mt.sales SET amount = 5 WHERE id = 8001;
SELECT * FROM mt.run('mt_by_region');
SELECT mhelp.diff('mt_by_region') AS by_region;
SELECT medallion_drop_test('mt_by_region', :'test') IS NOT NULL AS dropped;
DROP TABLE mt.published;

-- the choice by cost, against the ledger's durations (made up here, so
-- that the choice does not depend on this machine): a full build of ten
-- minutes is worth maintaining for a change of a sixth of the table's rows
-- (a third in delta rows: past the change-ratio guard, short of its
-- backstop) in one of its groups ...
SET medallion.maintain_weighed_ms = 100;
UPDATE medallion.run_models SET ms = 600000
 WHERE model = 'mt_by_product' AND (message IS NULL OR message NOT LIKE 'incremental:%');
UPDATE mt.sales SET qty = qty + 1 WHERE product = 1 AND id % 2 = 0;
SELECT * FROM mt.run('mt_by_product');
SELECT mhelp.diff('mt_by_product') AS by_product;
-- ... and one of 100 ms is not, when its past maintained builds each took 100 s
UPDATE medallion.run_models SET ms = 100
 WHERE model = 'mt_by_product' AND (message IS NULL OR message NOT LIKE 'incremental:%');
UPDATE medallion.run_models SET ms = 100000 WHERE model = 'mt_by_product' AND message LIKE 'incremental:%';
UPDATE mt.sales SET qty = qty + 1 WHERE id = 42;
SELECT * FROM mt.run('mt_by_product');
SELECT mhelp.diff('mt_by_product') AS by_product;
SET medallion.maintain_weighed_ms = '1h';

-- a large share of the table changed: rebuilt whole (the backstop)
UPDATE mt.sales SET amount = amount * 2 WHERE id % 3 = 0;
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
-- TRUNCATE logs nothing: rebuilt whole, then maintained again
CREATE TABLE mt.saved AS SELECT * FROM mt.sales;
TRUNCATE mt.sales;
INSERT INTO mt.sales SELECT * FROM mt.saved;
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
UPDATE mt.sales SET qty = qty + 1 WHERE id = 100;
SELECT * FROM mt.run('mt_by_region mt_by_product');
SELECT * FROM mt.diffs;
-- maintain => 'incremental' fails rather than rebuild whole
SELECT medallion_create_model('mt_by_product',
  'SELECT product, avg(amount) AS avg_amount, max(amount) AS top FROM mt.sales GROUP BY product',
  layer => 'gold', maintain => 'incremental');
SELECT model, status FROM medallion_run('mt_by_product');
UPDATE mt.sales SET qty = qty + 1 WHERE id = 101;
SELECT * FROM mt.run('mt_by_product');
TRUNCATE mt.sales;
INSERT INTO mt.sales SELECT * FROM mt.saved;
SELECT * FROM mt.run('mt_by_product');
SELECT model, status FROM medallion_run('mt_by_product', full_refresh => true);
SELECT * FROM mt.diffs;

-- joins keyed by a driving table: order lines joined to customers and regions;
-- the output carries the orders' key, so a change to any of the three tables
-- maps, through the joins, to the orders whose rows it touches
CREATE TABLE mt.regions (id int PRIMARY KEY, label text);
CREATE TABLE mt.customers (id int PRIMARY KEY, name text, region_id int);
CREATE TABLE mt.orders (id int PRIMARY KEY, customer_id int, amount numeric, status text);
CREATE INDEX ON mt.orders (customer_id);
INSERT INTO mt.regions VALUES (1, 'north'), (2, 'south'), (3, 'east'), (4, 'west');
INSERT INTO mt.customers SELECT i, 'c' || i, 1 + i % 3 FROM generate_series(1, 50) i;
INSERT INTO mt.orders SELECT i, 1 + i % 50, i, CASE WHEN i % 5 = 0 THEN 'void' ELSE 'ok' END
  FROM generate_series(1, 500) i;
ANALYZE mt.regions, mt.customers, mt.orders;
SELECT medallion_create_model('mt_lines',
  $$SELECT o.id AS order_id, c.name, r.label AS region, o.amount
      FROM mt.orders o JOIN mt.customers c ON c.id = o.customer_id JOIN mt.regions r ON r.id = c.region_id
     WHERE o.status <> 'void'$$, layer => 'gold', indexes => ARRAY['order_id']);
SELECT medallion_create_model('mt_names',
  'SELECT c.name, r.label FROM mt.customers c JOIN mt.regions r ON r.id = c.region_id', layer => 'gold');
SELECT medallion_create_model('mt_left',
  'SELECT o.id, c.name FROM mt.orders o LEFT JOIN mt.customers c ON c.id = o.customer_id', layer => 'gold');
-- GROUP BY over joins: a change to one table maps to groups through the others
SELECT medallion_create_model('mt_by_label',
  $$SELECT r.label, count(*) AS n, sum(o.amount) AS amount, max(c.name) AS last_name
      FROM mt.orders o JOIN mt.customers c ON c.id = o.customer_id JOIN mt.regions r ON r.id = c.region_id
     WHERE o.status <> 'void' GROUP BY r.label$$, layer => 'gold');
SELECT medallion_create_model('mt_by_name',
  'SELECT c.name, o.status, count(*) AS n FROM mt.orders o, mt.customers c WHERE c.id = o.customer_id GROUP BY c.name, o.status',
  layer => 'gold');
CREATE VIEW mt.join_diffs AS
  SELECT mhelp.diff('mt_lines') AS lines, mhelp.diff('mt_by_label') AS by_label, mhelp.diff('mt_by_name') AS by_name;
SELECT model, maintain FROM medallion_plan('mt_lines mt_names mt_left mt_by_label mt_by_name') ORDER BY model;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
-- new orders, an order leaving the WHERE clause, an order deleted
INSERT INTO mt.orders VALUES (501, 7, 10, 'ok'), (502, 8, 20, 'ok');
UPDATE mt.orders SET status = 'void' WHERE id = 3;
DELETE FROM mt.orders WHERE id = 4;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
-- a customer renamed: its orders, through the join
UPDATE mt.customers SET name = 'renamed' WHERE id = 7;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
-- a customer moved to another region, another deleted (its orders join nothing)
UPDATE mt.customers SET region_id = 4 WHERE id = 8;
DELETE FROM mt.customers WHERE id = 9;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
-- a region nobody is in changes: no key
UPDATE mt.regions SET label = 'nowhere' WHERE id = 4 AND NOT EXISTS (SELECT FROM mt.customers WHERE region_id = 4);
INSERT INTO mt.regions VALUES (5, 'new');
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
-- a region relabelled touches a third of the orders: rebuilt whole (the cost guard)
UPDATE mt.regions SET label = 'NORTH' WHERE id = 1;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
-- two tables changed: rebuilt whole
UPDATE mt.orders SET amount = 0 WHERE id = 10;
UPDATE mt.customers SET name = 'again' WHERE id = 11;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
UPDATE mt.orders SET customer_id = 12 WHERE id = 11;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
-- half of the orders updated (two log rows each: all of the table):
-- rebuilt whole before the delta is copied, the GROUP BYs over joins too
-- (their largest table is counted)
UPDATE mt.orders SET amount = amount + 1 WHERE id % 2 = 0;
SELECT * FROM mt.run('mt_lines mt_by_label mt_by_name');
SELECT * FROM mt.join_diffs;
SELECT * FROM medallion_drop_model('mt_lines');
SELECT * FROM medallion_drop_model('mt_names');
SELECT * FROM medallion_drop_model('mt_left');
SELECT * FROM medallion_drop_model('mt_by_name');
DROP VIEW mt.join_diffs;
SELECT * FROM medallion_drop_model('mt_by_label');
SELECT count(*) AS logs_left FROM pg_class
 WHERE relnamespace = 'medallion_delta'::regnamespace
   AND relname IN ('d' || 'mt.orders'::regclass::oid, 'd' || 'mt.customers'::regclass::oid, 'd' || 'mt.regions'::regclass::oid);

-- the log is trimmed: rows every stored snapshot sees go once the run that
-- built its readers has committed, by a worker of its own (waited for
-- here), which truncates it when nothing holds it; the run itself trims
-- nothing
SELECT pg_relation_filenode('medallion_delta.d' || :sales) AS log_storage \gset
SELECT model, status FROM medallion_run('mt_by_region mt_by_product') ORDER BY model;
SELECT model, status FROM medallion_run('mt_by_region mt_by_product') ORDER BY model;
SELECT mhelp.wait_trimmer();
SELECT count(*) AS log_rows_left,
       pg_relation_filenode('medallion_delta.d' || :sales) <> :log_storage AS log_truncated
  FROM medallion_delta.d:sales;
UPDATE mt.sales SET qty = qty WHERE id <= 10;
BEGIN;
SELECT model, status FROM medallion_run('mt_by_region mt_by_product') ORDER BY model;
SELECT count(*) AS log_rows_in_run FROM medallion_delta.d:sales;
COMMIT;
SELECT mhelp.wait_trimmer();
SELECT count(*) AS log_rows_left FROM medallion_delta.d:sales;

-- the log goes with the last model that reads it; a dropped table leaves none behind
SELECT medallion_create_model('mt_by_region',
  $$SELECT region, product, sum(amount) AS amount, count(*) AS n, min(qty) AS lo, max(qty) AS hi
      FROM mt.sales WHERE qty <> 3 GROUP BY region, product HAVING count(*) > 1$$, layer => 'gold',
  maintain => 'full');
SELECT to_regclass('medallion_delta.d' || :sales) IS NOT NULL AS still_logged;
SELECT * FROM medallion_drop_model('mt_by_product');
SELECT to_regclass('medallion_delta.d' || :sales) IS NOT NULL AS still_logged,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'mt.sales'::regclass AND tgname LIKE 'medallion_deltas%') AS triggers;
CREATE TABLE mt.other (k int, v int);
INSERT INTO mt.other VALUES (1, 1), (2, 2);
SELECT medallion_create_model('mt_other', 'SELECT k, sum(v) AS v FROM mt.other GROUP BY k', layer => 'gold');
SELECT 'mt.other'::regclass::oid AS other \gset
SELECT to_regclass('medallion_delta.d' || :other) IS NOT NULL AS other_logged;
DROP TABLE mt.other CASCADE;
SELECT model, status FROM medallion_run('mt_by_region');
SELECT mhelp.wait_trimmer();
SELECT to_regclass('medallion_delta.d' || :other) IS NOT NULL AS other_logged;
SELECT * FROM medallion_drop_model('mt_other');

-- columns named as a log's own (xid, w) are captured as any other; the
-- log keeps medallion_xid and medallion_w for itself: a table column of
-- either name is not captured, and its models are rebuilt whole
CREATE TABLE mt.named (id int PRIMARY KEY, xid int, w numeric, medallion_w int);
INSERT INTO mt.named SELECT i, i % 4, i, i FROM generate_series(1, 40) i;
SELECT medallion_create_model('mt_named', 'SELECT xid, sum(w) AS w, count(*) AS n FROM mt.named GROUP BY xid',
                              layer => 'gold');
SELECT medallion_create_model('mt_named_w',
  'SELECT xid, max(medallion_w) AS top FROM mt.named GROUP BY xid', layer => 'gold');
SELECT model, maintain FROM medallion_plan('mt_named mt_named_w') ORDER BY model;
SELECT medallion_create_model('mt_named_w2',
  'SELECT xid, max(medallion_w) AS top FROM mt.named GROUP BY xid', layer => 'gold', maintain => 'incremental');
SELECT * FROM mt.run('mt_named mt_named_w');
UPDATE mt.named SET xid = 9, w = w + 1 WHERE id IN (3, 4);
INSERT INTO mt.named VALUES (41, 1, 1, 1);
SELECT * FROM mt.run('mt_named mt_named_w');
SELECT mhelp.diff('mt_named') AS named, mhelp.diff('mt_named_w') AS named_w;
SELECT * FROM medallion_drop_model('mt_named');
SELECT * FROM medallion_drop_model('mt_named_w');

-- a log of more than 512 blocks is counted on a sample of its blocks
-- before the copy (changes_deltas.c): 70,000 of 100,000 rows updated are
-- 140,000 log rows, past the backstop: rebuilt at once.  Then a few rows
-- in a log that another reader's backlog keeps large: the sample does
-- not take it for a large delta, the copy counts it exactly, maintained
CREATE TABLE mt.big (id int PRIMARY KEY, g int, v int);
INSERT INTO mt.big SELECT i, i % 100, i FROM generate_series(1, 100000) i;
ANALYZE mt.big;
SELECT medallion_create_model('mt_big', 'SELECT g, sum(v) AS v, max(v) AS top FROM mt.big GROUP BY g',
                              layer => 'gold');
SELECT medallion_create_model('mt_big_other', 'SELECT g, min(v) AS low FROM mt.big GROUP BY g',
                              layer => 'gold');
SELECT model, status FROM medallion_run('mt_big mt_big_other') ORDER BY model;
UPDATE mt.big SET v = v + 1 WHERE id <= 70000;
SELECT pg_relation_size('medallion_delta.d' || 'mt.big'::regclass::oid) > 512 * 8192 AS log_sampled;
SELECT * FROM mt.run('mt_big');
UPDATE mt.big SET v = v + 1 WHERE id IN (5, 70005);
SELECT mhelp.wait_trimmer();
SELECT pg_relation_size('medallion_delta.d' || 'mt.big'::regclass::oid) > 512 * 8192 AS log_sampled;
SELECT * FROM mt.run('mt_big');
SELECT * FROM mt.run('mt_big_other');
SELECT mhelp.diff('mt_big') AS big, mhelp.diff('mt_big_other') AS big_other;
SELECT * FROM medallion_drop_model('mt_big');
SELECT * FROM medallion_drop_model('mt_big_other');

SELECT * FROM medallion_drop_model('mt_by_region');
SELECT * FROM medallion_drop_model('mt_ranked');
SELECT * FROM medallion_drop_model('mt_total');
SELECT * FROM medallion_drop_model('mt_joined');
SELECT * FROM medallion_drop_model('mt_whole');
DROP SCHEMA mt CASCADE;
