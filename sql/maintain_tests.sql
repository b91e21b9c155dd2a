--
-- The tests of a maintained model built in place (issue 31,
-- src/tests_run.c TestsRunSome's written, src/changes_maintain.c
-- DELTAS_TESTED_MARK): when every test passed at the model's last build
-- and its tests are the same, a maintained build changes only the rows of
-- the keys it recomputes, so its not_null and accepted_values tests read
-- only the rows it wrote, and its unique tests the rows holding their
-- values; its other tests read the whole table.  Each count is the one
-- the whole table gives: checked here by failures in new rows, repeats
-- of untouched rows' values, and whole-table tests again after a warning
-- or a test added.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE SCHEMA mtt;
CREATE TABLE mtt.orders (id int PRIMARY KEY, status text);
CREATE TABLE mtt.lines (id int PRIMARY KEY, order_id int, code text, qty int, note text);
CREATE INDEX ON mtt.lines (order_id);
INSERT INTO mtt.orders SELECT i, CASE WHEN i % 3 = 0 THEN 'shipped' ELSE 'open' END FROM generate_series(1, 200) i;
INSERT INTO mtt.lines SELECT i, 1 + i % 200, 'c' || i, 1 + i % 5, 'n' FROM generate_series(1, 2000) i;
ANALYZE mtt.orders, mtt.lines;
SELECT medallion_create_model('mtt_lines',
  $$SELECT l.id, l.order_id, o.status, l.code, l.qty, l.note
      FROM mtt.lines l JOIN mtt.orders o ON o.id = l.order_id$$, layer => 'silver');
SELECT medallion_add_test('mtt_lines', 'unique', column_name => 'id');
SELECT medallion_add_test('mtt_lines', 'unique', column_name => 'code');
SELECT medallion_add_test('mtt_lines', 'not_null', column_name => 'qty');
SELECT medallion_add_test('mtt_lines', 'accepted_values', column_name => 'status',
  accepted => ARRAY['open', 'shipped']);
SELECT medallion_add_test('mtt_lines', 'row_count', min_rows => 1);
CREATE FUNCTION mtt.run()
RETURNS TABLE (status text, tests_passed int, tests_warned int, tests_failed int, message text)
LANGUAGE sql AS $$
	SELECT r.status, r.tests_passed, r.tests_warned, r.tests_failed,
	       mhelp.mask(regexp_replace(r.message, '; input table .*$', ''))
	  FROM medallion_run('mtt_lines') r
$$;
-- what failed, and how many rows, at the last run
CREATE VIEW mtt.failed AS
  SELECT test, status, failures FROM medallion.test_results
   WHERE run_id = (SELECT max(run_id) FROM medallion.runs) AND status <> 'pass' ORDER BY test;
-- whether the last build of mtt_lines recorded its tests as passed, and
-- how many queries its tests took at the last run: one over the whole
-- table (the row tests OR-ed, the unique and row_count tests) or, over
-- the rows written, three (the row_count test over the whole table, the
-- row tests over the rows written, the unique tests over their values)
CREATE VIEW mtt.marked AS
  SELECT s.deltas LIKE '% | tested %' AS tested_mark, m.test_queries
    FROM medallion.build_state s, medallion.run_models m
   WHERE s.model = 'mtt_lines' AND m.model = 'mtt_lines' AND m.run_id = (SELECT max(run_id) FROM medallion.runs);
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;

-- new lines, one changed: maintained, its tests passing on what it wrote
INSERT INTO mtt.lines VALUES (2001, 5, 'c2001', 2, 'n'), (2002, 6, 'c2002', 1, 'n');
UPDATE mtt.lines SET qty = 4 WHERE id = 7;
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
SELECT mhelp.diff('mtt_lines') AS diff;

-- a new line repeating the code of a line no change touched: one failure,
-- as over the whole table; the step fails and the table is left as it was
CREATE TEMP TABLE before AS SELECT count(*) AS n, md5(string_agg(t::text, ',' ORDER BY t.id)) AS h
  FROM silver.mtt_lines t;
