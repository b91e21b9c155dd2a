/* ---------------------------------------------------------------------
 * Sources
 * --------------------------------------------------------------------- */

/*
 * sources: named sets of relations that models read but medallion does not
 * build (foreign tables from SQL Server or PostgreSQL, files, local tables).
 */
CREATE TABLE medallion.sources (
	name		text PRIMARY KEY
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	kind		text NOT NULL CHECK (kind IN ('tds', 'postgres', 'file', 'local')),
	server_name	name,
	remote_schema text,
	local_schema name NOT NULL,
	tables		text[] NOT NULL DEFAULT '{}',
	options		jsonb NOT NULL DEFAULT '{}',
	freshness_column text,
	warn_after	interval,
	error_after	interval,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	owner		name NOT NULL,
	CONSTRAINT sources_no_credentials
		CHECK (NOT options ?| ARRAY['password', 'username', 'user', 'passwd', 'pwd']),
	CONSTRAINT sources_retries
		CHECK (NOT options ? 'retries' OR (pg_catalog.jsonb_typeof(options->'retries') = 'number'
			AND (options->>'retries')::numeric BETWEEN 0 AND 100
			AND (options->>'retries')::numeric = pg_catalog.trunc((options->>'retries')::numeric))),
	CONSTRAINT sources_batch_size
		CHECK (NOT options ? 'batch_size' OR (pg_catalog.jsonb_typeof(options->'batch_size') = 'number'
			AND (options->>'batch_size')::numeric BETWEEN 1 AND 100000000
			AND (options->>'batch_size')::numeric = pg_catalog.trunc((options->>'batch_size')::numeric))),
	CONSTRAINT sources_changes
		CHECK (NOT options ? 'changes' OR options->>'changes' = 'always'
			OR (options->>'changes' = 'probe' AND freshness_column IS NOT NULL))
);
COMMENT ON TABLE medallion.sources IS
	'External or local relation sets that models read; relations in local_schema are classified as source dependencies';
COMMENT ON COLUMN medallion.sources.name IS 'Source name';
COMMENT ON COLUMN medallion.sources.kind IS 'tds (tds_fdw), postgres (postgres_fdw), file (file_fdw) or local';
COMMENT ON COLUMN medallion.sources.server_name IS 'Foreign server, for tds and postgres sources';
COMMENT ON COLUMN medallion.sources.remote_schema IS 'Schema on the remote side';
COMMENT ON COLUMN medallion.sources.local_schema IS 'Local schema holding the source''s relations';
COMMENT ON COLUMN medallion.sources.tables IS 'Relations of the source (empty: every relation of local_schema)';
COMMENT ON COLUMN medallion.sources.options IS 'Wrapper-specific options, never credentials; retries, retry_delay, batch_size; changes (always, or probe: change-aware runs compare count(*) and max(freshness_column) of each foreign table with the last build''s)';
COMMENT ON COLUMN medallion.sources.freshness_column IS 'Timestamp column whose maximum tells how fresh the source is';
COMMENT ON COLUMN medallion.sources.warn_after IS 'Age after which the source is reported stale (warning)';
COMMENT ON COLUMN medallion.sources.error_after IS 'Age after which the source is reported stale (error)';
COMMENT ON COLUMN medallion.sources.description IS 'Free text';
COMMENT ON COLUMN medallion.sources.owner IS 'Role that registered the source: only roles with its privileges change, refresh or drop it';
COMMENT ON COLUMN medallion.sources.created_at IS 'When the source was registered';

GRANT SELECT ON medallion.sources TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.sources', '');
