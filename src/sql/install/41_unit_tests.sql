/* ---------------------------------------------------------------------
 * Unit tests (#29): a model's bound query run on given rows
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.unit_tests (
	model		text NOT NULL REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	name		text NOT NULL
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	given		jsonb NOT NULL,
	expect		jsonb NOT NULL,
	incremental	boolean NOT NULL DEFAULT false,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (model, name)
);
COMMENT ON TABLE medallion.unit_tests IS
	'Unit tests of models: the model''s bound query run on given rows for its inputs, its rows compared with those expected (medallion_test(unit => true))';
COMMENT ON COLUMN medallion.unit_tests.model IS 'The model tested';
COMMENT ON COLUMN medallion.unit_tests.name IS 'Unit test name, unique per model';
COMMENT ON COLUMN medallion.unit_tests.given IS 'Rows of the inputs, {"input": [{"column": value, ...}, ...], ...}: an input is a model the model reads, another relation it reads as schema.name, or this (the model''s own rows, for the incremental form); columns not given are NULL';
COMMENT ON COLUMN medallion.unit_tests.expect IS 'The rows expected of the model, [{"column": value, ...}, ...], compared as a multiset on the columns they name';
COMMENT ON COLUMN medallion.unit_tests.incremental IS 'Test the incremental form: only the rows past the high-water mark of the given this (less the lookback)';
COMMENT ON COLUMN medallion.unit_tests.description IS 'Free text';
COMMENT ON COLUMN medallion.unit_tests.created_at IS 'When the unit test was defined';
GRANT SELECT ON medallion.unit_tests TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.unit_tests', '');
