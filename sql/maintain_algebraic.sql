--
-- The algebraic path of maintained GROUP BYs (issue 31,
-- src/changes_apply.c ChangesMaintainCombine, docs/incremental-maintenance.md):
-- when only new rows arrived, in one table, and every output column is a
-- grouping column, a count, a sum of integers or numeric, a min or a max,
-- the new rows' aggregates are added to their groups' rows (new groups
-- inserted) without reading the groups' other rows.  Updates and deletes
-- take the same path when no column is a min or max, every sum is of
-- values never NULL and of one scale, and a count counts every row: the
-- old images' aggregates are subtracted, a group whose count comes to
-- zero deleted (the section "old images").  Anything else (two tables
-- changed, avg, a sum of floats, HAVING, an expression over aggregates)
-- recomputes the groups.  Differential: after
-- each change the published table equals the model's query (EXCEPT ALL
-- both ways, ma.diffs), with NULL group keys, NULL values, new groups, a
-- partitioned table and medallion.maintain_verify on.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE SCHEMA ma;
CREATE TABLE ma.regions (id int PRIMARY KEY, label text);
CREATE TABLE ma.sales (id int PRIMARY KEY, region_id int, tag text, qty int, amount numeric, w float8);
CREATE INDEX ON ma.sales (region_id);
INSERT INTO ma.regions VALUES (1, 'north'), (2, 'south'), (3, 'east'), (4, NULL), (5, 'west');
INSERT INTO ma.sales
  SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE 1 + i % 4 END,
         CASE WHEN i % 7 = 0 THEN NULL ELSE 't' || (i % 6) END,
         CASE WHEN i % 5 = 0 THEN NULL ELSE i % 11 END, (i % 13) * 2.5, i / 3.0
    FROM generate_series(1, 3000) i;
ANALYZE ma.regions, ma.sales;

CREATE FUNCTION ma.run(selector text)
RETURNS TABLE (model text, status text, message text) LANGUAGE sql AS $$
	SELECT r.model, r.status, mhelp.mask(r.message)
	  FROM medallion_run(selector, changed_only => true) r ORDER BY r.model
$$;

-- on the algebraic path: grouping columns (a NULL key), counts, sums of
-- integers and numeric (NULL values), min and max (of text, of floats);
-- a GROUP BY over a join
SELECT medallion_create_model('ma_by_tag',
  $$SELECT region_id, tag, count(*) AS n, count(qty) AS n_qty, sum(qty) AS qty, sum(amount) AS amount,
           min(tag) AS first_tag, max(w) AS top_w
      FROM ma.sales GROUP BY region_id, tag$$, layer => 'gold', indexes => ARRAY['region_id']);
SELECT medallion_create_model('ma_by_label',
  $$SELECT r.label, count(*) AS n, sum(s.amount) FILTER (WHERE s.qty > 3) AS big, min(s.w) AS low_w
      FROM ma.sales s JOIN ma.regions r ON r.id = s.region_id GROUP BY r.label$$, layer => 'gold');
-- recomputed: avg, a sum of floats, HAVING, an expression over aggregates
SELECT medallion_create_model('ma_other',
  $$SELECT region_id, avg(amount) AS mean, sum(w) AS w, count(*) + 0 AS n
      FROM ma.sales GROUP BY region_id$$, layer => 'gold');
SELECT medallion_create_model('ma_having',
  'SELECT tag, count(*) AS n FROM ma.sales GROUP BY tag HAVING count(*) > 400', layer => 'gold');
CREATE VIEW ma.diffs AS
  SELECT mhelp.diff('ma_by_tag') AS by_tag, mhelp.diff('ma_by_label') AS by_label,
         mhelp.diff('ma_other') AS other, mhelp.diff('ma_having') AS having_;
SELECT model, maintain FROM medallion_plan('ma_by_tag ma_by_label ma_other ma_having') ORDER BY model;
SELECT count(*) FROM medallion_run('ma_by_tag ma_by_label ma_other ma_having');

