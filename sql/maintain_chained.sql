--
-- Maintained models reading a table model (issue 31, src/changes_maintain.c,
-- ChangesMaintainReadsModel): a table model's table is captured for the
-- maintained models of its owner that read it.  Its maintained builds
-- delete and insert rows in it, which its delta triggers log in the run's
-- transaction; a whole build swaps new storage in, which its readers see
-- in the state of capture: rebuilt whole in that run, maintained again in
-- the next.  Differential: after each run the published tables equal
-- their queries.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE SCHEMA mch;
CREATE TABLE mch.orders (id int PRIMARY KEY, customer_id int, status text);
CREATE TABLE mch.lines (id int PRIMARY KEY, order_id int, qty int, price numeric);
CREATE INDEX ON mch.lines (order_id);
INSERT INTO mch.orders SELECT i, 1 + i % 50, CASE WHEN i % 7 = 0 THEN 'void' ELSE 'ok' END
  FROM generate_series(1, 500) i;
INSERT INTO mch.lines SELECT i, 1 + i % 500, 1 + i % 4, (i % 30) + 0.25 FROM generate_series(1, 3000) i;
ANALYZE mch.orders, mch.lines;
-- silver: the lines with their orders (keyed by the line); gold: two
-- models over silver's table, a GROUP BY and a window, and a view between
SELECT medallion_create_model('mch_lines',
  $$SELECT l.id, l.order_id, o.customer_id, l.qty * l.price AS amount
      FROM mch.lines l JOIN mch.orders o ON o.id = l.order_id WHERE o.status <> 'void'$$, layer => 'silver');
SELECT medallion_create_model('mch_by_customer',
  $$SELECT customer_id, count(*) AS lines, sum(amount) AS amount FROM silver.mch_lines GROUP BY customer_id$$,
  layer => 'gold');
SELECT medallion_create_model('mch_big', $$SELECT * FROM silver.mch_lines WHERE amount > 50$$,
  layer => 'silver', materialized => 'view');
SELECT medallion_create_model('mch_rank',
  $$SELECT id, customer_id, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) AS r FROM silver.mch_big$$,
  layer => 'gold');
-- all three maintained, the gold ones from silver's table
SELECT model, maintain FROM medallion_plan('mch_lines+') WHERE materialized = 'table' ORDER BY model;
CREATE FUNCTION mch.run(selector text DEFAULT 'mch_lines+', full_refresh boolean DEFAULT false)
RETURNS TABLE (model text, status text, message text) LANGUAGE sql AS $$
	SELECT r.model, r.status, mhelp.mask(regexp_replace(r.message, '; input (table|model) .*$', ''))
	  FROM medallion_run(selector, full_refresh => full_refresh) r
	 WHERE r.model <> 'mch_big' ORDER BY r.model
$$;
CREATE VIEW mch.diffs AS
  SELECT mhelp.diff('mch_lines') AS lines, mhelp.diff('mch_by_customer') AS by_customer,
         mhelp.diff('mch_rank') AS rank;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;

-- new lines, a value changed, a line deleted: silver maintained, and the
-- gold models from silver's deltas (its deletes and inserts)
INSERT INTO mch.lines VALUES (3001, 3, 2, 40), (3002, 4, 1, 99);
UPDATE mch.lines SET qty = 4 WHERE id = 10;
DELETE FROM mch.lines WHERE id = 20;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;
-- an order voided: its lines leave silver, and their customers' groups
UPDATE mch.orders SET status = 'void' WHERE id = 11;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;
-- nothing changed: nothing built
SELECT * FROM mch.run();

-- silver rebuilt whole (a TRUNCATE of its input): its new storage is not
-- logged, so its readers are rebuilt whole in the same run...
TRUNCATE mch.lines;
INSERT INTO mch.lines SELECT i, 1 + i % 500, 1 + i % 3, (i % 20) + 0.5 FROM generate_series(1, 2500) i;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;
-- ... and maintained again in the next: their state was recorded with the
-- storage silver has once published
UPDATE mch.lines SET price = price + 1 WHERE id % 500 = 1;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;

-- silver rebuilt by a run of its own: the gold models see its new storage
-- at their next run and are rebuilt whole
SELECT * FROM mch.run('mch_lines', full_refresh => true);
INSERT INTO mch.lines VALUES (2501, 7, 1, 60);
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;
-- silver's previous version put back: readers built from the version
-- replaced are rebuilt whole (its storage is not theirs).  Silver then
-- lacks the line added, as rolled back; its readers equal their queries
SET medallion.keep_previous = on;
INSERT INTO mch.lines VALUES (2502, 8, 2, 70);
SELECT * FROM mch.run(full_refresh => true);
SELECT medallion_rollback('mch_lines');
RESET medallion.keep_previous;
SELECT * FROM mch.run('mch_by_customer mch_rank');
SELECT * FROM mch.diffs;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;

