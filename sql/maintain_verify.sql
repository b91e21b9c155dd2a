--
-- medallion.maintain_verify (issue 31, src/changes_verify.c): a maintained
-- build is compared with the model's query, over the whole table (on) or
-- a sample of keys (sample); on a difference a warning says so and the
-- model is rebuilt whole.  A difference is made here by hand: a group of
-- the published table changed behind medallion's back, which a maintained
-- build (it keeps the groups no change touched) would carry on.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE SCHEMA mv;
CREATE TABLE mv.sales (id int PRIMARY KEY, region text, amount numeric, score float8);
CREATE INDEX ON mv.sales (region);
INSERT INTO mv.sales
  SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE 'r' || (i % 6) END, i * 1.5, i * 0.1
    FROM generate_series(1, 3000) i;
ANALYZE mv.sales;
CREATE FUNCTION mv.diff(model text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	q text;
	n bigint;
BEGIN
	SELECT m.sql INTO q FROM medallion.models m WHERE m.name = model;
	EXECUTE format('SELECT count(*) FROM ((SELECT region, n, amount FROM gold.%I EXCEPT ALL SELECT region, n, amount FROM (%s) q) '
				   'UNION ALL (SELECT region, n, amount FROM (%s) q EXCEPT ALL SELECT region, n, amount FROM gold.%I)) d',
				   model, q, q, model) INTO n;
	RETURN n;
END
$$;
CREATE FUNCTION mv.run(selector text)
RETURNS TABLE (model text, status text, message text) LANGUAGE sql AS $$
	SELECT r.model, r.status, mhelp.mask(r.message)
	  FROM medallion_run(selector) r ORDER BY r.model
$$;
SELECT medallion_create_model('mv_by_region',
  'SELECT region, count(*) AS n, sum(amount) AS amount, sum(score) AS score FROM mv.sales GROUP BY region',
  layer => 'gold');
SELECT model, status FROM mv.run('mv_by_region');

-- the setting: off by default, three values
SHOW medallion.maintain_verify;
SET medallion.maintain_verify = 'always';
SET medallion.maintain_verify = 'sample';
RESET medallion.maintain_verify;

-- off: a group changed by hand stays changed (nothing checks it)
UPDATE gold.mv_by_region SET n = n + 100 WHERE region = 'r1';
INSERT INTO mv.sales VALUES (5001, 'r2', 10, 0.5);
SELECT * FROM mv.run('mv_by_region');
SELECT mv.diff('mv_by_region') AS differing_rows;

-- on: the whole table is compared; the difference is found, said, and the
-- model rebuilt whole
SET medallion.maintain_verify = on;
INSERT INTO mv.sales VALUES (5002, 'r3', 10, 0.5);
SELECT * FROM mv.run('mv_by_region');
SELECT mv.diff('mv_by_region') AS differing_rows;
-- with nothing wrong, the build stays incremental
INSERT INTO mv.sales VALUES (5003, 'r3', 10, 0.5), (5004, NULL, 3, 0.25);
DELETE FROM mv.sales WHERE id = 22;
SELECT * FROM mv.run('mv_by_region');
SELECT mv.diff('mv_by_region') AS differing_rows;

-- sample: some recomputed keys and some keys left alone (with 7 groups,
-- all of them); a group changed by hand is found, the NULL group too
SET medallion.maintain_verify = sample;
UPDATE gold.mv_by_region SET amount = amount + 1 WHERE region IS NULL;
INSERT INTO mv.sales VALUES (5005, 'r4', 10, 0.5);
SELECT * FROM mv.run('mv_by_region');
SELECT mv.diff('mv_by_region') AS differing_rows;
UPDATE mv.sales SET amount = amount + 2 WHERE id IN (1, 2, 3);
SELECT * FROM mv.run('mv_by_region');
SELECT mv.diff('mv_by_region') AS differing_rows;

-- maintain => 'incremental' fails rather than rebuild whole, but a failed
-- check is rebuilt all the same (what is published must be right)
SELECT medallion_create_model('mv_by_region_inc',
  'SELECT region, count(*) AS n, sum(amount) AS amount FROM mv.sales GROUP BY region',
  layer => 'gold', maintain => 'incremental');
SELECT model, status FROM mv.run('mv_by_region_inc');
SET medallion.maintain_verify = on;
UPDATE gold.mv_by_region_inc SET n = 0 WHERE region = 'r5';
INSERT INTO mv.sales VALUES (5006, 'r0', 10, 0.5);
SELECT * FROM mv.run('mv_by_region_inc');
SELECT mv.diff('mv_by_region_inc') AS differing_rows;
RESET medallion.maintain_verify;

-- the sample's work table is gone
SELECT count(*) AS work_tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'medallion_build' AND c.relname LIKE 'maintain\_%';

SELECT medallion_drop_model('mv_by_region_inc');
SELECT medallion_drop_model('mv_by_region');
DROP SCHEMA mv CASCADE;