-- new sales: into existing groups, new groups (a new tag, a NULL tag in a
-- region that had none), NULL amounts and quantities
INSERT INTO ma.sales VALUES
  (3001, 1, 't1', 4, 10, 0.5), (3002, 2, 'new', NULL, NULL, 99), (3003, NULL, NULL, 2, 1.25, -3),
  (3004, 5, NULL, NULL, 7, NULL), (3005, 5, 't9', 8, NULL, 1e10);
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
-- a group whose sum was NULL gets a value; its min and max move
INSERT INTO ma.sales VALUES (3006, 2, 'new', 6, 3, -100), (3007, 2, 'new', 1, NULL, 1000);
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
SELECT * FROM gold.ma_by_tag WHERE region_id = 2 AND tag = 'new';
-- sales of regions not yet known (they join nothing), then the regions
-- alone: their new rows added through the join
INSERT INTO ma.sales VALUES (3008, 6, 't1', 5, 2, 2), (3009, 7, 't1', 5, 2, 2), (3010, 7, 't2', 1, 1, 1);
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
INSERT INTO ma.regions VALUES (6, 'north'), (7, 'far');
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
-- an update, rows deleted, new rows in both tables of the join: recomputed
UPDATE ma.sales SET region_id = 6 WHERE id = 3009;
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
DELETE FROM ma.sales WHERE id IN (3001, 3002);
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
INSERT INTO ma.regions VALUES (8, 'south');
INSERT INTO ma.sales VALUES (3011, 8, 't3', 2, 2, 2);
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;

-- checked by medallion.maintain_verify = on: the sums are the query's
SET medallion.maintain_verify = on;
INSERT INTO ma.sales SELECT i, 1 + i % 6, 't' || (i % 3), i % 7, i % 9, i / 7.0 FROM generate_series(3020, 3100) i;
SELECT * FROM ma.run('ma_by_tag ma_by_label ma_other ma_having');
SELECT * FROM ma.diffs;
RESET medallion.maintain_verify;

-- a partitioned table: its new rows through the partitions
CREATE TABLE ma.events (id int, day date, kind text, n int) PARTITION BY RANGE (day);
CREATE TABLE ma.events_1 PARTITION OF ma.events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE ma.events_2 PARTITION OF ma.events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO ma.events SELECT i, date '2026-01-01' + i % 50, 'k' || (i % 4), i FROM generate_series(1, 500) i;
SELECT medallion_create_model('ma_events',
  'SELECT kind, count(*) AS n, sum(n) AS total, max(day) AS last_day FROM ma.events GROUP BY kind', layer => 'gold');
SELECT count(*) FROM medallion_run('ma_events');
INSERT INTO ma.events VALUES (501, '2026-02-20', 'k1', 5), (502, '2026-01-03', 'k9', NULL);
SELECT * FROM ma.run('ma_events');
SELECT mhelp.diff('ma_events') AS events;

-- a table of 10,000 rows or more gets an index on its key columns at its
-- first maintained build (its keys' rows are found through it), kept by
-- the builds after it
CREATE TABLE ma.many (id int, k int, v int);
INSERT INTO ma.many SELECT i, i % 12000, i FROM generate_series(1, 24000) i;
ANALYZE ma.many;
SELECT medallion_create_model('ma_many', 'SELECT k, count(*) AS n, sum(v) AS v FROM ma.many GROUP BY k',
  layer => 'gold');
SELECT count(*) FROM medallion_run('ma_many');
ANALYZE gold.ma_many;
SELECT count(*) AS indexes_before FROM pg_index WHERE indrelid = 'gold.ma_many'::regclass;
UPDATE ma.many SET v = v + 1 WHERE id = 7;
SELECT * FROM ma.run('ma_many');
SELECT indexdef FROM pg_indexes WHERE schemaname = 'gold' AND tablename = 'ma_many';
SELECT count(*) FROM medallion_run('ma_many', full_refresh => true);
SELECT indexdef FROM pg_indexes WHERE schemaname = 'gold' AND tablename = 'ma_many';
SELECT mhelp.diff('ma_many') AS many;
-- the algebraic path weighed against the ledger's durations (made up, as in
-- maintain.sql, so that the choice does not depend on this machine): a
-- hundred new rows into their groups are added ...
SET medallion.maintain_weighed_ms = 100;
ANALYZE ma.many, gold.ma_many;
UPDATE medallion.run_models SET ms = 1000
 WHERE model = 'ma_many' AND (message IS NULL OR message NOT LIKE 'incremental:%');
