--
-- Change capture, exactly: every way a table can change makes the models
-- reading it build, whichever table of a partitioned or inherited family
-- a statement names; the change log stays bounded whatever the layout.
--
SET medallion.log_timing = off;
SET client_min_messages = warning;
-- a maintained model's choice by the change-ratio guard, its estimate masked
SET medallion.maintain_weighed_ms = '1h';
CREATE SCHEMA chx;

-- 1. Partitions: a statement naming the partitioned table fires its
--    trigger, not its partitions'; one naming a leaf fires the leaf's.
CREATE TABLE chx.sales (id int, region text, amount numeric) PARTITION BY LIST (region);
CREATE TABLE chx.sales_n PARTITION OF chx.sales FOR VALUES IN ('n') PARTITION BY RANGE (id);
CREATE TABLE chx.sales_n1 PARTITION OF chx.sales_n FOR VALUES FROM (0) TO (100);
CREATE TABLE chx.sales_s PARTITION OF chx.sales FOR VALUES IN ('s');
INSERT INTO chx.sales VALUES (1, 'n', 10), (2, 's', 20);
SELECT medallion_create_model('chx_all', 'SELECT region, sum(amount) AS amount FROM chx.sales GROUP BY region',
  layer => 'silver');
SELECT medallion_create_model('chx_leaf', 'SELECT sum(amount) AS amount FROM chx.sales_n1', layer => 'silver');
-- every table of the family has its triggers, the partitioned ones the statement trigger only
SELECT c.relname, string_agg(t.tgname || '=' || t.tgenabled::text, ', ' ORDER BY t.tgname) AS triggers
  FROM pg_class c LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'medallion_changes%'
 WHERE c.relnamespace = 'chx'::regnamespace GROUP BY 1 ORDER BY 1;
SELECT model, status FROM medallion_run('chx_all chx_leaf');
SELECT model, status FROM medallion_run('chx_all chx_leaf');
-- through the top: the leaf's reader builds too
INSERT INTO chx.sales VALUES (3, 'n', 30);
SELECT model, status, regexp_replace(regexp_replace(message, 'run \d+', 'run N'), ' \(est\. [^)]*\)', '') AS message
  FROM medallion_run('chx_all chx_leaf');
-- through the middle
UPDATE chx.sales_n SET amount = amount + 1 WHERE id = 3;
SELECT model, status, regexp_replace(regexp_replace(message, 'run \d+', 'run N'), ' \(est\. [^)]*\)', '') AS message
  FROM medallion_run('chx_all chx_leaf');
-- into the other leaf: only the parent's reader
DELETE FROM chx.sales_s;
SELECT model, status, regexp_replace(regexp_replace(message, 'run \d+', 'run N'), ' \(est\. [^)]*\)', '') AS message
  FROM medallion_run('chx_all chx_leaf');
SELECT (SELECT amount FROM silver.chx_leaf) = (SELECT sum(amount) FROM chx.sales_n1) AS leaf_exact,
       (SELECT count(*) FROM silver.chx_all) = (SELECT count(DISTINCT region) FROM chx.sales) AS all_exact;

-- 2. Inheritance: a child's rows are read through its parent
CREATE TABLE chx.events (id int, kind text);
CREATE TABLE chx.events_2024 () INHERITS (chx.events);
INSERT INTO chx.events VALUES (1, 'a');
INSERT INTO chx.events_2024 VALUES (2, 'b');
SELECT medallion_create_model('chx_events', 'SELECT count(*) AS n FROM chx.events', layer => 'silver');
SELECT c.relname, count(t.tgname) AS triggers
  FROM pg_class c LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'medallion_changes%'
 WHERE c.oid IN ('chx.events'::regclass, 'chx.events_2024'::regclass) GROUP BY 1 ORDER BY 1;
SELECT model, status FROM medallion_run('chx_events');
SELECT model, status FROM medallion_run('chx_events');
INSERT INTO chx.events_2024 VALUES (3, 'c');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chx_events');
-- a child made later is tracked when it is made
CREATE TABLE chx.events_2025 () INHERITS (chx.events);
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'chx.events_2025'::regclass;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chx_events');
INSERT INTO chx.events_2025 VALUES (4, 'd');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chx_events');
SELECT n FROM silver.chx_events;

-- 3. Writes in replica role fire the statement trigger (ALWAYS) and the
--    row trigger (REPLICA): the transaction is logged once
SET session_replication_role = replica;
INSERT INTO chx.events VALUES (5, 'e'), (6, 'f');
RESET session_replication_role;
SELECT count(*) AS logged FROM medallion.changes WHERE relid = 'chx.events'::regclass
   AND xid = (SELECT max(xid) FROM medallion.changes WHERE relid = 'chx.events'::regclass);
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chx_events');

