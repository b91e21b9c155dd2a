/* ---------------------------------------------------------------------
 * Data-quality tests
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.tests (
	model		text NOT NULL REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	name		text NOT NULL
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	kind		text NOT NULL
				CHECK (kind IN ('not_null', 'unique', 'accepted_values', 'relationships',
								'expression', 'row_count', 'freshness', 'sql')),
	columns		text[] NOT NULL DEFAULT '{}',
	accepted	text[],
	to_model	text,
	to_relation	text,
	to_column	text,
	expression	text,
	min_rows	bigint,
	max_rows	bigint,
	max_age		interval,
	sql			text,
	severity	text NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warn')),
	warn_if		text NOT NULL DEFAULT '> 0',
	error_if	text NOT NULL DEFAULT '> 0',
	blocking	boolean NOT NULL,
	store_failures boolean NOT NULL DEFAULT false,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (model, name)
);
COMMENT ON TABLE medallion.tests IS
	'Data-quality tests of models; blocking tests that fail keep a model''s candidate from being published';
COMMENT ON COLUMN medallion.tests.model IS 'The model tested';
COMMENT ON COLUMN medallion.tests.name IS 'Test name, unique per model';
COMMENT ON COLUMN medallion.tests.kind IS 'not_null, unique, accepted_values, relationships, expression, row_count, freshness or sql';
COMMENT ON COLUMN medallion.tests.columns IS 'Column(s) tested';
COMMENT ON COLUMN medallion.tests.accepted IS 'accepted_values: the values allowed';
COMMENT ON COLUMN medallion.tests.to_model IS 'relationships: the model referenced';
COMMENT ON COLUMN medallion.tests.to_relation IS 'relationships: the relation referenced (schema.name), when it is not a model';
COMMENT ON COLUMN medallion.tests.to_column IS 'relationships: the column referenced';
COMMENT ON COLUMN medallion.tests.expression IS 'expression: a boolean SQL expression every row must satisfy';
COMMENT ON COLUMN medallion.tests.min_rows IS 'row_count: fewest rows allowed';
COMMENT ON COLUMN medallion.tests.max_rows IS 'row_count: most rows allowed';
COMMENT ON COLUMN medallion.tests.max_age IS 'freshness: largest age of the newest value of the column';
COMMENT ON COLUMN medallion.tests.sql IS 'sql: a query returning the failing rows';
COMMENT ON COLUMN medallion.tests.severity IS 'error or warn';
COMMENT ON COLUMN medallion.tests.warn_if IS 'Condition on the failure count that makes the test warn, e.g. > 0';
COMMENT ON COLUMN medallion.tests.error_if IS 'Condition on the failure count that makes an error-severity test fail, e.g. > 10';
COMMENT ON COLUMN medallion.tests.blocking IS 'A failing blocking test keeps the model from being published';
COMMENT ON COLUMN medallion.tests.store_failures IS 'Keep failing rows in medallion_audit."<model>$<test>" (medallion.audit_tables)';
COMMENT ON COLUMN medallion.tests.description IS 'Free text';
COMMENT ON COLUMN medallion.tests.created_at IS 'When the test was defined';
GRANT SELECT ON medallion.tests TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.tests', '');

CREATE TABLE medallion.audit_tables (
	model		text NOT NULL,
	test		text NOT NULL,
	relid		oid NOT NULL UNIQUE,
	PRIMARY KEY (model, test),
	FOREIGN KEY (model, test) REFERENCES medallion.tests (model, name)
		ON DELETE CASCADE ON UPDATE CASCADE
);
COMMENT ON TABLE medallion.audit_tables IS
	'The table in medallion_audit that keeps each test''s failing rows, by OID: written only when it is this relation and belongs to the model owner (derived; not dumped)';
COMMENT ON COLUMN medallion.audit_tables.model IS 'The model tested';
COMMENT ON COLUMN medallion.audit_tables.test IS 'The test';
COMMENT ON COLUMN medallion.audit_tables.relid IS 'OID of the table in medallion_audit named <model>$<test> (or $ and an md5 of that when too long)';
GRANT SELECT ON medallion.audit_tables TO medallion_admin;

CREATE TABLE medallion.test_results (
	run_id		bigint NOT NULL REFERENCES medallion.runs ON DELETE CASCADE,
	model		text NOT NULL,
	test		text NOT NULL,
	kind		text NOT NULL,
	status		text NOT NULL CHECK (status IN ('pass', 'warn', 'fail', 'error')),
	blocking	boolean NOT NULL,
	failures	bigint,
	observed	text,
	ms			numeric,
	message		text,
	PRIMARY KEY (run_id, model, test)
);
COMMENT ON TABLE medallion.test_results IS 'One row per test per run (or per medallion_test call)';
COMMENT ON COLUMN medallion.test_results.run_id IS 'The run';
COMMENT ON COLUMN medallion.test_results.model IS 'The model tested';
COMMENT ON COLUMN medallion.test_results.test IS 'The test';
COMMENT ON COLUMN medallion.test_results.kind IS 'Kind of test';
COMMENT ON COLUMN medallion.test_results.status IS 'pass, warn, fail, or error (the test query itself failed)';
COMMENT ON COLUMN medallion.test_results.blocking IS 'Whether the test could block publishing';
COMMENT ON COLUMN medallion.test_results.failures IS 'Number of failing rows (row_count and freshness: 0 or 1)';
COMMENT ON COLUMN medallion.test_results.observed IS 'What was measured: the row count, the age of the newest value, ...';
COMMENT ON COLUMN medallion.test_results.ms IS 'Time of the query the test ran in (fused tests share one)';
COMMENT ON COLUMN medallion.test_results.message IS 'Why the test failed or errored';
/* a test's message and observed value may quote data: medallion.run_messages */
GRANT SELECT (run_id, model, test, kind, status, blocking, failures, ms) ON medallion.test_results TO medallion_admin;

CREATE SCHEMA medallion_audit;
COMMENT ON SCHEMA medallion_audit IS
	'medallion: failing rows of tests with store_failures, one table per test, replaced at each run';
GRANT USAGE ON SCHEMA medallion_audit TO medallion_admin;