INSERT INTO ma.many SELECT i, i % 100, 1 FROM generate_series(30001, 30100) i;
SELECT * FROM ma.run('ma_many');
-- ... 3,000 new groups are not: a group written costs sixteen rows of the
-- full build, more than rebuilding the 12,000
INSERT INTO ma.many SELECT i, i, 1 FROM generate_series(100001, 103000) i;
SELECT * FROM ma.run('ma_many');
SELECT mhelp.diff('ma_many') AS many;
SET medallion.maintain_weighed_ms = '1h';
SELECT * FROM medallion_drop_model('ma_many');

-- old images: updates and deletes subtracted from their groups when every
-- sum is of values never NULL (NOT NULL columns and arithmetic over them)
-- and of one scale (integers, numeric(p,s)), and a count counts every row
CREATE TABLE ma.lines (id int PRIMARY KEY, region_id int, tag text NOT NULL, qty int NOT NULL,
                       price numeric(8,2) NOT NULL, loose numeric NOT NULL, maybe int);
INSERT INTO ma.lines
  SELECT i, CASE WHEN i % 13 = 0 THEN NULL ELSE 1 + i % 5 END, 't' || (i % 4), 1 + i % 9,
         (i % 40) / 4.0, (i % 7) / 2.0, CASE WHEN i % 3 = 0 THEN NULL ELSE i END
    FROM generate_series(1, 2000) i;
-- subtracted: count(*), a sum of an int, of numeric(8,2) and of their product
SELECT medallion_create_model('ma_lines',
  $$SELECT region_id, tag, count(*) AS n, sum(qty) AS qty, sum(price) AS price,
           sum(qty * price) AS amount, count(maybe) AS n_maybe
      FROM ma.lines GROUP BY region_id, tag$$, layer => 'gold');
-- over a join: the changed table's old rows meet the others as they are
SELECT medallion_create_model('ma_lines_by_label',
  $$SELECT r.label, count(*) AS n, sum(l.qty) AS qty FROM ma.lines l JOIN ma.regions r ON r.id = l.region_id
     GROUP BY r.label$$, layer => 'gold');
-- recomputed: a sum of values that may be NULL; a sum of numeric of any
-- scale (1.5 + 2.25 less 2.25 is 1.50, the sum of 1.5 alone is 1.5); a
-- max; no count of every row (count(maybe) skips NULLs); a sum filtered
SELECT medallion_create_model('ma_lines_nullable',
  'SELECT tag, count(*) AS n, sum(maybe) AS maybe FROM ma.lines GROUP BY tag', layer => 'gold');
SELECT medallion_create_model('ma_lines_scale',
  'SELECT tag, count(*) AS n, sum(loose) AS loose FROM ma.lines GROUP BY tag', layer => 'gold');
SELECT medallion_create_model('ma_lines_max',
  'SELECT tag, count(*) AS n, max(qty) AS top FROM ma.lines GROUP BY tag', layer => 'gold');
SELECT medallion_create_model('ma_lines_uncounted',
  'SELECT tag, count(maybe) AS n, sum(qty) AS qty FROM ma.lines GROUP BY tag', layer => 'gold');
SELECT medallion_create_model('ma_lines_filtered',
  'SELECT tag, count(*) AS n, sum(qty) FILTER (WHERE price > 5) AS qty FROM ma.lines GROUP BY tag',
  layer => 'gold');