-- 4. The log stays bounded: a view model keeps nothing, and a model that
--    is not run again has its change noted instead of holding rows back
CREATE TABLE chx.src (id int);
SELECT medallion_create_model('chx_view', 'SELECT id FROM chx.src', layer => 'bronze');
SELECT medallion_create_model('chx_idle', 'SELECT count(*) AS n FROM chx.src', layer => 'silver');
SELECT model, status FROM medallion_run('chx_view chx_idle');
DO $$
BEGIN
	FOR i IN 1 .. 50 LOOP
		INSERT INTO chx.src VALUES (i);
		COMMIT;
	END LOOP;
END $$;
SELECT count(*) >= 50 AS logged FROM medallion.changes WHERE relid = 'chx.src'::regclass;
SELECT medallion.trim_changes(0) >= 50 AS trimmed;
SELECT count(*) AS left_for_src FROM medallion.changes WHERE relid = 'chx.src'::regclass;
SELECT model, regexp_replace(changed, 'run \d+', 'run N') AS changed FROM medallion.build_state
 WHERE model IN ('chx_view', 'chx_idle') ORDER BY 1;
SELECT model, build, regexp_replace(why, 'run \d+', 'run N') AS why FROM medallion_plan('chx_idle');
SELECT model, status FROM medallion_run('chx_idle');
SELECT n FROM silver.chx_idle;
SELECT changed IS NULL AS cleared FROM medallion.build_state WHERE model = 'chx_idle';

-- 5. A table model whose table its owner dropped is not up to date
DROP TABLE silver.chx_idle;
SELECT model, status, message FROM medallion_run('chx_idle');
SELECT medallion_create_model('chx_idle', 'SELECT count(*) AS n FROM chx.src', layer => 'silver',
  description => 'defined again: its table is made again');
SELECT model, status FROM medallion_run('chx_idle');
SELECT n FROM silver.chx_idle;

-- 6. A source specification is data: a column type is a type name
SELECT medallion.source_sync('none', 'chx', '[{"table": "t", "columns": [{"name": "a", "type": "int) SERVER x; DROP TABLE chx.src; --"}]}]', NULL);
SELECT count(*) AS src_kept FROM chx.src;

-- 7. A trigger named like medallion's that calls something else logs
-- nothing: the table counts as untracked (its readers build), and
-- tracking it again puts medallion's back.  One made again, or disabled
-- and enabled, may have missed writes: the readers build once.
CREATE TABLE chx.fake (id int);
INSERT INTO chx.fake VALUES (1);
SELECT medallion_create_model('chx_fake', 'SELECT count(*) AS n FROM chx.fake', layer => 'silver');
SELECT model, status FROM medallion_run('chx_fake');
SELECT model, status FROM medallion_run('chx_fake');
CREATE FUNCTION chx.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
DROP TRIGGER medallion_changes ON chx.fake;
DROP TRIGGER medallion_changes_row ON chx.fake;
CREATE TRIGGER medallion_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON chx.fake
  FOR EACH STATEMENT EXECUTE FUNCTION chx.noop();
ALTER TABLE chx.fake ENABLE ALWAYS TRIGGER medallion_changes;
CREATE TRIGGER medallion_changes_row AFTER INSERT OR UPDATE OR DELETE ON chx.fake
  FOR EACH ROW EXECUTE FUNCTION chx.noop();
ALTER TABLE chx.fake ENABLE REPLICA TRIGGER medallion_changes_row;
INSERT INTO chx.fake VALUES (2), (3);
SELECT model, status FROM medallion_run('chx_fake');
SELECT n FROM silver.chx_fake;
SELECT medallion_track('chx.fake');
SELECT t.tgname, t.tgfoid::regproc FROM pg_trigger t WHERE t.tgrelid = 'chx.fake'::regclass ORDER BY 1;
SELECT model, status FROM medallion_run('chx_fake');
SELECT model, status FROM medallion_run('chx_fake');
ALTER TABLE chx.fake DISABLE TRIGGER medallion_changes;
INSERT INTO chx.fake VALUES (4);
ALTER TABLE chx.fake ENABLE ALWAYS TRIGGER medallion_changes;
SELECT model, status FROM medallion_run('chx_fake');
SELECT n FROM silver.chx_fake;

SELECT medallion_drop_model(name) FROM medallion.models WHERE name LIKE 'chx\_%' ORDER BY name DESC;
