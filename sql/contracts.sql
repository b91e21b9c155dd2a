--
-- Contracts (issue 29): the columns a model promises, checked when it is
-- defined, and the constraints its table enforces, so a run cannot publish
-- rows that break them.
--
SET medallion.changed_only = off;
SET medallion.log_timing = off;
SET client_min_messages = warning;
CREATE SCHEMA ctsrc;
CREATE TABLE ctsrc.people (id int, email text, age int);
INSERT INTO ctsrc.people VALUES (1, 'a@x', 30), (2, 'b@x', 40);

-- the query's columns must be the contract's: names and types
\set contract '{"columns": [{"name": "id", "data_type": "integer", "primary_key": true}, {"name": "email", "data_type": "text", "not_null": true, "unique": true}, {"name": "age", "data_type": "int", "check": "age >= 0"}]}'
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people', layer => 'silver',
  materialized => 'table', contract => :'contract');
SELECT status, rows FROM medallion_run('ct_people');
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'silver.ct_people'::regclass ORDER BY conname;
SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'silver.ct_people'::regclass AND attnum > 0 ORDER BY attnum;

-- a definition that breaks it is refused, naming the column; nothing changes
SELECT medallion_create_model('ct_people', 'SELECT id, email FROM ctsrc.people', contract => :'contract');
SELECT medallion_create_model('ct_people', 'SELECT id::bigint AS id, email, age FROM ctsrc.people', contract => :'contract');
SELECT medallion_create_model('ct_people', 'SELECT id, email, age, 1 AS extra FROM ctsrc.people', contract => :'contract');
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people',
  contract => '{"columns": [{"name": "id"}]}');
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people',
  contract => '{"columns": [{"name": "id", "data_type": "integer", "nullable": false}]}');
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people',
  contract => '{"columns": [{"name": "id", "data_type": "no_such_type"}]}');
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people', contract => '{"columns": []}');
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people', layer => 'silver', materialized => 'table',
  contract => '{"columns": [{"name": "id", "data_type": "integer", "check": "true); DROP TABLE ctsrc.people; SELECT (1"}, {"name": "email", "data_type": "text"}, {"name": "age", "data_type": "integer"}]}');
SELECT count(*) AS people_still_there FROM ctsrc.people;
SELECT version FROM medallion.models WHERE name = 'ct_people';

-- rows that break a constraint fail the run; what is published stays
INSERT INTO ctsrc.people VALUES (3, NULL, 20);
SELECT status, regexp_replace(message, 'pg_temp_[0-9]+', 'pg_temp_N') AS message FROM medallion_run('ct_people');
UPDATE ctsrc.people SET email = 'a@x' WHERE id = 3;
SELECT status, regexp_replace(message, 'pg_temp_[0-9]+', 'pg_temp_N') AS message FROM medallion_run('ct_people');
UPDATE ctsrc.people SET email = 'c@x', age = -1 WHERE id = 3;
SELECT status, regexp_replace(message, 'pg_temp_[0-9]+', 'pg_temp_N') AS message FROM medallion_run('ct_people');
UPDATE ctsrc.people SET id = 1, age = 5 WHERE id = 3;
SELECT status, regexp_replace(message, 'pg_temp_[0-9]+', 'pg_temp_N') AS message FROM medallion_run('ct_people');
SELECT * FROM silver.ct_people ORDER BY id;
DELETE FROM ctsrc.people WHERE email = 'c@x';
SELECT status, rows FROM medallion_run('ct_people');

-- an incremental model: its new rows go into a table that enforces them
SELECT medallion_create_model('ct_inc', 'SELECT id, age FROM ctsrc.people', layer => 'silver',
  materialized => 'incremental', unique_key => ARRAY['id'],
  contract => '{"columns": [{"name": "id", "data_type": "integer"}, {"name": "age", "data_type": "integer", "check": "age < 100"}]}');
SELECT status, rows FROM medallion_run('ct_inc');
INSERT INTO ctsrc.people VALUES (4, 'd@x', 120);
SELECT status FROM medallion_run('ct_inc');
SELECT * FROM silver.ct_inc ORDER BY id;
DELETE FROM ctsrc.people WHERE id = 4;

-- a view model checks its columns
SELECT medallion_create_model('ct_view', 'SELECT id, email FROM ctsrc.people', layer => 'bronze',
  contract => '{"columns": [{"name": "id", "data_type": "integer"}, {"name": "email", "data_type": "varchar"}]}');

-- the impact report: a contract dropped, a promised column dropped or
-- retyped, a constraint dropped or a check changed are breaking; what is
-- added is not; the same contract (types spelt otherwise) changes nothing
SELECT object, change, breaking, why FROM medallion_impact('ct_people', 'SELECT id, email, age FROM ctsrc.people',
  contract => '{"columns": [{"name": "id", "data_type": "int4", "primary_key": true}, {"name": "email", "data_type": "text", "not_null": true, "unique": true}, {"name": "age", "data_type": "integer", "check": "age >= 0"}]}')
 WHERE object_kind = 'contract' ORDER BY 1;
SELECT object, change, breaking, why FROM medallion_impact('ct_people', 'SELECT id, email, age::bigint AS age, 1 AS n FROM ctsrc.people',
  contract => '{"columns": [{"name": "id", "data_type": "integer", "primary_key": true, "not_null": true}, {"name": "email", "data_type": "text", "unique": true}, {"name": "age", "data_type": "bigint", "check": "age > 0"}, {"name": "n", "data_type": "numeric(10, 2)"}], "primary_key": ["id"]}')
 WHERE object_kind = 'contract' ORDER BY 1;
SELECT object, change, breaking, why FROM medallion_impact('ct_people', 'SELECT id, email FROM ctsrc.people',
  contract => '{"columns": [{"name": "id", "data_type": "integer", "primary_key": true}, {"name": "email", "data_type": "text", "not_null": true, "unique": true}]}')
 WHERE object_kind = 'contract' ORDER BY 1;
SELECT object, change, breaking, why FROM medallion_impact('ct_people', 'SELECT id, email, age FROM ctsrc.people')
 WHERE object_kind = 'contract';

-- without a contract the constraints it made go
SELECT medallion_create_model('ct_people', 'SELECT id, email, age FROM ctsrc.people', layer => 'silver',
  materialized => 'table');
SELECT count(*) FROM pg_constraint WHERE conrelid = 'silver.ct_people'::regclass AND conname LIKE 'medallion_contract%';
-- and the impact report sees a contract's table like any other
SELECT object_kind, object, change FROM medallion_impact('ct_people', 'SELECT id, email FROM ctsrc.people') ORDER BY 1, 2;

SELECT * FROM medallion_drop_model('ct_people');
SELECT * FROM medallion_drop_model('ct_inc');
DROP SCHEMA ctsrc CASCADE;