CREATE VIEW ma.line_diffs AS
  SELECT mhelp.diff('ma_lines') AS lines, mhelp.diff('ma_lines_by_label') AS by_label,
         mhelp.diff('ma_lines_nullable') AS nullable, mhelp.diff('ma_lines_scale') AS scale,
         mhelp.diff('ma_lines_max') AS max, mhelp.diff('ma_lines_uncounted') AS uncounted,
         mhelp.diff('ma_lines_filtered') AS filtered,
         (SELECT count(*) FROM gold.ma_lines_scale g
           WHERE NOT EXISTS (SELECT FROM (SELECT tag, sum(loose)::text AS loose FROM ma.lines GROUP BY tag) q
                              WHERE q.tag = g.tag AND q.loose = g.loose::text)) AS scale_as_text;
SELECT model, maintain FROM medallion_plan('ma_lines ma_lines_by_label ma_lines_nullable ma_lines_scale ma_lines_max ma_lines_uncounted ma_lines_filtered')
 ORDER BY model;
SELECT count(*) FROM medallion_run('ma_lines ma_lines_by_label ma_lines_nullable ma_lines_scale ma_lines_max ma_lines_uncounted ma_lines_filtered');
-- values updated; rows moved to another group (a NULL key among them);
-- a row inserted and deleted since the last build; a numeric of a larger
-- scale taken out again
UPDATE ma.lines SET qty = qty + 1, price = price + 0.25 WHERE id % 50 = 1;
UPDATE ma.lines SET region_id = NULL, tag = 't9' WHERE id IN (2, 3);
UPDATE ma.lines SET region_id = 4 WHERE region_id IS NULL AND id % 2 = 0;
INSERT INTO ma.lines VALUES (5000, 1, 't1', 1, 1, 0.125, NULL);
DELETE FROM ma.lines WHERE id = 5000;
UPDATE ma.lines SET loose = loose + 0.001 WHERE id = 10;
SELECT * FROM ma.run('ma_lines ma_lines_by_label ma_lines_nullable ma_lines_scale ma_lines_max ma_lines_uncounted ma_lines_filtered');
SELECT * FROM ma.line_diffs;
UPDATE ma.lines SET loose = loose - 0.001 WHERE id = 10;
SELECT * FROM ma.run('ma_lines_scale');
SELECT * FROM ma.line_diffs;
-- deletes: a whole group goes (t9), others shrink; rows of a region the
-- join does not know
DELETE FROM ma.lines WHERE tag = 't9' OR id % 7 = 0;
SELECT * FROM ma.run('ma_lines ma_lines_by_label ma_lines_nullable ma_lines_scale ma_lines_max ma_lines_uncounted ma_lines_filtered');
SELECT * FROM ma.line_diffs;
SELECT count(*) AS t9_groups FROM gold.ma_lines WHERE tag = 't9';
-- an update, inserts and deletes at once, checked by maintain_verify
SET medallion.maintain_verify = on;
UPDATE ma.lines SET qty = qty * 2 WHERE id % 11 = 0;
INSERT INTO ma.lines SELECT i, i % 3, 't' || (i % 5), i % 4, i % 10, 0, i FROM generate_series(6000, 6100) i;
DELETE FROM ma.lines WHERE id BETWEEN 100 AND 160;
SELECT * FROM ma.run('ma_lines ma_lines_by_label ma_lines_nullable ma_lines_scale ma_lines_max ma_lines_uncounted ma_lines_filtered');
SELECT * FROM ma.line_diffs;
RESET medallion.maintain_verify;
-- weighed before anything is copied (the ledger's durations made up, so
-- that the choice does not depend on this machine): a new image costs
-- two rows of the full build, an old one four, so 700 of them cost more
-- than a full build of one second over 1,800 rows: rebuilt at once, the
-- log only counted;
-- then 66 are maintained (the full build measured since is too short to
-- weigh: the guards decide)
SET medallion.maintain_weighed_ms = 100;
ANALYZE ma.lines, gold.ma_lines;
UPDATE medallion.run_models SET ms = 1000
 WHERE model = 'ma_lines' AND (message IS NULL OR message NOT LIKE 'incremental:%');
