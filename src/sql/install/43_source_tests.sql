/* ---------------------------------------------------------------------
 * Tests of sources (#29): checks on a source's own relation, run by
 * medallion_check_sources as the source's owner
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.source_tests (
	source		text NOT NULL REFERENCES medallion.sources (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	name		text NOT NULL
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	relation	text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('not_null', 'unique', 'accepted_values', 'relationships')),
	column_name	text NOT NULL,
	accepted	text[],
	to_relation	text,
	to_column	text,
	severity	text NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warn')),
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (source, name)
);
COMMENT ON TABLE medallion.source_tests IS
	'Tests of a source''s relation itself (dbt''s tests of sources), run by medallion_check_sources as the source''s owner';
COMMENT ON COLUMN medallion.source_tests.source IS 'The source';
COMMENT ON COLUMN medallion.source_tests.name IS 'Test name, unique per source';
COMMENT ON COLUMN medallion.source_tests.relation IS 'The relation tested: a table of the source, in its local schema';
COMMENT ON COLUMN medallion.source_tests.kind IS 'not_null, unique, accepted_values or relationships';
COMMENT ON COLUMN medallion.source_tests.column_name IS 'The column tested';
COMMENT ON COLUMN medallion.source_tests.accepted IS 'accepted_values: the values allowed';
COMMENT ON COLUMN medallion.source_tests.to_relation IS 'relationships: the relation referenced (schema.name)';
COMMENT ON COLUMN medallion.source_tests.to_column IS 'relationships: the column referenced';
COMMENT ON COLUMN medallion.source_tests.severity IS 'error or warn: the status medallion_check_sources gives a failing test';
COMMENT ON COLUMN medallion.source_tests.description IS 'Free text';
COMMENT ON COLUMN medallion.source_tests.created_at IS 'When the test was defined';
GRANT SELECT ON medallion.source_tests TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.source_tests', '');
