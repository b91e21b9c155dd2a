--
-- Change-aware runs: a model whose definition and inputs did not change
-- since its last build is not built again (reported up_to_date with the
-- reason); every kind of change to what it reads makes it build.
--
SET medallion.log_timing = off;
SET client_min_messages = warning;
CREATE SCHEMA chg;
CREATE TABLE chg.orders (id int, amount numeric, region text);
INSERT INTO chg.orders SELECT g, g * 10, CASE WHEN g % 2 = 0 THEN 'north' ELSE 'south' END
  FROM generate_series(1, 10) g;
SELECT medallion_create_model('chg_orders', 'SELECT id, amount, region FROM chg.orders', layer => 'silver');
SELECT medallion_create_model('chg_by_region',
  'SELECT region, sum(amount) AS amount, count(*) AS orders FROM chg_orders GROUP BY region', layer => 'gold');
SELECT medallion_create_model('chg_view', 'SELECT region, amount FROM chg_by_region', layer => 'gold',
                              materialized => 'view');
-- the model owner owns the table it reads: its writes are tracked
SELECT tgname, tgenabled, tgtype FROM pg_trigger WHERE tgrelid = 'chg.orders'::regclass ORDER BY tgname;

-- a run builds each model and records what it read; the next one skips them
SELECT model, status, rows, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
-- a model built says why it was built, never that it was never built (#30)
SELECT model, last_status, last_message FROM medallion.status WHERE model LIKE 'chg\_%' ORDER BY model;
SELECT model, status, rows, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
SELECT model, regexp_replace(inputs::text, '\d+', 'N', 'g') AS inputs FROM medallion.build_state WHERE model LIKE 'chg%' ORDER BY model;

-- the plan says which models a run would build, and why
SELECT model, build, why FROM medallion_plan('chg_orders+');
INSERT INTO chg.orders VALUES (13, 130, 'south');
SELECT model, build, regexp_replace(why, 'run \d+', 'run N') AS why FROM medallion_plan('chg_orders+');
DELETE FROM chg.orders WHERE id = 13;
-- forced
SELECT model, status FROM medallion_run('chg_orders+', changed_only => false);
SELECT model, status FROM medallion_run('chg_orders+', full_refresh => true);
SET medallion.changed_only = off;
SELECT model, status FROM medallion_run('chg_orders+');
RESET medallion.changed_only;

-- each kind of write makes the reader (and what reads it) build
INSERT INTO chg.orders VALUES (11, 110, 'north');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
UPDATE chg.orders SET amount = amount WHERE id = 1;   -- the same value: still a write
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
DELETE FROM chg.orders WHERE id = 11;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
COPY chg.orders FROM stdin;
12	120	south
\.
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
TRUNCATE chg.orders;
INSERT INTO chg.orders SELECT g, g * 10, 'north' FROM generate_series(1, 3) g;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
-- replication's apply runs as a replica: the trigger, enabled always, still fires
SET session_replication_role = replica;
INSERT INTO chg.orders VALUES (14, 140, 'north');
RESET session_replication_role;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
-- a write rolled back is no change; one in a subtransaction that commits is
BEGIN;
INSERT INTO chg.orders VALUES (99, 1, 'x');
ROLLBACK;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
BEGIN;
SAVEPOINT a;
INSERT INTO chg.orders VALUES (98, 1, 'x');
ROLLBACK TO a;
INSERT INTO chg.orders VALUES (97, 1, 'x');
COMMIT;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
-- a write earlier in the run's own transaction is read by it; the next run
-- builds again all the same (the transaction's writes after the run, such
-- as this UPDATE, are logged under the same transaction)
BEGIN;
DELETE FROM chg.orders WHERE id = 97;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
UPDATE chg.orders SET amount = amount WHERE id = 14;
COMMIT;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');

-- a rewrite fires no trigger: its new storage is seen (a column the model
-- reads cannot change type: the model is bound to it)
ALTER TABLE chg.orders ADD COLUMN note int;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
ALTER TABLE chg.orders ALTER COLUMN note TYPE text;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
-- a disabled trigger makes the table untracked: the model always builds
ALTER TABLE chg.orders DISABLE TRIGGER medallion_changes;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
SELECT medallion_track('chg.orders');
SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'chg.orders'::regclass AND tgname = 'medallion_changes';
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders');

-- a redefinition builds; so does a test added, and only the model tested
SELECT medallion_create_model('chg_by_region',
  'SELECT region, sum(amount) AS amount, count(*) AS orders, max(id) AS last_id FROM chg_orders GROUP BY region',
  layer => 'gold', on_schema_change => 'append_new_columns');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
SELECT medallion_add_test('chg_by_region', 'not_null', column_name => 'region');
SELECT model, status, tests_passed, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');
SELECT model, status, tests_passed, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');

-- a model that is up to date keeps its tests' results, except freshness:
-- the data's age grows, so a freshness test runs again (and warns again)
CREATE TABLE chg.stamps (id int, at timestamptz);
INSERT INTO chg.stamps VALUES (1, now() - interval '2 hours');
SELECT medallion_create_model('chg_stamped', 'SELECT id, at FROM chg.stamps', layer => 'silver');
SELECT medallion_add_test('chg_stamped', 'freshness', column_name => 'at', max_age => '1 hour', severity => 'warn');
SELECT medallion_add_test('chg_stamped', 'not_null', column_name => 'id');
SELECT model, status, tests_passed, tests_warned FROM medallion_run('chg_stamped');
SELECT model, status, tests_passed, tests_warned FROM medallion_run('chg_stamped');
SELECT test, status FROM medallion.test_results
 WHERE run_id = (SELECT max(run_id) FROM medallion.runs) ORDER BY test;
SELECT medallion_drop_model('chg_stamped');
DROP TABLE chg.stamps;

-- a view read through: its redefinition is a change
CREATE VIEW chg.north AS SELECT id, amount FROM chg.orders WHERE region = 'north';
SELECT medallion_create_model('chg_north', 'SELECT count(*) AS n FROM chg.north', layer => 'gold');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_north');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_north');
CREATE OR REPLACE VIEW chg.north AS SELECT id, amount FROM chg.orders WHERE region = 'south';
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_north');
INSERT INTO chg.orders VALUES (50, 5, 'south');   -- through the view
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_north');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_north');

