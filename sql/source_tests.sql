--
-- Tests of sources (issue 29): dbt's not_null, unique, accepted_values and
-- relationships tests of a source's table run on the source's relation
-- itself, by medallion_check_sources, as the source's owner, whether or
-- not a model reads it.
--
SET client_min_messages = warning;
CREATE SCHEMA stsrc;
CREATE TABLE stsrc.shops (id int, name text, kind text);
CREATE TABLE stsrc.sales (id int, shop_id int);
CREATE TABLE stsrc.unlisted (id int);
INSERT INTO stsrc.shops VALUES (1, 'a', 'big'), (2, NULL, 'small'), (2, 'c', 'odd');
INSERT INTO stsrc.sales VALUES (1, 1), (2, 3), (3, NULL);
SELECT medallion_create_source('st', 'stsrc', tables => '{shops,sales}');
SELECT medallion_add_source_test('st', 'shops', 'not_null', 'name');
SELECT medallion_add_source_test('st', 'shops', 'unique', 'id', severity => 'warn');
SELECT medallion_add_source_test('st', 'shops', 'accepted_values', 'kind', accepted => '{big,small}');
SELECT medallion_add_source_test('st', 'sales', 'relationships', 'shop_id', to_relation => 'stsrc.shops', to_column => 'id');
SELECT medallion_add_source_test('st', 'sales', 'not_null', 'id', name => 'sale_ids_given', description => 'every sale has an id');
SELECT source, name, relation, kind, column_name, accepted, to_relation, to_column, severity
  FROM medallion.source_tests ORDER BY source, name;

-- each runs on the relation: failing rows counted, status by severity
SELECT relation, status, message FROM medallion_check_sources() WHERE source = 'st' AND message LIKE 'test %'
 ORDER BY relation, message;
UPDATE stsrc.shops SET name = 'b', kind = 'small' WHERE name IS NULL OR kind = 'odd';
SELECT relation, status, message FROM medallion_check_sources() WHERE source = 'st' AND message LIKE 'test %'
 ORDER BY relation, message;

-- errors: each clear, and nothing changes
\set VERBOSITY terse
SELECT medallion_add_source_test('nosuch', 'shops', 'not_null', 'name');
SELECT medallion_add_source_test('st', 'unlisted', 'not_null', 'id');
SELECT medallion_add_source_test('st', 'shops', 'not_null', 'nosuch');
SELECT medallion_add_source_test('st', 'shops', 'expression', 'name');
SELECT medallion_add_source_test('st', 'shops', 'accepted_values', 'name');
SELECT medallion_add_source_test('st', 'sales', 'relationships', 'shop_id', to_relation => 'stsrc.nosuch', to_column => 'id');
SELECT medallion_add_source_test('st', 'sales', 'relationships', 'shop_id', to_relation => 'stsrc.shops', to_column => 'nosuch');
SELECT medallion_add_source_test('st', 'sales', 'relationships', 'shop_id');
SELECT medallion_add_source_test('st', 'shops', 'not_null', 'name', severity => 'fatal');
SELECT medallion_add_source_test('st', 'shops', 'not_null', 'name', name => 'Bad Name');
SELECT medallion_drop_source_test('st', 'nosuch');
\set VERBOSITY default
SELECT count(*) AS source_tests FROM medallion.source_tests;

-- a relation its owner may no longer read: the check errors, the others run
CREATE ROLE regress_source_tests_owner LOGIN IN ROLE medallion_admin;
GRANT USAGE ON SCHEMA stsrc TO regress_source_tests_owner;
GRANT SELECT ON stsrc.shops TO regress_source_tests_owner;
ALTER SCHEMA stsrc OWNER TO regress_source_tests_owner;
UPDATE medallion.sources SET owner = 'regress_source_tests_owner' WHERE name = 'st';
SELECT relation, status, regexp_replace(message, ': permission denied .*', ': permission denied') AS message
  FROM medallion_check_sources() WHERE source = 'st' AND message LIKE 'test %' ORDER BY relation, message;
-- a source whose owner does not own its schema: its tests are skipped
ALTER SCHEMA stsrc OWNER TO CURRENT_USER;
SELECT relation, status, message FROM medallion_check_sources() WHERE source = 'st' AND message LIKE 'test %'
 ORDER BY relation, message;

-- dropped one by one, and with their source
SELECT medallion_drop_source_test('st', 'sale_ids_given');
SELECT medallion_drop_source('st');
SELECT count(*) AS source_tests FROM medallion.source_tests;
DROP SCHEMA stsrc CASCADE;
DROP OWNED BY regress_source_tests_owner;
DROP ROLE regress_source_tests_owner;
SELECT * FROM medallion_help('medallion_add_source_test');