INSERT INTO mtt.lines VALUES (2003, 9, 'c15', 1, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
SELECT count(*) = b.n AND md5(string_agg(t::text, ',' ORDER BY t.id)) = b.h AS unchanged
  FROM silver.mtt_lines t, before b GROUP BY b.n, b.h;
-- two new lines with one code, and a NULL quantity, and a status not
-- accepted: each counted in the rows written
UPDATE mtt.lines SET code = 'c2004' WHERE id = 2003;
INSERT INTO mtt.lines VALUES (2004, 10, 'c2004', NULL, 'n');
UPDATE mtt.orders SET status = 'lost' WHERE id = 11;
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
-- mended: maintained again, still tested on what it writes (the failing
-- builds were rolled back, the last passing one's mark stands)
UPDATE mtt.orders SET status = 'open' WHERE id = 11;
UPDATE mtt.lines SET qty = 1 WHERE id = 2004;
UPDATE mtt.lines SET code = 'c2003' WHERE id = 2003;
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
SELECT mhelp.diff('mtt_lines') AS diff;

-- a test whose last run warned: the next build tests the whole table, and
-- warns again for the untouched row
SELECT medallion_add_test('mtt_lines', 'accepted_values', column_name => 'note', accepted => ARRAY['n'],
  severity => 'warn');
UPDATE mtt.lines SET note = 'x' WHERE id = 100;
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
INSERT INTO mtt.lines VALUES (2005, 12, 'c2005', 3, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
SELECT * FROM mtt.marked;
UPDATE mtt.lines SET note = 'n' WHERE id = 100;
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;

-- a test added after the last build: it has not seen the untouched rows,
-- so it reads the whole table (a line no change touched has qty 5)
SELECT medallion_add_test('mtt_lines', 'accepted_values', column_name => 'qty',
  accepted => ARRAY['1', '2', '3', '4']);
INSERT INTO mtt.lines VALUES (2006, 13, 'c2006', 1, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
SELECT test_queries FROM medallion.run_models
 WHERE model = 'mtt_lines' AND run_id = (SELECT max(run_id) FROM medallion.runs);

-- an expression test reads the rows written too, through the binding of
-- its expression (the work table has the table's columns at the same
-- positions): with the row_count test dropped nothing reads the whole
-- table, two queries (the rows written, the unique tests' values)
SELECT medallion_drop_test('mtt_lines', 'accepted_values_qty') IS NOT NULL AS dropped;
SELECT medallion_drop_test('mtt_lines', 'row_count') IS NOT NULL AS dropped;
SELECT medallion_add_test('mtt_lines', 'expression', expression => 'qty > 0', name => 'qty_positive');
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
INSERT INTO mtt.lines VALUES (2007, 14, 'c2007', 0, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
SELECT test_queries FROM medallion.run_models
 WHERE model = 'mtt_lines' AND run_id = (SELECT max(run_id) FROM medallion.runs);
UPDATE mtt.lines SET qty = 1 WHERE id = 2007;
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
SELECT mhelp.diff('mtt_lines') AS diff;

-- a relationships test reads the rows written too, anti-joined to the
-- model it references, when that model and what it reads are as the last
-- build's tests saw them; else it reads the whole table
CREATE TABLE mtt.codes (code text PRIMARY KEY);
INSERT INTO mtt.codes SELECT 'c' || i FROM generate_series(1, 2100) i;
SELECT medallion_create_model('mtt_codes', $$SELECT code FROM mtt.codes$$, layer => 'bronze',
  materialized => 'view');
SELECT medallion_add_test('mtt_lines', 'relationships', column_name => 'code', to_model => 'mtt_codes',
  to_column => 'code', severity => 'warn', name => 'known_code');
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
-- a new line with a code nobody knows: one failure, a warning
INSERT INTO mtt.lines VALUES (2008, 15, 'zz1', 1, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
UPDATE mtt.lines SET code = 'c2008' WHERE id = 2008;
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
-- a code an untouched line holds deleted, and a new line: the relation
-- referenced changed, so the whole table is read and that line counted
DELETE FROM mtt.codes WHERE code = 'c20';
INSERT INTO mtt.lines VALUES (2009, 16, 'c2009', 1, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
-- ... and read again at the next build (its last run warned), then the
-- code back: passing, marked
INSERT INTO mtt.lines VALUES (2010, 17, 'c2010', 1, 'n');
SELECT * FROM mtt.run();
SELECT * FROM mtt.failed;
INSERT INTO mtt.codes VALUES ('c20');
SELECT * FROM mtt.run();
SELECT * FROM mtt.marked;
INSERT INTO mtt.lines VALUES (2011, 18, 'c2011', 1, 'n');
SELECT * FROM mtt.run();
SELECT mhelp.diff('mtt_lines') AS diff;

SELECT medallion_drop_model('mtt_codes');
SELECT medallion_drop_model('mtt_lines');
DROP SCHEMA mtt CASCADE;

-- what the rows written cannot tell: a test that passed with failing rows
-- under a threshold (the next build counts the whole table, not only the
-- rows it wrote), and expressions that may change with no row changed (a
-- function that is not immutable, a table read): those read the whole
-- table at every build
CREATE SCHEMA mtw;
CREATE TABLE mtw.t (id int PRIMARY KEY, g int NOT NULL, v int);
INSERT INTO mtw.t SELECT i, i, CASE WHEN i <= 2 THEN NULL ELSE i END FROM generate_series(1, 20) i;
CREATE TABLE mtw.known (g int PRIMARY KEY);
INSERT INTO mtw.known SELECT g FROM generate_series(1, 20) g;
CREATE TABLE mtw.limits (most int);
INSERT INTO mtw.limits VALUES (100);
CREATE FUNCTION mtw.most() RETURNS int LANGUAGE sql STABLE AS 'SELECT most FROM mtw.limits';
SELECT medallion_create_model('mtw_m', 'SELECT g, max(v) AS mv FROM mtw.t GROUP BY g',
  layer => 'silver', maintain => 'incremental');
SELECT medallion_add_test('mtw_m', 'not_null', column_name => 'mv', error_if => '> 3', warn_if => '> 3');
SELECT model, status FROM medallion_run('mtw_m');
SELECT s.deltas LIKE '% | tested %' AS tested_mark FROM medallion.build_state s WHERE s.model = 'mtw_m';
UPDATE mtw.t SET v = NULL WHERE id IN (3, 4);
SELECT model, status, split_part(message, ':', 1) AS message FROM medallion_run('mtw_m');
SELECT test, status, failures FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.test_results) ORDER BY test;
SELECT medallion_drop_test('mtw_m', 'not_null_mv');
UPDATE mtw.t SET v = 1 WHERE v IS NULL;
SELECT medallion_add_test('mtw_m', 'expression', expression => 'mv <= mtw.most()', name => 'at_most');
SELECT medallion_add_test('mtw_m', 'expression', expression => 'g IN (SELECT k.g FROM mtw.known k)', name => 'known');
SELECT model, status FROM medallion_run('mtw_m');
SELECT s.deltas LIKE '% | tested %' AS tested_mark FROM medallion.build_state s WHERE s.model = 'mtw_m';
-- untouched rows fail both now: the limit lowered, known values gone
UPDATE mtw.limits SET most = 15;
DELETE FROM mtw.known WHERE g IN (5, 6);
UPDATE mtw.t SET v = 2 WHERE id IN (7, 8);
SELECT model, status, split_part(message, ':', 1) AS message FROM medallion_run('mtw_m');
SELECT test, status, failures FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.test_results) ORDER BY test;
SELECT medallion_drop_model('mtw_m');
DROP SCHEMA mtw CASCADE;