-- maintain => 'incremental' on a reader: refused, not rebuilt silently,
-- when silver is rebuilt whole in its run; nothing published changes
SELECT medallion_create_model('mch_by_customer',
  $$SELECT customer_id, count(*) AS lines, sum(amount) AS amount FROM silver.mch_lines GROUP BY customer_id$$,
  layer => 'gold', maintain => 'incremental');
SELECT * FROM mch.run(full_refresh => true);
UPDATE mch.lines SET qty = 9 WHERE id = 30;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;
TRUNCATE mch.lines;
INSERT INTO mch.lines SELECT i, 1 + i % 500, 2, 10 FROM generate_series(1, 100) i;
SELECT sum(lines) FROM gold.mch_by_customer;
SELECT * FROM mch.run();
SELECT sum(lines) FROM gold.mch_by_customer;
SELECT * FROM mch.run(full_refresh => true);
SELECT * FROM mch.diffs;

-- a run inside a transaction that wrote silver's input: silver's writes
-- are read again by the next build of its readers, which recomputes
-- their keys (exact) rather than adding them (they would count twice)
BEGIN;
INSERT INTO mch.lines VALUES (5001, 2, 3, 10), (5002, 52, 1, 70);
SELECT * FROM mch.run();
COMMIT;
SELECT * FROM mch.diffs;
DELETE FROM mch.lines WHERE id = 5002;
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;

-- silver defined again with a column more: its readers capture its table
-- as it is now, rebuilt whole once, then maintained
SELECT medallion_create_model('mch_by_customer',
  $$SELECT customer_id, count(*) AS lines, sum(amount) AS amount FROM silver.mch_lines GROUP BY customer_id$$,
  layer => 'gold');
SELECT medallion_create_model('mch_lines',
  $$SELECT l.id, l.order_id, o.customer_id, l.qty * l.price AS amount, l.qty
      FROM mch.lines l JOIN mch.orders o ON o.id = l.order_id WHERE o.status <> 'void'$$, layer => 'silver');
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;
UPDATE mch.lines SET qty = qty + 1 WHERE id IN (40, 41);
SELECT * FROM mch.run();
SELECT * FROM mch.diffs;

-- another owner's model reading silver's table is not maintained from it:
-- capture costs the builds of silver's owner, whose table it is
CREATE ROLE regress_mch_other LOGIN IN ROLE medallion_admin;
GRANT USAGE ON SCHEMA silver, gold TO regress_mch_other;
GRANT CREATE ON SCHEMA gold TO regress_mch_other;
GRANT SELECT ON silver.mch_lines TO regress_mch_other;
SET ROLE regress_mch_other;
SELECT medallion_create_model('mch_other',
  $$SELECT customer_id, count(*) AS n FROM silver.mch_lines GROUP BY customer_id$$, layer => 'gold');
RESET ROLE;
SELECT model, maintain FROM medallion_plan('mch_other');
SELECT medallion_drop_model('mch_other');
DROP OWNED BY regress_mch_other;
DROP ROLE regress_mch_other;

-- a join keyed by silver's table (its contract's primary key): silver's
-- new lines, inserted in place in the run's transaction, are the join's
-- only delta, new rows of its driving table, read again by its next
-- build (the state's reread mark), whose keys have rows already: deleted
-- before they are inserted again (without it, every line twice)
SELECT medallion_create_model('mch_lines_pk',
  $$SELECT l.id, l.order_id, o.customer_id, l.qty * l.price AS amount
      FROM mch.lines l JOIN mch.orders o ON o.id = l.order_id WHERE o.status <> 'void'$$, layer => 'silver',
  contract => '{"columns": [{"name": "id", "data_type": "integer", "primary_key": true},
                            {"name": "order_id", "data_type": "integer"}, {"name": "customer_id", "data_type": "integer"},
                            {"name": "amount", "data_type": "numeric"}]}');
SELECT medallion_create_model('mch_keyed',
  $$SELECT s.id, s.amount, o.status FROM silver.mch_lines_pk s JOIN mch.orders o ON o.id = s.order_id$$,
  layer => 'gold');
SELECT model, maintain FROM medallion_plan('mch_keyed');
SELECT * FROM mch.run('mch_lines_pk+');
INSERT INTO mch.lines SELECT i, 1 + i % 500, 2, 1.5 FROM generate_series(4001, 4010) i;
SELECT * FROM mch.run('mch_lines_pk+');
SELECT * FROM mch.run('mch_lines_pk+');
INSERT INTO mch.lines SELECT i, 1 + i % 500, 3, 2.5 FROM generate_series(4011, 4015) i;
SELECT * FROM mch.run('mch_lines_pk+');
SELECT mhelp.diff('mch_lines_pk') AS lines_pk, mhelp.diff('mch_keyed') AS keyed;
SELECT medallion_drop_model('mch_keyed');
SELECT medallion_drop_model('mch_lines_pk');

SELECT medallion_drop_model('mch_rank');
SELECT medallion_drop_model('mch_big');
SELECT medallion_drop_model('mch_by_customer');
SELECT medallion_drop_model('mch_lines');
DROP SCHEMA mch CASCADE;
