--
-- Row-level deltas (issue 31, src/changes_deltas.c): the rows each
-- transaction wrote and deleted, logged by the writer.  Differential: a
-- copy of a table taken under a snapshot S1, plus the consolidated delta
-- since S1 read now, equals the table now, as multisets, after writes of
-- every kind (inserts, updates of keys and values, deletes, MERGE, ON
-- CONFLICT, COPY, writes rolled back to a savepoint or whole, two-phase
-- commits, an update that changes nothing, replica role; through a
-- partitioned table, a leaf, and across partitions).
--
SET client_min_messages = warning;
-- the logs captured by hand here are read by no model: the delta trimmer
-- of an earlier test's last run (it drops such logs) is waited for first
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
SELECT mhelp.wait_trimmer();
CREATE SCHEMA dx;
CREATE TABLE dx.t (id int PRIMARY KEY, g text, v numeric, f float8, d date);
INSERT INTO dx.t SELECT i, 'g' || i % 5, i * 1.5, i / 3.0, date '2024-01-01' + i FROM generate_series(1, 50) i;
CREATE TABLE dx.p (id int, region text, v int) PARTITION BY LIST (region);
CREATE TABLE dx.p_n PARTITION OF dx.p FOR VALUES IN ('n');
CREATE TABLE dx.p_s PARTITION OF dx.p FOR VALUES IN ('s') PARTITION BY RANGE (id);
CREATE TABLE dx.p_s1 PARTITION OF dx.p_s FOR VALUES FROM (0) TO (100);
CREATE TABLE dx.p_s2 PARTITION OF dx.p_s FOR VALUES FROM (100) TO (1000);
INSERT INTO dx.p SELECT i, CASE WHEN i % 2 = 0 THEN 'n' ELSE 's' END, i FROM generate_series(1, 30) i;

SELECT medallion.capture_deltas('dx.t', ARRAY['id', 'g', 'v', 'f', 'd']);
SELECT medallion.capture_deltas('dx.p', ARRAY['id', 'region', 'v']);
-- triggers on the table and every table below it; the row trigger on plain tables only
SELECT c.relname, string_agg(t.tgname || '=' || t.tgenabled::text, ', ' ORDER BY t.tgname) AS triggers
  FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'medallion_deltas%'
 WHERE c.relnamespace = 'dx'::regnamespace GROUP BY 1 ORDER BY 1;
-- a partition on its own is refused: its parent's statements log there
SELECT medallion.capture_deltas('dx.p_s1', ARRAY['id']);
-- a type without equality is refused
CREATE TABLE dx.j (id int, doc json);
SELECT medallion.capture_deltas('dx.j', ARRAY['id', 'doc']);
SELECT medallion.delta_state('dx.t') IS NOT NULL AS t_captured, medallion.delta_state('dx.j') IS NULL AS j_not;

-- S1: the copies, read under the snapshot that is stored
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_current_snapshot()::text AS s1 \gset
CREATE TABLE dx.t_s1 AS SELECT * FROM dx.t;
CREATE TABLE dx.p_s1_copy AS SELECT * FROM dx.p;
COMMIT;
SELECT medallion.delta_state('dx.t') AS t_state_s1, medallion.delta_state('dx.p') AS p_state_s1 \gset

-- writes of every kind
INSERT INTO dx.t VALUES (100, 'new', 1, 0.5, '2025-01-01'), (101, NULL, NULL, NULL, NULL);
UPDATE dx.t SET v = v + 1 WHERE id <= 5;
UPDATE dx.t SET id = id + 1000 WHERE id = 7;              -- a key moves
UPDATE dx.t SET v = v WHERE id BETWEEN 10 AND 12;         -- changes nothing: cancels
DELETE FROM dx.t WHERE id IN (20, 21);
INSERT INTO dx.t VALUES (200, 'x', 1, 1, NULL);
DELETE FROM dx.t WHERE id = 200;                          -- inserted and deleted: cancels
INSERT INTO dx.t VALUES (30, 'conflict', 0, 0, NULL) ON CONFLICT (id) DO UPDATE SET g = excluded.g;
INSERT INTO dx.t VALUES (300, 'no conflict', 0, 0, NULL) ON CONFLICT (id) DO NOTHING;
MERGE INTO dx.t t USING (VALUES (31, 'merged'), (400, 'merged new'), (32, NULL)) s (id, g) ON t.id = s.id
 WHEN MATCHED AND s.g IS NULL THEN DELETE
 WHEN MATCHED THEN UPDATE SET g = s.g
 WHEN NOT MATCHED THEN INSERT (id, g) VALUES (s.id, s.g);
COPY dx.t (id, g, v) FROM stdin;
500	copied	5
501	copied	6
\.
BEGIN;
INSERT INTO dx.t VALUES (600, 'kept', 1, 1, NULL);
SAVEPOINT s;
INSERT INTO dx.t VALUES (601, 'rolled back', 1, 1, NULL);
UPDATE dx.t SET g = 'rolled back' WHERE id = 1;
ROLLBACK TO s;
COMMIT;
BEGIN;
DELETE FROM dx.t WHERE id = 2;
ROLLBACK;
BEGIN;
UPDATE dx.t SET g = 'prepared' WHERE id = 3;
PREPARE TRANSACTION 'dx_prepared';
COMMIT PREPARED 'dx_prepared';
BEGIN;
UPDATE dx.t SET g = 'prepared, rolled back' WHERE id = 4;
PREPARE TRANSACTION 'dx_rolled_back';
ROLLBACK PREPARED 'dx_rolled_back';
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE dx.t SET f = -1 WHERE id = 40;
INSERT INTO dx.t VALUES (700, 'replica', 7, 7, NULL);
COMMIT;
-- statements of many rows: logged in batches of 1,000 (heap_multi_insert)
INSERT INTO dx.t SELECT i, 'bulk', i, i, NULL FROM generate_series(10001, 12500) i;
UPDATE dx.t SET v = v + 1 WHERE id BETWEEN 10001 AND 11200;
DELETE FROM dx.t WHERE id > 12400;
-- the partitioned table: through the top, a middle level, a leaf, across partitions
INSERT INTO dx.p VALUES (40, 'n', 40), (140, 's', 140);
UPDATE dx.p_s SET v = v + 100 WHERE id < 10;
DELETE FROM dx.p_s1 WHERE id = 11;
UPDATE dx.p SET region = 'n' WHERE id = 13;               -- moves to another partition
UPDATE dx.p SET id = id + 100 WHERE id = 15;              -- moves to another leaf
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO dx.p_n VALUES (50, 'n', 50);
COMMIT;