-- partitions: writes to each, and partitions attached and detached
CREATE TABLE chg.events (id int, day date) PARTITION BY RANGE (day);
CREATE TABLE chg.events_1 PARTITION OF chg.events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
INSERT INTO chg.events VALUES (1, '2026-01-05');
SELECT medallion_create_model('chg_events', 'SELECT count(*) AS n FROM chg.events', layer => 'gold');
SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'medallion_changes' AND c.relname LIKE 'events%' ORDER BY 1;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
INSERT INTO chg.events_1 VALUES (2, '2026-01-06');    -- into the partition itself
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
CREATE TABLE chg.events_2 (id int, day date);
INSERT INTO chg.events_2 VALUES (3, '2026-02-03');
ALTER TABLE chg.events ATTACH PARTITION chg.events_2 FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
-- statement triggers are not inherited: the partition attached is tracked at once
SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'medallion_changes' AND c.relname LIKE 'events%' ORDER BY 1;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');   -- attached
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
-- and so is one created as a partition, by the owner of the partitioned table
CREATE ROLE chg_events_owner;
GRANT USAGE, CREATE ON SCHEMA chg TO chg_events_owner;
ALTER TABLE chg.events OWNER TO chg_events_owner;
SET ROLE chg_events_owner;
CREATE TABLE chg.events_3 PARTITION OF chg.events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
RESET ROLE;
SELECT t.tgenabled FROM pg_trigger t WHERE t.tgname = 'medallion_changes' AND t.tgrelid = 'chg.events_3'::regclass;
ALTER TABLE chg.events OWNER TO CURRENT_USER;
ALTER TABLE chg.events_3 OWNER TO CURRENT_USER;
REVOKE ALL ON SCHEMA chg FROM chg_events_owner;
DROP ROLE chg_events_owner;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');   -- created
INSERT INTO chg.events_3 VALUES (4, '2026-03-02');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
-- a partition of a table no one tracks stays untracked
CREATE TABLE chg.plain (id int) PARTITION BY LIST (id);
CREATE TABLE chg.plain_1 PARTITION OF chg.plain FOR VALUES IN (1);
SELECT count(*) AS plain_triggers FROM pg_trigger WHERE tgrelid IN ('chg.plain'::regclass, 'chg.plain_1'::regclass);
DROP TABLE chg.plain;
SELECT medallion_track('chg.events');
ALTER TABLE chg.events DETACH PARTITION chg.events_1;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_events');
SELECT * FROM gold.chg_events;

