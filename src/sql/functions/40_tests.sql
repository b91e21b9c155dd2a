/* ---------------------------------------------------------------------
 * Functions and views of src/sql/install/40_tests.sql, written once: the
 * Makefile puts this file in the install script and in every update
 * script, after their state changes.
 * --------------------------------------------------------------------- */

CREATE OR REPLACE FUNCTION @extschema@.medallion_add_test(
	model text,
	kind text,
	column_name text DEFAULT NULL,
	columns text[] DEFAULT NULL,
	accepted text[] DEFAULT NULL,
	to_model text DEFAULT NULL,
	to_relation text DEFAULT NULL,
	to_column text DEFAULT NULL,
	expression text DEFAULT NULL,
	min_rows bigint DEFAULT NULL,
	max_rows bigint DEFAULT NULL,
	max_age interval DEFAULT NULL,
	sql text DEFAULT NULL,
	severity text DEFAULT 'error',
	warn_if text DEFAULT '> 0',
	error_if text DEFAULT '> 0',
	blocking boolean DEFAULT NULL,
	store_failures boolean DEFAULT false,
	name text DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_add_test'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_add_test(text, text, text, text[], text[], text, text, text, text, bigint, bigint, interval, text, text, text, text, boolean, boolean, text, text) IS
	'Define (or redefine) a data-quality test of a model, checked against the model''s columns; returns the test name';

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_test(model text, name text)
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_drop_test'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_test(text, text) IS 'Drop a test of a model';

CREATE OR REPLACE FUNCTION @extschema@.medallion_test(selector text DEFAULT 'all',
	exclude text DEFAULT NULL,
	unit boolean DEFAULT false,
	OUT model text, OUT test text, OUT kind text, OUT status text,
	OUT failures bigint, OUT observed text, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_test'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_test(text, text, boolean) IS
	'Run the tests of the selected models (less those exclude selects) against what is published, without building, or with unit => true their unit tests on given rows; returns a row per test';

CREATE OR REPLACE FUNCTION @extschema@.medallion_add_unit_test(
	model text,
	name text,
	given jsonb,
	expect jsonb,
	incremental boolean DEFAULT false,
	description text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_add_unit_test'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_add_unit_test(text, text, jsonb, jsonb, boolean, text) IS
	'Define (or redefine) a unit test of a model: rows given for the relations it reads, the rows expected of it; checked against the model''s inputs and columns; returns the test name';

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_unit_test(model text, name text)
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_drop_unit_test'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_unit_test(text, text) IS 'Drop a unit test of a model';

CREATE OR REPLACE FUNCTION @extschema@.medallion_check_sources(
	OUT source text, OUT relation text, OUT status text, OUT newest text,
	OUT age interval, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_check_sources'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_check_sources() IS
	'Check the freshness rules of sources: pass, warn (older than warn_after) or error (older than error_after); then the tests of their relations (medallion.source_tests): pass, or warn or error by severity with the failing rows counted';