-- the copy and the delta give the table now, both ways
SELECT medallion.delta_sql('dx.t', :'s1') AS t_delta, medallion.delta_sql('dx.p', :'s1') AS p_delta \gset
CREATE TEMP VIEW t_delta AS :t_delta;
CREATE TEMP VIEW p_delta AS :p_delta;
SELECT (SELECT count(*) FROM (SELECT * FROM dx.t EXCEPT ALL
          ((SELECT * FROM dx.t_s1 UNION ALL SELECT id, g, v, f, d FROM t_delta, generate_series(1, medallion_w) WHERE medallion_w > 0)
           EXCEPT ALL SELECT id, g, v, f, d FROM t_delta, generate_series(1, -medallion_w) WHERE medallion_w < 0)) x) AS t_missing,
       (SELECT count(*) FROM (((SELECT * FROM dx.t_s1 UNION ALL SELECT id, g, v, f, d FROM t_delta, generate_series(1, medallion_w) WHERE medallion_w > 0)
           EXCEPT ALL SELECT id, g, v, f, d FROM t_delta, generate_series(1, -medallion_w) WHERE medallion_w < 0) EXCEPT ALL SELECT * FROM dx.t) x) AS t_extra,
       (SELECT count(*) FROM (SELECT id, g, v, f, d FROM t_delta, generate_series(1, -medallion_w) WHERE medallion_w < 0
          EXCEPT ALL SELECT * FROM dx.t_s1) x) AS t_deleted_unknown,
       (SELECT count(*) FROM (SELECT * FROM dx.p EXCEPT ALL
          ((SELECT * FROM dx.p_s1_copy UNION ALL SELECT id, region, v FROM p_delta, generate_series(1, medallion_w) WHERE medallion_w > 0)
           EXCEPT ALL SELECT id, region, v FROM p_delta, generate_series(1, -medallion_w) WHERE medallion_w < 0)) x) AS p_missing,
       (SELECT count(*) FROM (((SELECT * FROM dx.p_s1_copy UNION ALL SELECT id, region, v FROM p_delta, generate_series(1, medallion_w) WHERE medallion_w > 0)
           EXCEPT ALL SELECT id, region, v FROM p_delta, generate_series(1, -medallion_w) WHERE medallion_w < 0) EXCEPT ALL SELECT * FROM dx.p) x) AS p_extra;
-- what cancelled is not there: the update that changed nothing, the row
-- inserted then deleted, what rolled back (none of these rows)
SELECT id, g, medallion_w FROM t_delta WHERE id IN (10, 11, 12, 200, 601) OR g LIKE '%rolled back%' ORDER BY id, medallion_w;
-- the delta itself, small enough to read
SELECT id, g, v, medallion_w FROM t_delta WHERE id < 10000 ORDER BY id, medallion_w;
SELECT medallion_w, count(*), min(id), max(id), sum(v) FROM t_delta WHERE id > 10000 GROUP BY medallion_w;
SELECT id, region, v, medallion_w FROM p_delta ORDER BY id, medallion_w;
-- a snapshot that sees everything: no delta
SELECT pg_current_snapshot()::text AS s2 \gset
SELECT medallion.delta_sql('dx.t', :'s2') AS t_delta2 \gset
SELECT count(*) AS nothing_since FROM (:t_delta2) d;

-- what every write is not logged through changes the state: TRUNCATE, a partition attached
SELECT medallion.delta_state('dx.t') = :'t_state_s1' AS t_state_same;
TRUNCATE dx.t;
SELECT medallion.delta_state('dx.t') IS DISTINCT FROM :'t_state_s1' AS t_state_after_truncate_differs;
CREATE TABLE dx.p_e (id int, region text, v int);
ALTER TABLE dx.p ATTACH PARTITION dx.p_e FOR VALUES IN ('e');
SELECT medallion.delta_state('dx.p') IS NULL AS p_not_all_logged;
SELECT medallion.capture_deltas('dx.p', ARRAY['id']);
SELECT c.relname, count(*) AS delta_triggers FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'medallion_deltas%'
 WHERE c.oid = 'dx.p_e'::regclass GROUP BY 1;
SELECT medallion.delta_state('dx.p') IS NOT NULL AND medallion.delta_state('dx.p') <> :'p_state_s1' AS p_captured_again;

-- only the extension owner captures by hand; nobody reads the logs but it
CREATE ROLE dx_user;
SET ROLE dx_user;
SELECT medallion.capture_deltas('dx.t', ARRAY['id']);
SELECT count(*) FROM medallion_delta.d1;
RESET ROLE;
DROP ROLE dx_user;
DROP SCHEMA dx CASCADE;
