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

-- what verify cannot compare as it is: floats past real's range (compared
-- as they are), a type without an equality (as text), and what the order
-- of the rows decides (string_agg without ORDER BY, row_number, in a
-- UNION ALL's branches too: not compared, the query itself may give
-- another each time); none of them is
-- a difference, and none fails the build
CREATE SCHEMA mvx;
CREATE TABLE mvx.t (id int PRIMARY KEY, g int NOT NULL, v int, x float8);
INSERT INTO mvx.t SELECT i, i % 5, i, CASE WHEN i = 7 THEN 1e300 WHEN i = 8 THEN 1e-300 ELSE i END
  FROM generate_series(1, 20) i;
SELECT medallion_create_model('mvx_f', 'SELECT g, max(x) AS mx, min(x) AS mn FROM mvx.t GROUP BY g',
  layer => 'silver', maintain => 'incremental');
SELECT medallion_create_model('mvx_p', 'SELECT g, point(max(v), min(v)) AS p FROM mvx.t GROUP BY g',
  layer => 'silver', maintain => 'incremental');
SELECT medallion_create_model('mvx_s', $$SELECT g, string_agg(v::text, ',') AS vs, count(*) AS n FROM mvx.t GROUP BY g$$,
  layer => 'silver', maintain => 'incremental');
SELECT medallion_create_model('mvx_r', 'SELECT id, g, row_number() OVER (PARTITION BY g) AS r FROM mvx.t',
  layer => 'silver', maintain => 'incremental');
CREATE TABLE mvx.u (id int PRIMARY KEY, g int NOT NULL, v int);
INSERT INTO mvx.u SELECT i, 100 + i % 3, i FROM generate_series(1, 9) i;
SELECT medallion_create_model('mvx_u', $$SELECT g, string_agg(v::text, ',') AS vs FROM mvx.t GROUP BY g
    UNION ALL SELECT g, string_agg(v::text, ';') FROM mvx.u GROUP BY g$$,
  layer => 'silver', maintain => 'incremental');
SELECT count(*) FROM medallion_run('mvx_f mvx_p mvx_s mvx_r mvx_u');
SET medallion.maintain_verify = on;
UPDATE mvx.t SET v = v + 1, x = x * 2 WHERE id IN (1, 2, 7);
SELECT model, status, split_part(message, ' (', 1) AS message FROM medallion_run('mvx_f mvx_p mvx_s mvx_r mvx_u') ORDER BY model;
SET medallion.maintain_verify = sample;
UPDATE mvx.t SET v = v + 1 WHERE id IN (3, 8);
SELECT model, status, split_part(message, ' (', 1) AS message FROM medallion_run('mvx_f mvx_p mvx_s mvx_r mvx_u') ORDER BY model;
RESET medallion.maintain_verify;
SELECT mhelp.diff('mvx_f') AS f,
       (SELECT count(*) FROM ((SELECT g, p::text FROM silver.mvx_p EXCEPT ALL SELECT g, point(max(v), min(v))::text FROM mvx.t GROUP BY g)
         UNION ALL (SELECT g, point(max(v), min(v))::text FROM mvx.t GROUP BY g EXCEPT ALL SELECT g, p::text FROM silver.mvx_p)) d) AS p;
SELECT count(*) FROM (SELECT medallion_drop_model(m) FROM unnest(ARRAY['mvx_f', 'mvx_p', 'mvx_s', 'mvx_r', 'mvx_u']) m) d;
DROP SCHEMA mvx CASCADE;