-- functions: volatile and time functions always build; immutable built-ins do not
SELECT medallion_create_model('chg_now', 'SELECT now()::date AS day, count(*) AS n FROM chg_orders', layer => 'gold');
SELECT medallion_create_model('chg_random', 'SELECT random() < 2 AS yes FROM chg_orders', layer => 'gold');
SELECT medallion_create_model('chg_round', 'SELECT round(amount) AS amount FROM chg_orders', layer => 'gold');
SELECT model, status FROM medallion_run('chg_now chg_random chg_round');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_now chg_random chg_round');
-- a function that is not a built-in and not immutable builds too, unless
-- the model's owner declares the model deterministic
CREATE FUNCTION chg.gross(numeric) RETURNS numeric LANGUAGE sql STABLE AS 'SELECT $1 * 1.21';
SELECT medallion_create_model('chg_gross', 'SELECT chg.gross(amount) AS gross FROM chg_orders', layer => 'gold');
SELECT model, status FROM medallion_run('chg_gross');
SELECT model, status, message FROM medallion_run('chg_gross');
SELECT medallion_create_model('chg_gross', 'SELECT chg.gross(amount) AS gross FROM chg_orders', layer => 'gold',
                              deterministic => true);
SELECT deterministic FROM medallion.models WHERE name = 'chg_gross';
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_gross');
SELECT model, build, why FROM medallion_plan('chg_gross');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_gross');
SELECT medallion_create_model('chg_gross', 'SELECT chg.gross(amount) AS gross FROM chg_orders', layer => 'gold',
                              deterministic => true);  -- the same again

-- a table without the trigger is untracked: its readers always build,
-- until its owner tracks it
CREATE ROLE chg_owner;
CREATE TABLE chg.theirs (id int);
ALTER TABLE chg.theirs OWNER TO chg_owner;
GRANT USAGE ON SCHEMA chg TO PUBLIC;
GRANT SELECT ON chg.theirs TO PUBLIC;
SELECT medallion_create_model('chg_theirs', 'SELECT count(*) AS n FROM chg.theirs', layer => 'gold');
-- the model's owner is a superuser, but not the table's owner: no trigger
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'chg.theirs'::regclass;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_theirs');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_theirs');
CREATE ROLE chg_stranger;
SET ROLE chg_stranger;
SELECT medallion_track('chg.theirs');                 -- not its owner
RESET ROLE;
SET ROLE chg_owner;
SELECT medallion_track('chg.theirs');
RESET ROLE;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_theirs');
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_theirs');
SELECT medallion_track('chg.north');                  -- a view
SELECT medallion.track_changes();                     -- not as a trigger

-- the change log keeps only what a stored build may not have seen (runs
-- trim it past 10,000 rows)
SELECT count(*) FROM medallion_run('all') WHERE status = 'failed';
SELECT count(*) AS before FROM medallion.changes \gset
SELECT medallion.trim_changes(0) > 0 AS trimmed;
SELECT count(*) < :before AS fewer FROM medallion.changes;
SELECT model, status, regexp_replace(message, 'run \d+', 'run N') AS message FROM medallion_run('chg_orders+');   -- and decides as before

-- tracking goes when no model reads the table any more: a model defined
-- again to read another table, or dropped
CREATE TABLE chg.first (id int);
CREATE TABLE chg.second (id int);
SELECT medallion_create_model('chg_switch', 'SELECT id FROM chg.first', layer => 'silver');
SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'medallion_changes' AND c.relname IN ('first', 'second');
SELECT medallion_create_model('chg_switch', 'SELECT id FROM chg.second', layer => 'silver');
SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'medallion_changes' AND c.relname IN ('first', 'second');
SELECT medallion_drop_model('chg_switch');
SELECT count(*) AS switch_triggers FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'medallion_changes' AND c.relname IN ('first', 'second');
DROP TABLE chg.first, chg.second;

DROP ROLE chg_stranger;
SELECT medallion_drop_model(m, cascade => true)
  FROM unnest(ARRAY['chg_theirs', 'chg_gross', 'chg_now', 'chg_random', 'chg_round', 'chg_events', 'chg_north',
                    'chg_view', 'chg_by_region', 'chg_orders']) AS m;
-- no model reads them: no table is tracked any more
SELECT count(*) AS tracked_left FROM pg_trigger WHERE tgname = 'medallion_changes';
DROP TABLE chg.theirs;
DROP FUNCTION chg.gross(numeric);
DROP ROLE chg_owner;