UPDATE ma.lines SET qty = qty + 1 WHERE id % 5 = 1;
SELECT * FROM ma.run('ma_lines');
UPDATE ma.lines SET qty = qty + 1 WHERE id % 50 = 3;
SELECT * FROM ma.run('ma_lines');
SELECT mhelp.diff('ma_lines') AS lines;
SET medallion.maintain_weighed_ms = '1h';
-- the dimension of the join changed alone: its old row's lines taken
-- from one label, its new row's added to another
UPDATE ma.regions SET label = 'north' WHERE id = 2;
SELECT * FROM ma.run('ma_lines_by_label');
SELECT * FROM ma.line_diffs;
-- a run in a transaction that wrote its table first: the snapshot it
-- stores counts that transaction as unseen (what it writes after the run
-- is new to the next build), so the next build reads all its rows again,
-- those the run took in place too: it recomputes their groups, and takes
-- nothing twice.  The build after that takes changes in place again
BEGIN;
DELETE FROM ma.lines WHERE id = 25;
SELECT * FROM ma.run('ma_lines');
UPDATE ma.lines SET qty = qty + 1 WHERE id = 26;
COMMIT;
SELECT * FROM ma.run('ma_lines');
SELECT mhelp.diff('ma_lines') AS lines;
UPDATE ma.lines SET qty = qty + 1 WHERE id = 27;
SELECT * FROM ma.run('ma_lines');
SELECT mhelp.diff('ma_lines') AS lines;
-- one that writes only after its run: the next build takes it in place
BEGIN;
SELECT count(*) FROM ma.run('ma_lines');
UPDATE ma.lines SET qty = qty + 1 WHERE id = 29;
COMMIT;
SELECT * FROM ma.run('ma_lines');
SELECT mhelp.diff('ma_lines') AS lines;
-- a NOT NULL dropped and a NULL written: its sums are recomputed from then
-- on (a run reads the plan's NOT NULLs again once it holds its tables);
-- the first build is whole (the column's catalog row changed)
ALTER TABLE ma.lines ALTER COLUMN qty DROP NOT NULL;
UPDATE ma.lines SET qty = NULL WHERE tag = 't1' AND region_id = 2;
DELETE FROM ma.lines WHERE id = 4;
SELECT * FROM ma.run('ma_lines');
SELECT mhelp.diff('ma_lines') AS lines, (SELECT qty FROM gold.ma_lines WHERE tag = 't1' AND region_id = 2) AS t1_qty;
UPDATE ma.lines SET qty = NULL WHERE tag = 't1' AND region_id = 3;
DELETE FROM ma.lines WHERE id = 5;
SELECT * FROM ma.run('ma_lines');
SELECT mhelp.diff('ma_lines') AS lines, (SELECT qty FROM gold.ma_lines WHERE tag = 't1' AND region_id = 3) AS t1_qty;
DROP VIEW ma.line_diffs;
SELECT medallion_drop_model(m)
  FROM unnest(ARRAY['ma_lines', 'ma_lines_by_label', 'ma_lines_nullable', 'ma_lines_scale', 'ma_lines_max',
                    'ma_lines_uncounted', 'ma_lines_filtered']) m;

SELECT * FROM medallion_drop_model('ma_events');
DROP VIEW ma.diffs;
SELECT * FROM medallion_drop_model('ma_by_tag');
SELECT * FROM medallion_drop_model('ma_by_label');
SELECT * FROM medallion_drop_model('ma_other');
SELECT * FROM medallion_drop_model('ma_having');
DROP SCHEMA ma CASCADE;
