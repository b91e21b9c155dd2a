/*
 * medallion's install script, made by the Makefile from the sections in
 * src/sql/install (catalog, models, sources, runs and the ledger, tests,
 * state, schedules, privileges), in that order.  This section: the
 * catalog schema and roles, layers, models and what is derived from them.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION medallion" to load this file. \quit

/*
 * Catalog objects live in schema "medallion"; the user-facing functions
 * (medallion_*) live in the extension's schema (public unless CREATE
 * EXTENSION ... SCHEMA says otherwise) so that SELECT medallion_run('gold')
 * works with the default search_path.  Everything is schema-qualified.
 */

CREATE SCHEMA medallion;
COMMENT ON SCHEMA medallion IS
	'medallion catalog: layers, sources, models, their dependencies and column lineage';

/* Roles are cluster-wide: create them only when missing. */
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medallion_admin') THEN
		CREATE ROLE medallion_admin NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medallion_reader') THEN
		CREATE ROLE medallion_reader NOLOGIN;
	END IF;
END
$roles$;

GRANT USAGE ON SCHEMA medallion TO medallion_admin;

/*
 * layers: where models are published.  Built-in layers are created below and
 * excluded from pg_dump (the install script recreates them); layers a user
 * adds are dumped.
 */
CREATE TABLE medallion.layers (
	name		text PRIMARY KEY
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	schema_name	name NOT NULL UNIQUE,
	ordinal		integer NOT NULL UNIQUE,
	default_materialization text NOT NULL
				CHECK (default_materialization IN ('view', 'table')),
	reader_role	name,
	freshness	interval,
	builtin		boolean NOT NULL DEFAULT false,
	description	text
);
COMMENT ON TABLE medallion.layers IS
	'Pipeline layers: each publishes its models into a schema of its own';
COMMENT ON COLUMN medallion.layers.name IS 'Layer name, also usable as a selector';
COMMENT ON COLUMN medallion.layers.schema_name IS 'Schema the layer''s models are published in';
COMMENT ON COLUMN medallion.layers.ordinal IS 'Position of the layer in the pipeline (bronze 1, silver 2, gold 3)';
COMMENT ON COLUMN medallion.layers.default_materialization IS 'Materialization of a model of this layer when none is given';
COMMENT ON COLUMN medallion.layers.reader_role IS 'Role granted SELECT on every relation published in this layer (BI access)';
COMMENT ON COLUMN medallion.layers.freshness IS 'How old the last published build of a model of this layer may be before medallion.status calls it stale (NULL: no expectation)';
COMMENT ON COLUMN medallion.layers.builtin IS 'Created by the extension itself; not dumped by pg_dump';
COMMENT ON COLUMN medallion.layers.description IS 'Free text';

CREATE SCHEMA bronze;
CREATE SCHEMA silver;
CREATE SCHEMA gold;
COMMENT ON SCHEMA bronze IS 'medallion bronze layer: source data made usable (views by default)';
COMMENT ON SCHEMA silver IS 'medallion silver layer: cleaned, conformed, enriched tables';
COMMENT ON SCHEMA gold IS 'medallion gold layer: marts that BI tools read';
/*
 * Admins define models in the layer schemas through medallion; they cannot
 * create objects there themselves (a function or view there would be found
 * by every model's search_path).  medallion creates the relations as the
 * extension owner and gives them to the model owner.
 */
GRANT USAGE ON SCHEMA bronze, silver, gold TO medallion_admin;
GRANT USAGE ON SCHEMA gold TO medallion_reader;

/*
 * Bindings: each model's query, bound when the model is defined, as a view
 * medallion_bind.<model> owned by the model owner (and the code of its
 * tests as medallion_bind.<model>$ and <model>$<test>).  Runs execute what
 * is bound, never the model's text.  Only medallion creates here; USAGE
 * lets model SQL name an ephemeral model, bound here.
 */
CREATE SCHEMA medallion_bind;
COMMENT ON SCHEMA medallion_bind IS
	'medallion: each model''s query (and its tests'' code) as bound when it was defined; runs execute these';
GRANT USAGE ON SCHEMA medallion_bind TO medallion_admin;

/*
 * medallion_bind exists before 0.2.0's script when a 0.2.0 library bound a
 * model in a database still at 0.1.0: the update script makes it the
 * extension's with this function.
 */
CREATE FUNCTION medallion.adopt_bind_schema()
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_adopt_bind_schema'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.adopt_bind_schema() IS
	'Make schema medallion_bind, made by the library before an update to 0.2.0, a member of the extension; for update scripts, internal';

INSERT INTO medallion.layers (name, schema_name, ordinal, default_materialization, reader_role, builtin, description)
VALUES ('bronze', 'bronze', 1, 'view', NULL, true, 'Raw source data, renamed and typed'),
	   ('silver', 'silver', 2, 'table', NULL, true, 'Cleaned and enriched data'),
	   ('gold', 'gold', 3, 'table', 'medallion_reader', true, 'Business marts read by BI tools');

/*
 * models: one row per model, the user's definition.  Keys are names, never
 * OIDs, so that pg_dump/restore keeps them valid.
 */
CREATE TABLE medallion.models (
	name		text PRIMARY KEY
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	layer		text NOT NULL REFERENCES medallion.layers (name) ON UPDATE CASCADE,
	materialized text NOT NULL
				CHECK (materialized IN ('view', 'table', 'incremental', 'snapshot', 'ephemeral')),
	sql			text NOT NULL,
	owner		name NOT NULL,
	search_path	text NOT NULL,
	unique_key	text[],
	indexes		text[] NOT NULL DEFAULT '{}',
	tags		text[] NOT NULL DEFAULT '{}',
	description	text,
	column_descriptions jsonb NOT NULL DEFAULT '{}',
	on_schema_change text NOT NULL DEFAULT 'fail'
				CHECK (on_schema_change IN ('fail', 'append_new_columns', 'sync_all_columns')),
	statement_timeout interval CONSTRAINT models_statement_timeout_check CHECK (statement_timeout > '0'),
	strategy	text CHECK (strategy IN ('append', 'merge', 'delete+insert')),
	watermark	text,
	lookback	interval CONSTRAINT models_lookback_check CHECK (lookback >= '0'),
	full_refresh_threshold real CHECK (full_refresh_threshold > 0 AND full_refresh_threshold <= 1),
	snapshot_strategy text CHECK (snapshot_strategy IN ('timestamp', 'check')),
	updated_at_column text,
	check_columns text[],
	hard_deletes text CHECK (hard_deletes IN ('ignore', 'invalidate')),
	enabled		boolean NOT NULL DEFAULT true,
	version		integer NOT NULL DEFAULT 1,
	sql_hash	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	distribution text CHECK (distribution IN ('hash', 'reference')),
	distributed_by text,
	colocate_with text,
	deterministic boolean NOT NULL DEFAULT false,
	CONSTRAINT models_distribution_settings_check CHECK (coalesce(distribution = 'hash', false) = (distributed_by IS NOT NULL)
												 AND (colocate_with IS NULL OR coalesce(distribution = 'hash', false)))
);
COMMENT ON TABLE medallion.models IS
	'Model definitions: a query, the layer it is published in and how it is materialized';
COMMENT ON COLUMN medallion.models.name IS 'Model name, also the name of its published relation';
COMMENT ON COLUMN medallion.models.layer IS 'Layer the model is published in';
COMMENT ON COLUMN medallion.models.materialized IS 'view or table';
COMMENT ON COLUMN medallion.models.sql IS 'The model query, as written';
COMMENT ON COLUMN medallion.models.owner IS 'Role the model SQL runs as';
COMMENT ON COLUMN medallion.models.search_path IS 'search_path the model SQL is bound with when it is defined (pg_temp is never on it; it is searched last)';
COMMENT ON COLUMN medallion.models.unique_key IS 'Columns that identify a row';
COMMENT ON COLUMN medallion.models.indexes IS 'Index column lists built on the published table, e.g. {customer_id,"order_date, customer_id"}';
COMMENT ON COLUMN medallion.models.tags IS 'Tags, for tag:x selectors';
COMMENT ON COLUMN medallion.models.description IS 'Description, also set as COMMENT ON the published relation';
COMMENT ON COLUMN medallion.models.column_descriptions IS 'Column descriptions {column: text}, also set as column comments';
COMMENT ON COLUMN medallion.models.on_schema_change IS 'What a run does when the query''s columns change: fail, append_new_columns, sync_all_columns';
COMMENT ON COLUMN medallion.models.statement_timeout IS 'statement_timeout the model SQL runs under';
COMMENT ON COLUMN medallion.models.strategy IS 'Incremental models: append, merge (on unique_key) or delete+insert (on unique_key)';
COMMENT ON COLUMN medallion.models.watermark IS 'Incremental models: the column (timestamp, date or number) whose high-water mark selects new rows';
COMMENT ON COLUMN medallion.models.lookback IS 'Incremental models: how far before the high-water mark to read again';
COMMENT ON COLUMN medallion.models.full_refresh_threshold IS 'Incremental models: above this share of changed rows the run rebuilds instead';
COMMENT ON COLUMN medallion.models.snapshot_strategy IS 'Snapshot models: timestamp (compare updated_at) or check (compare check_columns)';
COMMENT ON COLUMN medallion.models.updated_at_column IS 'Snapshot models with the timestamp strategy: the column telling when a row changed';
COMMENT ON COLUMN medallion.models.check_columns IS 'Snapshot models with the check strategy: the columns compared (all but the key when empty)';
COMMENT ON COLUMN medallion.models.hard_deletes IS 'Snapshot models: ignore (default) or invalidate rows whose key disappeared';
COMMENT ON COLUMN medallion.models.enabled IS 'Disabled models are left out of runs';
COMMENT ON COLUMN medallion.models.version IS 'Incremented each time the definition changes';
COMMENT ON COLUMN medallion.models.sql_hash IS 'md5 of the definition, to tell a real change from a repeated call';
COMMENT ON COLUMN medallion.models.created_at IS 'When the model was first created';
COMMENT ON COLUMN medallion.models.updated_at IS 'When the definition last changed';
COMMENT ON COLUMN medallion.models.distribution IS 'Citus: hash (a distributed table, by distributed_by) or reference (a copy on every node); NULL for a local table';
COMMENT ON COLUMN medallion.models.distributed_by IS 'Citus: the distribution column of a hash-distributed model';
COMMENT ON COLUMN medallion.models.colocate_with IS 'Citus: the model a hash-distributed model is colocated with (NULL: Citus''s default, the first distributed table of the same column type)';
COMMENT ON COLUMN medallion.models.deterministic IS 'Its owner declares that its result depends only on what it reads: the functions it calls do not make a change-aware run build it';

/*
 * Derived tables: rebuilt from the models' analyzed queries, never dumped.
 * analysis records which version of each model they describe, so that a
 * restored database (where they are empty) is re-analyzed on first use.
 */
CREATE TABLE medallion.analysis (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	version		integer NOT NULL,
	analyzed_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE medallion.analysis IS
	'Which model version model_dependencies and column_lineage were derived from (derived, not dumped)';
COMMENT ON COLUMN medallion.analysis.model IS 'Model';
COMMENT ON COLUMN medallion.analysis.version IS 'Model version the derived rows describe';
COMMENT ON COLUMN medallion.analysis.analyzed_at IS 'When the model was last analyzed';

CREATE TABLE medallion.model_dependencies (
	model		text NOT NULL REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	dep_schema	name NOT NULL,
	dep_name	name NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('model', 'source', 'view', 'relation')),
	via			text NOT NULL DEFAULT '',
	PRIMARY KEY (model, dep_schema, dep_name, via)
);
COMMENT ON TABLE medallion.model_dependencies IS
	'Relations each model reads, from its analyzed query (derived, not dumped)';
COMMENT ON COLUMN medallion.model_dependencies.model IS 'The reading model';
COMMENT ON COLUMN medallion.model_dependencies.dep_schema IS 'Schema of the relation read';
COMMENT ON COLUMN medallion.model_dependencies.dep_name IS 'Name of the relation read (the model name when kind = model)';
COMMENT ON COLUMN medallion.model_dependencies.kind IS 'model, source (in a source''s schema), view (a plain view, read through) or relation';
COMMENT ON COLUMN medallion.model_dependencies.via IS 'Plain view the relation is read through (schema.view), empty when read directly';

CREATE TABLE medallion.column_lineage (
	model		text NOT NULL REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	column_name	name NOT NULL,
	column_ordinal integer NOT NULL,
	src_schema	name NOT NULL,
	src_relation name NOT NULL,
	src_column	name NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('projection', 'filter', 'join', 'group')),
	PRIMARY KEY (model, column_name, src_schema, src_relation, src_column, kind)
);
COMMENT ON TABLE medallion.column_lineage IS
	'For each model column, the source columns it is computed from (projection) or that filter, join or group it (derived, not dumped)';
COMMENT ON COLUMN medallion.column_lineage.model IS 'Model';
COMMENT ON COLUMN medallion.column_lineage.column_name IS 'Output column of the model';
COMMENT ON COLUMN medallion.column_lineage.column_ordinal IS 'Position of the output column (1-based)';
COMMENT ON COLUMN medallion.column_lineage.src_schema IS 'Schema of the upstream relation';
COMMENT ON COLUMN medallion.column_lineage.src_relation IS 'Upstream relation (a model, source or other relation; plain views are read through)';
COMMENT ON COLUMN medallion.column_lineage.src_column IS 'Upstream column';
COMMENT ON COLUMN medallion.column_lineage.kind IS 'projection: the value is computed from it; filter, join, group: it only decides which rows or groups there are';

CREATE INDEX ON medallion.model_dependencies (dep_schema, dep_name);
CREATE INDEX ON medallion.column_lineage (src_schema, src_relation, src_column);

GRANT SELECT ON medallion.layers, medallion.models, medallion.analysis,
	medallion.model_dependencies, medallion.column_lineage TO medallion_admin;

SELECT pg_catalog.pg_extension_config_dump('medallion.layers', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('medallion.models', '');
/* ---------------------------------------------------------------------
 * Models: define, drop, re-bind, plan, lineage
 * --------------------------------------------------------------------- */

CREATE FUNCTION @extschema@.medallion_create_model(
	name text,
	sql text,
	layer text DEFAULT NULL,
	materialized text DEFAULT NULL,
	tags text[] DEFAULT '{}',
	description text DEFAULT NULL,
	unique_key text[] DEFAULT NULL,
	indexes text[] DEFAULT '{}',
	column_descriptions jsonb DEFAULT '{}',
	on_schema_change text DEFAULT 'fail',
	statement_timeout interval DEFAULT NULL,
	enabled boolean DEFAULT true,
	strategy text DEFAULT NULL,
	watermark text DEFAULT NULL,
	lookback interval DEFAULT NULL,
	full_refresh_threshold real DEFAULT NULL,
	snapshot_strategy text DEFAULT NULL,
	updated_at text DEFAULT NULL,
	check_columns text[] DEFAULT NULL,
	hard_deletes text DEFAULT NULL,
	distributed_by text DEFAULT NULL,
	colocate_with text DEFAULT NULL,
	distribution text DEFAULT NULL,
	deterministic boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_create_model'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_create_model(text, text, text, text, text[], text, text[], text[], jsonb, text, interval, boolean, text, text, interval, real, text, text, text[], text, text, text, text, boolean) IS
	'Create or update a model: validates the query by parse analysis, records its dependencies and column lineage and creates its published relation (on Citus, distributed or reference when asked); with deterministic, its owner declares that the functions it calls do not make it change without its inputs (change-aware runs); returns created, updated or unchanged';

CREATE FUNCTION @extschema@.medallion_drop_model(name text, cascade boolean DEFAULT false)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'medallion_drop_model'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_model(text, boolean) IS
	'Drop a model and its published relation; with cascade also the models that depend on it; returns the dropped models';

CREATE FUNCTION @extschema@.medallion_reanalyze(selector text DEFAULT 'all')
RETURNS integer
AS 'MODULE_PATHNAME', 'medallion_reanalyze'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_reanalyze(text) IS
	'Analyze the selected models again and rebuild their dependencies and column lineage (after a restore, or after upstream changes); returns the number of models analyzed';

CREATE FUNCTION @extschema@.medallion_plan(selector text DEFAULT 'all', threads integer DEFAULT 1,
	OUT step integer, OUT wave integer, OUT model text, OUT layer text,
	OUT materialized text, OUT depends_on text[], OUT worker boolean, OUT reason text,
	OUT build boolean, OUT why text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_plan'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_plan(text, integer) IS
	'The models a run of the selector would build, in dependency order (models of one wave are independent of each other); with threads, which ones a background worker may build, and why the run builds each other one itself; whether a change-aware run would build each model, and why (build, why)';

CREATE FUNCTION @extschema@.medallion_lineage(model text, direction text DEFAULT 'upstream',
	depth integer DEFAULT NULL,
	OUT depth_from_model integer, OUT direction_of text, OUT relation_schema name,
	OUT relation_name name, OUT kind text, OUT via text, OUT path text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_lineage'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_lineage(text, text, integer) IS
	'Relations upstream or downstream of a model (direction upstream, downstream or both), up to depth steps away, with the path that reaches each';

CREATE FUNCTION @extschema@.medallion_graph(selector text DEFAULT 'all', format text DEFAULT 'mermaid')
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_graph'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_graph(text, text) IS
	'The dependency graph of the selected models and the sources and relations they read, as mermaid, dot, json or svg text (svg: laid out by Graphviz, needs medallion_docs.so)';

CREATE FUNCTION @extschema@.medallion_docs(selector text DEFAULT 'all')
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_docs'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_docs(text) IS
	'The selected part of the pipeline as one self-contained HTML page: the graph, the last run as a Gantt chart, runs, sources, schedules, and each model with its SQL, columns, lineage, tests and last steps; shows what the caller may read';
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

/*
 * Sources.  A local source records relations that already exist in
 * local_schema; a tds, postgres or file source creates its foreign tables
 * there (the remote side's tables, with medallion's type mapping), and
 * medallion_refresh_source brings them in line with the remote side again.
 * Models reading them are then classified as reading a source.
 *
 * The public functions run as the caller, so foreign tables are created
 * with the caller's privileges and user mapping and belong to the caller;
 * the catalog is written by medallion.source_write (C: it checks that the
 * caller acts for the source's owner, then writes as the extension owner),
 * the only writer of medallion.sources.
 */
CREATE FUNCTION medallion.source_write(op text, name text, kind text DEFAULT NULL,
	server_name name DEFAULT NULL, remote_schema text DEFAULT NULL, local_schema name DEFAULT NULL,
	tables text[] DEFAULT NULL, options jsonb DEFAULT NULL, freshness_column text DEFAULT NULL,
	warn_after interval DEFAULT NULL, error_after interval DEFAULT NULL, description text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_source_write'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.source_write(text, text, text, name, text, name, text[], jsonb, text, interval, interval, text) IS
	'Write medallion.sources (upsert, tables, delete), as the extension owner, when the caller acts for the source''s owner; internal';

/* The PostgreSQL type of a SQL Server column (INFORMATION_SCHEMA.COLUMNS). */
CREATE FUNCTION medallion.tds_type(data_type text, char_length integer, num_precision integer,
	num_scale integer, dt_precision integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
	SELECT CASE lower(data_type)
		WHEN 'int' THEN 'integer'
		WHEN 'bigint' THEN 'bigint'
		WHEN 'smallint' THEN 'smallint'
		WHEN 'tinyint' THEN 'smallint'
		WHEN 'bit' THEN 'boolean'
		WHEN 'decimal' THEN format('numeric(%s,%s)', coalesce(num_precision, 18), coalesce(num_scale, 0))
		WHEN 'numeric' THEN format('numeric(%s,%s)', coalesce(num_precision, 18), coalesce(num_scale, 0))
		-- not PostgreSQL's money: locale-dependent, two decimals
		WHEN 'money' THEN 'numeric(19,4)'
		WHEN 'smallmoney' THEN 'numeric(10,4)'
		WHEN 'float' THEN 'double precision'
		WHEN 'real' THEN 'real'
		WHEN 'datetime' THEN 'timestamp(3) without time zone'
		WHEN 'smalldatetime' THEN 'timestamp(0) without time zone'
		WHEN 'datetime2' THEN format('timestamp(%s) without time zone', least(coalesce(dt_precision, 6), 6))
		WHEN 'datetimeoffset' THEN format('timestamp(%s) with time zone', least(coalesce(dt_precision, 6), 6))
		WHEN 'date' THEN 'date'
		WHEN 'time' THEN format('time(%s) without time zone', least(coalesce(dt_precision, 6), 6))
		WHEN 'uniqueidentifier' THEN 'uuid'
		WHEN 'nvarchar' THEN CASE WHEN char_length > 0 THEN format('character varying(%s)', char_length) ELSE 'text' END
		WHEN 'varchar' THEN CASE WHEN char_length > 0 THEN format('character varying(%s)', char_length) ELSE 'text' END
		WHEN 'nchar' THEN CASE WHEN char_length > 0 THEN format('character(%s)', char_length) ELSE 'text' END
		WHEN 'char' THEN CASE WHEN char_length > 0 THEN format('character(%s)', char_length) ELSE 'text' END
		WHEN 'varbinary' THEN 'bytea'
		WHEN 'binary' THEN 'bytea'
		WHEN 'image' THEN 'bytea'
		WHEN 'timestamp' THEN 'bytea'
		WHEN 'rowversion' THEN 'bytea'
		WHEN 'xml' THEN 'xml'
		ELSE 'text'
	END
$function$;
COMMENT ON FUNCTION medallion.tds_type(text, integer, integer, integer, integer) IS
	'The PostgreSQL type medallion gives a SQL Server column in a tds source; internal';

/* A foreign wrapper extension, a server of it and a user mapping must exist. */
CREATE FUNCTION medallion.require_server(kind text, server_name name)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	wrapper text := CASE kind WHEN 'tds' THEN 'tds_fdw' WHEN 'postgres' THEN 'postgres_fdw' ELSE 'file_fdw' END;
	package text := CASE kind WHEN 'tds' THEN 'postgresql-15-tds-fdw' ELSE 'postgresql-15 (contrib)' END;
	server_wrapper text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = wrapper) THEN
		RAISE EXCEPTION 'a % source needs the extension %, which is not installed in this database', kind, wrapper
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = format('Install the package %s, then run CREATE EXTENSION %s.', package, wrapper);
	END IF;
	IF server_name IS NULL THEN
		RAISE EXCEPTION 'a % source needs server_name', kind
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = format('Create one with CREATE SERVER ... FOREIGN DATA WRAPPER %s.', wrapper);
	END IF;
	SELECT w.fdwname INTO server_wrapper
	  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
	 WHERE s.srvname = server_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'server "%" does not exist', server_name
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create it with CREATE SERVER %I FOREIGN DATA WRAPPER %s OPTIONS (...).', server_name, wrapper);
	END IF;
	IF server_wrapper <> wrapper THEN
		RAISE EXCEPTION 'server "%" uses %, not %', server_name, server_wrapper, wrapper
			USING ERRCODE = 'wrong_object_type',
				  HINT = format('A %s source reads through a server of %s.', kind, wrapper);
	END IF;
	IF kind <> 'file' AND NOT EXISTS (SELECT 1 FROM pg_user_mappings m
									  WHERE m.srvname = server_name AND m.usename IN (current_user, 'public')) THEN
		RAISE EXCEPTION 'there is no user mapping for "%" on server "%"', current_user, server_name
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create one with CREATE USER MAPPING FOR %I SERVER %I OPTIONS (%s).', current_user, server_name,
								CASE kind WHEN 'tds' THEN 'username ''...'', password ''...''' ELSE 'user ''...'', password ''...''' END);
	END IF;
END
$function$;
COMMENT ON FUNCTION medallion.require_server(text, name) IS
	'Raise a clear error unless the wrapper, the server and a user mapping of a source exist; internal';

/*
 * The tables of a source as they should be locally, from the remote side:
 * [{"table", "options", "columns": [{"name", "type", "not_null", "options"}]}].
 * Reads the remote catalog through the caller's user mapping.
 */
CREATE FUNCTION medallion.source_spec(kind text, server_name name, remote_schema text,
	tables text[], options jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	scratch text := 'medallion_import_' || pg_backend_pid();
	spec jsonb;
	remote_sql text;
	t text;
BEGIN
	IF kind = 'tds' THEN
		/* the remote catalog through a foreign table of our own, dropped at once */
		remote_sql := format(
			'SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type, '
			'c.IS_NULLABLE AS is_nullable, c.CHARACTER_MAXIMUM_LENGTH AS char_length, '
			'c.NUMERIC_PRECISION AS num_precision, c.NUMERIC_SCALE AS num_scale, '
			'c.DATETIME_PRECISION AS dt_precision, c.ORDINAL_POSITION AS ordinal_position '
			'FROM INFORMATION_SCHEMA.COLUMNS c JOIN INFORMATION_SCHEMA.TABLES t '
			'ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME '
			'WHERE t.TABLE_TYPE IN (''BASE TABLE'', ''VIEW'') AND c.TABLE_SCHEMA = %s%s',
			'''' || replace(remote_schema, '''', '''''') || '''',
			CASE WHEN cardinality(tables) > 0 THEN
				' AND c.TABLE_NAME IN (' || (SELECT string_agg('''' || replace(x, '''', '''''') || '''', ', ') FROM unnest(tables) x) || ')'
			ELSE '' END);
		EXECUTE format('CREATE SCHEMA %I', scratch);
		EXECUTE format('CREATE FOREIGN TABLE %I.remote_columns (table_name text, column_name text, data_type text, '
					   'is_nullable text, char_length integer, num_precision integer, num_scale integer, '
					   'dt_precision integer, ordinal_position integer) SERVER %I OPTIONS (query %L, row_estimate_method %L)',
					   scratch, server_name, remote_sql, 'showplan_all');
		BEGIN
			EXECUTE format(
				'SELECT jsonb_agg(jsonb_build_object(''table'', table_name, ''options'', '
				'  jsonb_build_object(''schema_name'', %L, ''table_name'', table_name, ''match_column_names'', ''1'', '
				'                     ''row_estimate_method'', ''showplan_all''), '
				'  ''columns'', cols) ORDER BY table_name) '
				'FROM (SELECT table_name, jsonb_agg(jsonb_build_object(''name'', column_name, '
				'        ''type'', medallion.tds_type(data_type, char_length, num_precision, num_scale, dt_precision), '
				'        ''not_null'', is_nullable = ''NO'', ''options'', jsonb_build_object(''column_name'', column_name)) '
				'        ORDER BY ordinal_position) AS cols '
				'      FROM %I.remote_columns GROUP BY table_name) r', remote_schema, scratch)
			INTO spec;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'could not read the tables of "%" through server "%"', remote_schema, server_name
				USING ERRCODE = 'fdw_unable_to_establish_connection', DETAIL = SQLERRM,
					  HINT = 'Check the server options (servername, port, database, tds_version), the user mapping and that the server is reachable.';
		END;
		EXECUTE format('DROP SCHEMA %I CASCADE', scratch);
	ELSIF kind = 'postgres' THEN
		/* postgres_fdw imports faithfully: import into a scratch schema, read it */
		EXECUTE format('CREATE SCHEMA %I', scratch);
		BEGIN
			EXECUTE format('IMPORT FOREIGN SCHEMA %I %s FROM SERVER %I INTO %I', remote_schema,
						   CASE WHEN cardinality(tables) > 0 THEN
							   'LIMIT TO (' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(tables) x) || ')'
						   ELSE '' END, server_name, scratch);
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'could not import the tables of "%" through server "%"', remote_schema, server_name
				USING ERRCODE = 'fdw_unable_to_establish_connection', DETAIL = SQLERRM,
					  HINT = 'Check the server options (host, port, dbname), the user mapping and that the server is reachable.';
		END;
		SELECT jsonb_agg(jsonb_build_object('table', c.relname,
				   'options', (SELECT jsonb_object_agg(split_part(o, '=', 1), substr(o, strpos(o, '=') + 1))
								 FROM unnest(ft.ftoptions) o),
				   'columns', (SELECT jsonb_agg(jsonb_build_object('name', a.attname,
										  'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
										  'options', coalesce((SELECT jsonb_object_agg(split_part(o, '=', 1), substr(o, strpos(o, '=') + 1))
															  FROM unnest(a.attfdwoptions) o), '{}'))
										  ORDER BY a.attnum)
								 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
			   ORDER BY c.relname)
		  INTO spec
		  FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
		 WHERE c.relnamespace = scratch::regnamespace;
		EXECUTE format('DROP SCHEMA %I CASCADE', scratch);
	ELSIF kind = 'file' THEN
		/* a CSV file per table, <directory>/<table>.csv; columns from its header, as text */
		IF options->>'directory' IS NULL OR cardinality(tables) = 0 THEN
			RAISE EXCEPTION 'a file source needs tables and options => ''{"directory": "..."}'''
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each table reads <directory>/<table>.csv, whose header line names the columns.';
		END IF;
		spec := '[]';
		FOREACH t IN ARRAY tables LOOP
			DECLARE
				path text := rtrim(options->>'directory', '/') || '/' || t || '.csv';
				header text;
			BEGIN
				BEGIN
					header := split_part(pg_read_file(path, 0, 65536), E'\n', 1);
				EXCEPTION WHEN OTHERS THEN
					RAISE EXCEPTION 'could not read the header of "%"', path
						USING ERRCODE = 'undefined_file', DETAIL = SQLERRM,
							  HINT = 'The file must exist and be readable by the server; reading it needs pg_read_server_files.';
				END;
				spec := spec || jsonb_build_array(jsonb_build_object('table', t,
						'options', jsonb_build_object('filename', path, 'format', 'csv', 'header', 'true'),
						'columns', (SELECT jsonb_agg(jsonb_build_object('name', btrim(h, E' \r"'), 'type', 'text',
																	 'not_null', false, 'options', '{}'::jsonb) ORDER BY n)
									  FROM unnest(string_to_array(rtrim(header, E'\r'), ',')) WITH ORDINALITY AS x(h, n))));
			END;
		END LOOP;
	END IF;
	IF spec IS NULL OR jsonb_array_length(spec) = 0 THEN
		RAISE EXCEPTION 'remote schema "%" has no tables%', remote_schema,
			CASE WHEN cardinality(tables) > 0 THEN ' named ' || array_to_string(tables, ', ') ELSE '' END
			USING ERRCODE = 'undefined_table',
				  HINT = 'Check remote_schema and tables (names are compared as the remote side spells them).';
	END IF;
	FOREACH t IN ARRAY coalesce(tables, '{}') LOOP
		IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(spec) e WHERE e->>'table' = t) THEN
			RAISE EXCEPTION 'remote table "%.%" does not exist', remote_schema, t
				USING ERRCODE = 'undefined_table',
					  HINT = 'Names are compared as the remote side spells them.';
		END IF;
	END LOOP;
	RETURN spec;
END
$function$;
COMMENT ON FUNCTION medallion.source_spec(text, name, text, text[], jsonb) IS
	'The foreign tables a source should have, read from the remote side; internal';

/*
 * Bring the foreign tables of a source in line with spec: create what is
 * missing, add, drop and retype columns, drop tables the remote side no
 * longer has.  Returns what changed.  An object depending on a column or
 * table that must go makes it fail (with PostgreSQL's error), changing
 * nothing.
 */
CREATE FUNCTION medallion.source_sync(server_name name, local_schema name, spec jsonb, previous text[])
RETURNS TABLE (relation text, change text, column_name text, old_type text, new_type text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	t jsonb;
	c jsonb;
	rel oid;
	rel_server name;
	cur_type text;
	opts text;
	coldefs text;
	name_ text;
BEGIN
	FOR t IN SELECT * FROM jsonb_array_elements(spec) LOOP
		relation := format('%I.%I', local_schema, t->>'table');
		SELECT cl.oid INTO rel FROM pg_class cl
		 WHERE cl.relnamespace = local_schema::regnamespace AND cl.relname = t->>'table';
		SELECT string_agg(format('%I %L', k, v), ', ') INTO opts FROM jsonb_each_text(t->'options') AS o(k, v);
		IF rel IS NULL THEN
			SELECT string_agg(format('%I %s%s%s', e->>'name', e->>'type',
									 CASE WHEN e->'options' <> '{}' THEN
										 ' OPTIONS (' || (SELECT string_agg(format('%I %L', k, v), ', ')
															FROM jsonb_each_text(e->'options') AS o(k, v)) || ')'
									 ELSE '' END,
									 CASE WHEN (e->>'not_null')::boolean THEN ' NOT NULL' ELSE '' END), ', ')
			  INTO coldefs FROM jsonb_array_elements(t->'columns') e;
			EXECUTE format('CREATE FOREIGN TABLE %s (%s) SERVER %I OPTIONS (%s)', relation, coldefs, server_name, opts);
			change := 'added table'; column_name := NULL; old_type := NULL; new_type := NULL;
			RETURN NEXT;
			CONTINUE;
		END IF;
		SELECT s.srvname INTO rel_server FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver
		 WHERE ft.ftrelid = rel;
		IF rel_server IS DISTINCT FROM server_name THEN
			RAISE EXCEPTION 'relation % exists and is not a foreign table of server "%"', relation, server_name
				USING ERRCODE = 'duplicate_table',
					  HINT = 'Drop or rename it, or register the source in another local_schema.';
		END IF;
		FOR c IN SELECT * FROM jsonb_array_elements(t->'columns') LOOP
			column_name := c->>'name';
			SELECT format_type(a.atttypid, a.atttypmod) INTO cur_type FROM pg_attribute a
			 WHERE a.attrelid = rel AND a.attname = c->>'name' AND a.attnum > 0 AND NOT a.attisdropped;
			IF NOT FOUND THEN
				EXECUTE format('ALTER FOREIGN TABLE %s ADD COLUMN %I %s%s', relation, c->>'name', c->>'type',
							   CASE WHEN c->'options' <> '{}' THEN
								   ' OPTIONS (' || (SELECT string_agg(format('%I %L', k, v), ', ')
													  FROM jsonb_each_text(c->'options') AS o(k, v)) || ')'
							   ELSE '' END);
				change := 'added column'; old_type := NULL; new_type := c->>'type';
				RETURN NEXT;
			ELSIF cur_type <> c->>'type' THEN
				EXECUTE format('ALTER FOREIGN TABLE %s ALTER COLUMN %I TYPE %s', relation, c->>'name', c->>'type');
				change := 'retyped column'; old_type := cur_type; new_type := c->>'type';
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR name_, cur_type IN
			SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
			 WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
			   AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(t->'columns') e WHERE e->>'name' = a.attname)
			 ORDER BY a.attnum
		LOOP
			EXECUTE format('ALTER FOREIGN TABLE %s DROP COLUMN %I', relation, name_);
			change := 'removed column'; column_name := name_; old_type := cur_type; new_type := NULL;
			RETURN NEXT;
		END LOOP;
	END LOOP;
	FOR name_ IN SELECT p FROM unnest(coalesce(previous, '{}')) p
				  WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(spec) e WHERE e->>'table' = p)
	LOOP
		relation := format('%I.%I', local_schema, name_);
		IF to_regclass(relation) IS NOT NULL THEN
			EXECUTE format('DROP FOREIGN TABLE %s', relation);
			change := 'removed table'; column_name := NULL; old_type := NULL; new_type := NULL;
			RETURN NEXT;
		END IF;
	END LOOP;
END
$function$;
COMMENT ON FUNCTION medallion.source_sync(name, name, jsonb, text[]) IS
	'Create or alter the foreign tables of a source to match the remote side; returns the changes; internal';

CREATE FUNCTION @extschema@.medallion_create_source(
	name text,
	local_schema name,
	kind text DEFAULT 'local',
	tables text[] DEFAULT '{}',
	server_name name DEFAULT NULL,
	remote_schema text DEFAULT NULL,
	freshness_column text DEFAULT NULL,
	warn_after interval DEFAULT NULL,
	error_after interval DEFAULT NULL,
	description text DEFAULT NULL,
	options jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	existed boolean;
	missing text;
	t text;
	spec jsonb;
	previous text[];
BEGIN
	IF name IS NULL OR local_schema IS NULL OR kind IS NULL THEN
		RAISE EXCEPTION 'source name, local_schema and kind must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name !~ '^[a-z_][a-z0-9_]*$' OR length(name) > 63 THEN
		RAISE EXCEPTION 'invalid source name "%"', name
			USING ERRCODE = 'invalid_name',
				  DETAIL = 'A source name is made of lower-case letters, digits and underscores, and does not start with a digit.';
	END IF;
	IF kind NOT IN ('tds', 'postgres', 'file', 'local') THEN
		RAISE EXCEPTION 'unknown source kind "%"', kind
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'kind is tds, postgres, file or local.';
	END IF;
	IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF options ? 'retries' AND (jsonb_typeof(options->'retries') <> 'number'
		OR (options->>'retries')::numeric NOT BETWEEN 0 AND 100
		OR (options->>'retries')::numeric <> trunc((options->>'retries')::numeric)) THEN
		RAISE EXCEPTION 'option retries must be a whole number from 0 to 100'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('retries is %s.', options->'retries'),
				  HINT = 'retries is how many times a connection error is tried again.';
	END IF;
	IF options ? 'batch_size' AND (jsonb_typeof(options->'batch_size') <> 'number'
		OR (options->>'batch_size')::numeric NOT BETWEEN 1 AND 100000000
		OR (options->>'batch_size')::numeric <> trunc((options->>'batch_size')::numeric)) THEN
		RAISE EXCEPTION 'option batch_size must be a whole number from 1 to 100000000'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('batch_size is %s.', options->'batch_size'),
				  HINT = 'batch_size is how many rows an extraction stages per batch.';
	END IF;
	IF options ? 'changes' AND coalesce(options->>'changes', '') NOT IN ('always', 'probe') THEN
		RAISE EXCEPTION 'option changes must be always or probe'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('changes is %s.', options->'changes'),
				  HINT = 'always: a model reading the source''s foreign tables builds at every run; probe: only when a query of count(*) and max(freshness_column) on the remote side returns something new.';
	END IF;
	IF options->>'changes' = 'probe' AND (freshness_column IS NULL OR kind NOT IN ('tds', 'postgres', 'file')) THEN
		RAISE EXCEPTION 'option changes => probe needs a source of foreign tables with a freshness_column'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Source "%s" is of kind %s, freshness_column %s.', name, kind,
								  coalesce(quote_literal(freshness_column), 'not set')),
				  HINT = 'The probe compares count(*) and max(freshness_column) of each foreign table with the last build''s.';
	END IF;
	IF options ? 'retry_delay' THEN
		DECLARE
			delay interval;
		BEGIN
			BEGIN
				delay := (options->>'retry_delay')::interval;
			EXCEPTION WHEN OTHERS THEN
				RAISE EXCEPTION 'option retry_delay must be an interval' USING ERRCODE = 'invalid_parameter_value',
					HINT = 'For example "10 seconds".';
			END;
			IF delay < '0' THEN
				RAISE EXCEPTION 'option retry_delay must not be negative' USING ERRCODE = 'invalid_parameter_value',
					DETAIL = format('retry_delay is %s.', options->>'retry_delay'),
					HINT = 'For example "10 seconds".';
			END IF;
		END;
	END IF;
	IF options ?| ARRAY['password', 'username', 'user', 'passwd', 'pwd'] THEN
		RAISE EXCEPTION 'options must not hold credentials'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Credentials belong in a user mapping (CREATE USER MAPPING), which medallion never reads.';
	END IF;
	IF NOT pg_has_role('medallion_admin', 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to create sources'
			USING ERRCODE = 'insufficient_privilege', HINT = 'Sources are created by members of medallion_admin.';
	END IF;

	IF kind = 'local' THEN
		IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = local_schema) THEN
			RAISE EXCEPTION 'schema "%" does not exist', local_schema
				USING ERRCODE = 'invalid_schema_name',
					  HINT = 'Create the schema and its tables (or import the foreign schema) first.';
		END IF;
		FOREACH t IN ARRAY coalesce(tables, '{}') LOOP
			IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
						   WHERE n.nspname = local_schema AND c.relname = t) THEN
				missing := t;
				EXIT;
			END IF;
		END LOOP;
		IF missing IS NOT NULL THEN
			RAISE EXCEPTION 'relation "%.%" does not exist', local_schema, missing
				USING ERRCODE = 'undefined_table',
					  HINT = 'A source lists relations that exist in its local schema.';
		END IF;
	ELSE
		/* the remote side's tables become foreign tables here, as the caller */
		IF kind <> 'file' AND remote_schema IS NULL THEN
			RAISE EXCEPTION 'a % source needs remote_schema', kind USING ERRCODE = 'null_value_not_allowed';
		END IF;
		PERFORM medallion.require_server(kind, server_name);
		SELECT s.tables INTO previous FROM medallion.sources s
		 WHERE s.name = medallion_create_source.name AND s.local_schema = medallion_create_source.local_schema
		   AND s.kind <> 'local';
		EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', local_schema);
		/* remembered for refreshes: the named tables, or the whole remote schema */
		options := options || jsonb_build_object('all_tables', cardinality(coalesce(tables, '{}')) = 0);
		spec := medallion.source_spec(kind, server_name, remote_schema, tables, options);
		PERFORM medallion.source_sync(server_name, local_schema, spec, previous);
		SELECT array_agg(e->>'table' ORDER BY e->>'table') INTO tables FROM jsonb_array_elements(spec) e;
	END IF;

	existed := medallion.source_write('upsert', name, kind, server_name, remote_schema, local_schema,
									  coalesce(tables, '{}'), options, freshness_column, warn_after,
									  error_after, description);

	/* models reading that schema are classified again */
	PERFORM @extschema@.medallion_reanalyze(string_agg(DISTINCT d.model, ','))
	   FROM medallion.model_dependencies d
	  WHERE d.dep_schema = local_schema
	 HAVING count(*) > 0;
	RETURN CASE WHEN existed THEN 'updated' ELSE 'created' END;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_create_source(text, name, text, text[], name, text, text, interval, interval, text, jsonb) IS
	'Register (or update) a source: relations in local_schema that models read but medallion does not build; tds, postgres and file sources get their foreign tables created there; returns created or updated';

CREATE FUNCTION @extschema@.medallion_refresh_source(name text)
RETURNS TABLE (relation text, change text, column_name text, old_type text, new_type text)
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s medallion.sources;
	spec jsonb;
BEGIN
	SELECT * INTO s FROM medallion.sources x WHERE x.name = medallion_refresh_source.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', name
			USING ERRCODE = 'undefined_object', HINT = 'Sources are listed in medallion.sources.';
	END IF;
	IF NOT pg_has_role(s.owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of source "%"', name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The source belongs to role "%s".', s.owner);
	END IF;
	IF s.kind = 'local' THEN
		RAISE EXCEPTION 'source "%" is local: there is nothing to refresh', name
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Refresh reads the remote side of tds, postgres and file sources.';
	END IF;
	PERFORM medallion.require_server(s.kind, s.server_name);
	/* the tables the source was created with; all of the remote schema if none were named */
	spec := medallion.source_spec(s.kind, s.server_name, s.remote_schema,
								  CASE WHEN s.options->>'all_tables' = 'false' OR s.kind = 'file' THEN s.tables END,
								  s.options);
	RETURN QUERY SELECT * FROM medallion.source_sync(s.server_name, s.local_schema, spec, s.tables);
	PERFORM medallion.source_write('tables', s.name,
								   tables => (SELECT array_agg(e->>'table' ORDER BY e->>'table') FROM jsonb_array_elements(spec) e));
	PERFORM @extschema@.medallion_reanalyze(string_agg(DISTINCT d.model, ','))
	   FROM medallion.model_dependencies d
	  WHERE d.dep_schema = s.local_schema
	 HAVING count(*) > 0;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_refresh_source(text) IS
	'Read the remote side of a source again and add, drop or retype its foreign tables and columns to match; returns each change';

CREATE FUNCTION @extschema@.medallion_drop_source(name text, drop_relations boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s medallion.sources;
	t text;
BEGIN
	SELECT * INTO s FROM medallion.sources x WHERE x.name = medallion_drop_source.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source "%" does not exist', name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Sources are listed in medallion.sources.';
	END IF;
	IF NOT pg_has_role(s.owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of source "%"', name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('The source belongs to role "%s".', s.owner);
	END IF;
	/* the foreign tables it created go with it; a local source's relations stay */
	IF s.kind <> 'local' AND drop_relations THEN
		FOREACH t IN ARRAY s.tables LOOP
			EXECUTE format('DROP FOREIGN TABLE IF EXISTS %I.%I', s.local_schema, t);
		END LOOP;
	END IF;
	PERFORM medallion.source_write('delete', name);
	PERFORM @extschema@.medallion_reanalyze(string_agg(DISTINCT d.model, ','))
	   FROM medallion.model_dependencies d
	  WHERE d.dep_schema = s.local_schema
	 HAVING count(*) > 0;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_drop_source(text, boolean) IS
	'Forget a source and drop the foreign tables it created (a local source''s relations are left alone); models reading it are classified again';
/* ---------------------------------------------------------------------
 * Runs
 * --------------------------------------------------------------------- */

/*
 * The run ledger.  A run's start is written by a short-lived background
 * worker in a transaction of its own, so that a crash leaves a row; its
 * finish too when it failed, is cancelled or raises (strict => true), so
 * that it is recorded whatever its transaction does.  A run with nothing
 * to report records its finish in its caller's transaction, which also
 * publishes it.  See run_ledger.c.
 */
CREATE TABLE medallion.runs (
	run_id		bigserial PRIMARY KEY,
	selector	text NOT NULL,
	options		jsonb NOT NULL DEFAULT '{}',
	started_by	name NOT NULL,
	backend_pid	integer,
	started_at	timestamptz NOT NULL,
	finished_at	timestamptz,
	status		text NOT NULL DEFAULT 'running'
				CHECK (status IN ('running', 'success', 'partial', 'failed', 'cancelled', 'crashed', 'skipped')),
	models		integer NOT NULL DEFAULT 0,
	succeeded	integer NOT NULL DEFAULT 0,
	failed		integer NOT NULL DEFAULT 0,
	skipped		integer NOT NULL DEFAULT 0,
	published	integer NOT NULL DEFAULT 0,
	message		text,
	xact		xid8
);
COMMENT ON TABLE medallion.runs IS 'One row per medallion_run call: what was asked, by whom, and how it ended';
COMMENT ON COLUMN medallion.runs.run_id IS 'Run number';
COMMENT ON COLUMN medallion.runs.selector IS 'The selector the run was given';
COMMENT ON COLUMN medallion.runs.options IS 'The other arguments of medallion_run';
COMMENT ON COLUMN medallion.runs.started_by IS 'Role that called medallion_run';
COMMENT ON COLUMN medallion.runs.backend_pid IS 'Process that ran it';
COMMENT ON COLUMN medallion.runs.started_at IS 'Start of the run';
COMMENT ON COLUMN medallion.runs.finished_at IS 'End of the run (NULL while running)';
COMMENT ON COLUMN medallion.runs.status IS 'running, success, partial (some models failed or were skipped), failed, cancelled, crashed, or skipped (another run held every model, on_conflict => skip)';
COMMENT ON COLUMN medallion.runs.models IS 'Number of models the run selected';
COMMENT ON COLUMN medallion.runs.succeeded IS 'Models built';
COMMENT ON COLUMN medallion.runs.failed IS 'Models that failed';
COMMENT ON COLUMN medallion.runs.skipped IS 'Models skipped (upstream failed, or another run held them)';
COMMENT ON COLUMN medallion.runs.published IS 'Models published by the run';
COMMENT ON COLUMN medallion.runs.xact IS 'The transaction that called medallion_run: a run still marked running whose transaction ended did not publish (its caller rolled back)';
COMMENT ON COLUMN medallion.runs.message IS 'Why the run failed or was cancelled';

CREATE TABLE medallion.run_models (
	run_id		bigint NOT NULL REFERENCES medallion.runs ON DELETE CASCADE,
	model		text NOT NULL,
	step		integer NOT NULL,
	wave		integer NOT NULL,
	layer		text NOT NULL,
	materialized text NOT NULL,
	status		text NOT NULL
				CHECK (status IN ('success', 'up_to_date', 'failed', 'skipped', 'cancelled')),
	published	boolean NOT NULL DEFAULT false,
	rows		bigint,
	started_at	timestamptz,
	finished_at	timestamptz,
	ms			numeric,
	attempt		integer NOT NULL DEFAULT 1,
	worker		boolean NOT NULL DEFAULT false,
	sqlstate	text,
	message		text,
	tests_passed integer NOT NULL DEFAULT 0,
	tests_warned integer NOT NULL DEFAULT 0,
	tests_failed integer NOT NULL DEFAULT 0,
	test_queries integer NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, model)
);
COMMENT ON TABLE medallion.run_models IS 'One row per model step of a run';
COMMENT ON COLUMN medallion.run_models.run_id IS 'The run';
COMMENT ON COLUMN medallion.run_models.model IS 'The model';
COMMENT ON COLUMN medallion.run_models.step IS 'Position of the step in the run';
COMMENT ON COLUMN medallion.run_models.wave IS 'Wave of the step (steps of one wave are independent)';
COMMENT ON COLUMN medallion.run_models.layer IS 'Layer of the model at the time';
COMMENT ON COLUMN medallion.run_models.materialized IS 'Materialization of the model at the time';
COMMENT ON COLUMN medallion.run_models.status IS 'success, up_to_date (an incremental model with no new rows), failed, skipped or cancelled';
COMMENT ON COLUMN medallion.run_models.published IS 'Whether the run published what this step built';
COMMENT ON COLUMN medallion.run_models.rows IS 'Rows built (table models)';
COMMENT ON COLUMN medallion.run_models.started_at IS 'Start of the step';
COMMENT ON COLUMN medallion.run_models.finished_at IS 'End of the step';
COMMENT ON COLUMN medallion.run_models.ms IS 'Duration of the build in milliseconds';
COMMENT ON COLUMN medallion.run_models.attempt IS 'Attempt number (retries)';
COMMENT ON COLUMN medallion.run_models.worker IS 'Whether a background worker built the candidate (threads > 1); the run tested and published it';
COMMENT ON COLUMN medallion.run_models.sqlstate IS 'SQLSTATE of the error, when the step failed';
COMMENT ON COLUMN medallion.run_models.message IS 'Error message, or why the step was skipped';
COMMENT ON COLUMN medallion.run_models.tests_passed IS 'Tests of the model that passed';
COMMENT ON COLUMN medallion.run_models.tests_warned IS 'Tests of the model that warned';
COMMENT ON COLUMN medallion.run_models.tests_failed IS 'Tests of the model that failed or errored';
COMMENT ON COLUMN medallion.run_models.test_queries IS 'Queries issued to run the model''s tests (column tests share one)';
CREATE INDEX ON medallion.run_models (model, run_id);
/* what each run start reads: runs still marked running, old runs to trim;
   and a session's newest run (medallion_run_scheduled) */
CREATE INDEX runs_running ON medallion.runs (run_id) WHERE status = 'running';
CREATE INDEX runs_started_at ON medallion.runs (started_at);
CREATE INDEX runs_backend ON medallion.runs (backend_pid, run_id);

/*
 * The ledger keeps medallion.ledger_retention of history: older runs go,
 * with their steps and test results (ON DELETE CASCADE), at each run's
 * start (ledger_apply) or on demand (medallion_trim_ledger).  Runs still
 * marked running stay until they are marked crashed.
 */
CREATE FUNCTION medallion.trim_ledger(keep interval)
RETURNS bigint
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
	WITH gone AS (
		DELETE FROM medallion.runs AS r
		 WHERE r.started_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) keep)
		   AND r.status OPERATOR(pg_catalog.<>) 'running'
		RETURNING 1)
	SELECT pg_catalog.count(*) FROM gone
$function$;
COMMENT ON FUNCTION medallion.trim_ledger(interval) IS
	'Delete the runs that started longer ago than keep, with their steps and test results; returns how many runs; internal';

CREATE FUNCTION @extschema@.medallion_trim_ledger(older_than interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medallion_trim_ledger'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_trim_ledger(interval) IS
	'Delete the runs older than older_than (default: medallion.ledger_retention; shorter only for superusers) with their steps and test results; returns how many runs';

GRANT SELECT ON medallion.runs, medallion.run_models TO medallion_admin;

/*
 * What medallion_build holds for nothing: candidates that build workers
 * committed for runs no longer running (crashed, cancelled, failed to
 * publish; a run holds an advisory lock on (medallion, run id) to the end of
 * its transaction, even when its own start is not committed yet), staging
 * tables no extraction points at (a restore brings them back alone), and
 * the tables committed runs discarded (d_<OID>: dropped here rather than in
 * the run, so that their files are not unlinked while the run's published
 * tables are locked).  One that cannot be dropped now is left for the next start.
 * Called by ledger_apply when a run starts.
 */
CREATE FUNCTION medallion.drop_leftovers()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	leftover regclass;
	dropped integer := 0;
	saved_lock_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
	FOR leftover IN
		SELECT c.oid::regclass AS rel FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = 'medallion_build'::regnamespace AND c.relkind = 'r'
		   AND CASE WHEN c.relname ~ '^r[0-9]+_'
					THEN pg_catalog.pg_try_advisory_xact_lock(1835297902,
							 (pg_catalog.substring(c.relname, '^r([0-9]+)_')::bigint % 4294967296)::bit(32)::integer)
					WHEN c.relname ~ '^s_[0-9]+$'
					THEN NOT EXISTS (SELECT 1 FROM medallion.extract_state e WHERE e.stage = c.oid)
					/* what a committed run discarded (an older previous version) */
					WHEN c.relname ~ '^d_[0-9]+$' THEN true
					ELSE false END
	LOOP
		BEGIN
			PERFORM pg_catalog.set_config('lock_timeout', '100ms', true);
			EXECUTE format('DROP TABLE %s', leftover);
			dropped := dropped + 1;
		EXCEPTION WHEN OTHERS THEN
			NULL;			/* locked, gone, or depended on: next time */
		END;
	END LOOP;
	PERFORM pg_catalog.set_config('lock_timeout', saved_lock_timeout, true);
	RETURN dropped;
END
$function$;
COMMENT ON FUNCTION medallion.drop_leftovers() IS
	'Drop the candidates and staging tables in medallion_build that no running run or extraction owns; returns how many; called when a run starts, internal';

/*
 * ledger_apply: the only writer of the run ledger, called by the ledger
 * worker, by a run whose finish has nothing to report (in the caller's
 * transaction) and, when no worker slot is free, by the run itself.
 */
CREATE FUNCTION medallion.ledger_apply(entry jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	crashed_runs bigint;
BEGIN
	IF entry->>'op' = 'start' THEN
		/* a run that ended quickly may have recorded its finish already */
		INSERT INTO medallion.runs (run_id, selector, options, started_by, backend_pid,
			started_at, models, xact)
		SELECT r.run_id, r.selector, r.options, r.started_by, r.backend_pid, r.started_at, r.models,
			   r.xact
		  FROM jsonb_populate_record(NULL::medallion.runs, entry) AS r
		ON CONFLICT (run_id) DO NOTHING;
	ELSIF entry->>'op' = 'tidy' THEN
		/*
		 * Runs left "running" by a backend that is gone (a crash, a restart,
		 * a killed process) published nothing: their transaction never
		 * committed.  Nor did those whose transaction ended without their
		 * finish: a run that succeeds records its finish in its caller's
		 * transaction, so the caller rolled it back.  Say so (the start
		 * of the run that tidies is committed and its transaction is in
		 * progress).
		 */
		WITH gone AS (
			SELECT r.run_id,
				   NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
								WHERE a.pid = r.backend_pid AND a.backend_start <= r.started_at) AS crashed,
				   r.xact IS NOT NULL AND pg_xact_status(r.xact) IS DISTINCT FROM 'in progress' AS ended
			  FROM medallion.runs AS r
			 WHERE r.status = 'running'),
		marked AS (
			UPDATE medallion.runs AS r
			   SET status = CASE WHEN g.crashed THEN 'crashed' ELSE 'cancelled' END,
				   finished_at = pg_catalog.now(),
				   message = CASE WHEN g.crashed
							 THEN 'the run was interrupted (server crash, restart or killed backend); nothing it built was published'
							 ELSE 'the transaction that called medallion_run rolled back after the run; nothing it published was kept' END
			  FROM gone AS g
			 WHERE r.run_id = g.run_id AND r.status = 'running' AND (g.crashed OR g.ended)
			RETURNING r.run_id, r.status, r.message)
		SELECT count(pg_notify('medallion_alerts',
							   jsonb_build_object('run_id', run_id, 'status', status, 'message', message)::text))
		  INTO STRICT crashed_runs FROM marked;
		/* the ledger keeps what medallion.ledger_retention says */
		IF entry ? 'retention' THEN
			PERFORM medallion.trim_ledger((entry->>'retention')::interval);
		END IF;
		/* and what runs that did not finish left in medallion_build */
		PERFORM medallion.drop_leftovers();
	ELSIF entry->>'op' = 'finish' THEN
		/* the start may not be recorded: medallion_test records once, a
		   run that builds nothing records no start, and a quick run may
		   finish before its start's worker begins */
		INSERT INTO medallion.runs AS u (run_id, selector, options, started_by, backend_pid,
			started_at, models, finished_at, status, succeeded, failed, skipped, published, message,
			xact)
		SELECT r.run_id, r.selector, r.options, r.started_by, r.backend_pid, r.started_at,
			   r.models, r.finished_at, r.status, r.succeeded, r.failed, r.skipped, r.published,
			   r.message, r.xact
		  FROM jsonb_populate_record(NULL::medallion.runs, entry) AS r
		ON CONFLICT (run_id) DO UPDATE
		   SET finished_at = EXCLUDED.finished_at, status = EXCLUDED.status,
			   succeeded = EXCLUDED.succeeded, failed = EXCLUDED.failed,
			   skipped = EXCLUDED.skipped, published = EXCLUDED.published,
			   message = EXCLUDED.message;
		INSERT INTO medallion.run_models
		SELECT * FROM jsonb_populate_recordset(NULL::medallion.run_models, entry->'steps');
		INSERT INTO medallion.test_results
		SELECT * FROM jsonb_populate_recordset(NULL::medallion.test_results,
											   coalesce(entry->'tests', '[]'));

		/* alerts: sent when this entry commits (with the run, or in the worker's transaction when the run raises) */
		PERFORM pg_notify('medallion_alerts', left(a.payload::text, 7900))
		   FROM (SELECT jsonb_build_object('run_id', (entry->>'run_id')::bigint, 'model', st->>'model',
										   'status', st->>'status', 'message', st->>'message') AS payload
				   FROM jsonb_array_elements(entry->'steps') AS st
				  WHERE st->>'status' IN ('failed', 'cancelled')
				 UNION ALL
				 SELECT jsonb_build_object('run_id', (entry->>'run_id')::bigint, 'model', t->>'model',
										   'test', t->>'test', 'status', t->>'status',
										   'message', coalesce(t->>'message', (t->>'failures') || ' failures'))
				   FROM jsonb_array_elements(coalesce(entry->'tests', '[]')) AS t
				  WHERE t->>'status' IN ('warn', 'fail', 'error')
				 UNION ALL
				 SELECT jsonb_build_object('run_id', (entry->>'run_id')::bigint, 'status', entry->>'status',
										   'message', entry->>'message')
				  WHERE entry->>'status' IN ('failed', 'cancelled') AND entry->>'message' IS NOT NULL) AS a;

	ELSE
		RAISE EXCEPTION 'unknown ledger operation "%"', entry->>'op'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$function$;
COMMENT ON FUNCTION medallion.ledger_apply(jsonb) IS
	'Write one run ledger entry (start or finish of a run, or tidy: mark runs whose backend is gone as crashed and those whose transaction rolled back as cancelled, trim, drop leftovers; a finish sends alerts); internal';

/* medallion.status, the last build of each model at a glance, is made with the schedules (60). */

/* Previous versions of table models, kept for medallion_rollback. */
CREATE SCHEMA medallion_history;
COMMENT ON SCHEMA medallion_history IS
	'medallion: the previous content of each table model, swapped back by medallion_rollback';
GRANT USAGE ON SCHEMA medallion_history TO medallion_admin;

/*
 * Candidates that build workers commit (medallion_run threads => n), named
 * r<run>_<published table OID>.  USAGE lets model owners read the ones
 * they are granted (only the run's model owners are); ledger_apply drops
 * what a run that did not finish left here.
 */
CREATE SCHEMA medallion_build;
COMMENT ON SCHEMA medallion_build IS
	'medallion: candidates built by background workers of runs in progress, readable by the run''s model owners only';
GRANT USAGE ON SCHEMA medallion_build TO PUBLIC;

CREATE FUNCTION @extschema@.medallion_run(
	selector text DEFAULT 'all',
	full_refresh boolean DEFAULT false,
	strict boolean DEFAULT false,
	on_conflict text DEFAULT 'wait',
	threads integer DEFAULT 1,
	changed_only boolean DEFAULT NULL,
	OUT model text, OUT layer text, OUT materialized text, OUT status text,
	OUT rows bigint, OUT ms numeric, OUT tests_passed integer, OUT tests_warned integer,
	OUT tests_failed integer, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_run'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_run(text, boolean, boolean, text, integer, boolean) IS
	'Build the selected models into candidates no one else can see (independent table models in up to threads background workers), then publish every success in one commit; with changed_only (NULL: medallion.changed_only, on by default), a model whose definition and inputs did not change since its last build is not built again; returns a row per model';

CREATE FUNCTION @extschema@.medallion_rollback(model text)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_rollback'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_rollback(text) IS
	'Swap a table model''s previous content back in (running it again swaps forward); returns a summary';
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
COMMENT ON COLUMN medallion.tests.store_failures IS 'Keep failing rows in medallion_audit.<model>__<test>';
COMMENT ON COLUMN medallion.tests.description IS 'Free text';
COMMENT ON COLUMN medallion.tests.created_at IS 'When the test was defined';
GRANT SELECT ON medallion.tests TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.tests', '');

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
GRANT SELECT ON medallion.test_results TO medallion_admin;

CREATE SCHEMA medallion_audit;
COMMENT ON SCHEMA medallion_audit IS
	'medallion: failing rows of tests with store_failures, one table per test, replaced at each run';
GRANT USAGE ON SCHEMA medallion_audit TO medallion_admin;

CREATE FUNCTION @extschema@.medallion_add_test(
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

CREATE FUNCTION @extschema@.medallion_drop_test(model text, name text)
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_drop_test'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_test(text, text) IS 'Drop a test of a model';

CREATE FUNCTION @extschema@.medallion_test(selector text DEFAULT 'all',
	OUT model text, OUT test text, OUT kind text, OUT status text,
	OUT failures bigint, OUT observed text, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_test'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_test(text) IS
	'Run the tests of the selected models against what is published, without building; returns a row per test';

CREATE FUNCTION @extschema@.medallion_check_sources(
	OUT source text, OUT relation text, OUT status text, OUT newest text,
	OUT age interval, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_check_sources'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_check_sources() IS
	'Check the freshness rules of sources: pass, warn (older than warn_after) or error (older than error_after)';
/* ---------------------------------------------------------------------
 * State of incremental models
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.model_state (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	watermark	text,
	max_seen	text,
	run_id		bigint,
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE medallion.model_state IS
	'High-water marks of incremental models, written in the transaction that publishes their data';
COMMENT ON COLUMN medallion.model_state.model IS 'The incremental model';
COMMENT ON COLUMN medallion.model_state.watermark IS 'The next run reads rows past this value (held back to the oldest transaction in progress)';
COMMENT ON COLUMN medallion.model_state.max_seen IS 'The largest watermark value published';
COMMENT ON COLUMN medallion.model_state.run_id IS 'The run that published it';
COMMENT ON COLUMN medallion.model_state.updated_at IS 'When it was published';
GRANT SELECT ON medallion.model_state TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.model_state', '');

/*
 * Extraction in progress: an incremental model reading a source with
 * batch_size pulls its new rows in batches, each committed by a background
 * worker into a staging table with the position reached, before the run
 * applies them.  A row here means batches are staged and not yet applied;
 * the next run resumes after them.
 */
CREATE TABLE medallion.extract_state (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	stage		oid NOT NULL,
	mark		text,
	last_key	text,
	rows		bigint NOT NULL DEFAULT 0,
	batches		integer NOT NULL DEFAULT 0,
	version		integer NOT NULL DEFAULT 0,
	started_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE medallion.extract_state IS
	'Batched extractions staged and not yet applied: where the next batch starts';
COMMENT ON COLUMN medallion.extract_state.model IS 'The incremental model';
COMMENT ON COLUMN medallion.extract_state.stage IS 'The staging table (in medallion_build) holding the batches';
COMMENT ON COLUMN medallion.extract_state.mark IS 'Watermark of the last staged row';
COMMENT ON COLUMN medallion.extract_state.last_key IS 'unique_key of the last staged row (rows with the same watermark follow in key order)';
COMMENT ON COLUMN medallion.extract_state.rows IS 'Rows staged';
COMMENT ON COLUMN medallion.extract_state.batches IS 'Batches committed';
COMMENT ON COLUMN medallion.extract_state.version IS 'Version of the model definition the batches were staged with (another starts over)';
COMMENT ON COLUMN medallion.extract_state.started_at IS 'When the first batch was staged';
COMMENT ON COLUMN medallion.extract_state.updated_at IS 'When the last batch was committed';
GRANT SELECT ON medallion.extract_state TO medallion_admin;
/* ---------------------------------------------------------------------
 * Change-aware runs: what each model's last build read, and which
 * tracked tables changed since (src/changes.c, docs/change-aware-runs.md).
 * Neither table is dumped: after a restore the first run builds all.
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.changes (
	relid		oid NOT NULL,
	xid			xid8 NOT NULL
);
COMMENT ON TABLE medallion.changes IS
	'Tracked tables written, and by which transaction: a row per table and writing transaction, appended by the statement trigger medallion_changes (insert only; trimmed by runs)';
COMMENT ON COLUMN medallion.changes.relid IS 'The table written (a leaf partition, or a partitioned table written through)';
COMMENT ON COLUMN medallion.changes.xid IS 'The writing transaction (top level)';
GRANT SELECT ON medallion.changes TO medallion_admin;

CREATE TABLE medallion.build_state (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	run_id		bigint NOT NULL,
	version		integer NOT NULL,
	snapshot	pg_snapshot NOT NULL,
	inputs		jsonb NOT NULL,
	built_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE medallion.build_state IS
	'Each model''s last build: the snapshot it read with and the state of its inputs, written in the transaction that publishes it (derived, not dumped)';
COMMENT ON COLUMN medallion.build_state.model IS 'Model';
COMMENT ON COLUMN medallion.build_state.run_id IS 'The last run that changed what the model publishes (models reading it compare it)';
COMMENT ON COLUMN medallion.build_state.version IS 'The model version built';
COMMENT ON COLUMN medallion.build_state.snapshot IS 'A snapshot the build''s reads saw at least: a change by a transaction it does not see is new';
COMMENT ON COLUMN medallion.build_state.inputs IS 'Each input with what no trigger reports: storage (relfilenode), partitions, view rules, upstream builds';
COMMENT ON COLUMN medallion.build_state.built_at IS 'When it was built';
GRANT SELECT ON medallion.build_state TO medallion_admin;

CREATE FUNCTION medallion.track_changes()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medallion_track_changes'
LANGUAGE C;
COMMENT ON FUNCTION medallion.track_changes() IS
	'Statement trigger of tracked tables: logs the table and the writing transaction in medallion.changes, once per transaction';

/* statement triggers are not inherited: a partition added later is tracked here */
CREATE FUNCTION medallion.track_partitions()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'medallion_track_partitions'
LANGUAGE C;
COMMENT ON FUNCTION medallion.track_partitions() IS
	'Event trigger: a partition created in or attached to a tracked partitioned table is tracked too; internal';
CREATE EVENT TRIGGER medallion_track_partitions ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
	EXECUTE FUNCTION medallion.track_partitions();
COMMENT ON EVENT TRIGGER medallion_track_partitions IS
	'medallion: tracks the partitions created in or attached to tracked partitioned tables (change-aware runs)';

/*
 * The inputs of a model: what it reads, through view and ephemeral models
 * and plain views, one row per relation; state is what no trigger reports
 * (compared with the last build's), tracked whether writes to it are
 * logged (relid, when set, is looked up in medallion.changes).
 */
CREATE FUNCTION medallion.model_inputs(model text, probes jsonb DEFAULT '{}',
	OUT label text, OUT state text, OUT relid oid, OUT tracked boolean, OUT why text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
/* plpgsql, not sql: its plan is kept for the session (each run checks each
   model), planned once (generic) rather than once per model */
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH RECURSIVE deps (dep_schema, dep_name, kind) AS (
	SELECT d.dep_schema, d.dep_name, d.kind FROM medallion.model_dependencies d WHERE d.model = $1
	UNION
	/* the models its relationships tests reference: their rebuild may fail a test */
	SELECT '', t.to_model, 'model' FROM medallion.tests t WHERE t.model = $1 AND t.to_model IS NOT NULL
	UNION
	SELECT d.dep_schema, d.dep_name, d.kind
	  FROM deps p
	  JOIN medallion.models m ON p.kind = 'model' AND m.name = p.dep_name
							 AND m.materialized IN ('view', 'ephemeral')
	  JOIN medallion.model_dependencies d ON d.model = m.name
), rels AS (
	SELECT DISTINCT p.dep_schema, p.dep_name, p.kind, m.name AS model, m.materialized, m.version,
		   c.oid AS relid, c.relkind, c.relfilenode,
		   (SELECT t.tgenabled FROM pg_trigger t
			 WHERE t.tgrelid = c.oid AND t.tgname = 'medallion_changes') AS trigger
	  FROM deps p
	  LEFT JOIN medallion.models m ON p.kind = 'model' AND m.name = p.dep_name
	  LEFT JOIN pg_namespace n ON n.nspname = p.dep_schema
	  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.dep_name
)
SELECT CASE WHEN r.model IS NOT NULL THEN format('model %s', r.model)
			ELSE format('%s %I.%I', CASE r.relkind WHEN 'v' THEN 'view' WHEN 'f' THEN 'foreign table'
											 WHEN 'm' THEN 'materialized view' ELSE 'table' END,
						r.dep_schema, r.dep_name) END,
	   CASE WHEN r.model IS NOT NULL AND r.materialized IN ('view', 'ephemeral') THEN 'version ' || r.version
			WHEN r.model IS NOT NULL
			THEN coalesce('run ' || (SELECT b.run_id FROM medallion.build_state b WHERE b.model = r.model), 'never built')
			WHEN r.relid IS NULL THEN 'missing'
			WHEN r.relkind = 'f' AND probes ? r.relid::text THEN 'probe ' || (probes->>r.relid::text)
			WHEN r.relkind = 'v' THEN 'rule ' || (SELECT w.xmin FROM pg_rewrite w WHERE w.ev_class = r.relid LIMIT 1)
			WHEN r.relkind = 'p' THEN 'partitions ' ||
				 (SELECT string_agg(t.relid::oid || ':' || pg_relation_filenode(t.relid), ',' ORDER BY t.relid::oid)
					FROM pg_partition_tree(r.relid) t WHERE t.isleaf)
			ELSE 'storage ' || r.relfilenode END,
	   CASE WHEN r.model IS NULL AND r.relkind IN ('r', 'f') THEN r.relid END,
	   coalesce(r.model IS NOT NULL OR r.relkind = 'v' OR
				(r.relkind = 'f' AND probes ? r.relid::text) OR
				(r.relkind = 'r' AND r.trigger = 'A') OR
				(r.relkind = 'p' AND r.trigger = 'A' AND NOT EXISTS
					(SELECT FROM pg_partition_tree(r.relid) t
					  WHERE t.isleaf AND NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = t.relid
														AND g.tgname = 'medallion_changes' AND g.tgenabled = 'A'))),
				false),
	   CASE WHEN r.model IS NOT NULL OR r.relkind = 'v' THEN NULL
			WHEN r.relid IS NULL THEN 'it is missing'
			WHEN r.relkind = 'f' THEN 'a foreign table: its changes are not seen here (its source may probe them: options => {"changes": "probe"})'
			WHEN r.relkind = 'm' THEN 'a materialized view: its refreshes fire no trigger'
			WHEN r.trigger IS NULL THEN 'not tracked (its owner can call medallion_track)'
			WHEN r.trigger <> 'A' THEN 'its trigger medallion_changes is not enabled always'
			ELSE 'a partition is not tracked (medallion_track tracks new ones)' END
  FROM rels r
UNION ALL
/* its tests: a test added, changed or dropped runs them again */
SELECT 'tests', coalesce(md5(string_agg(to_jsonb(t)::text, '|' ORDER BY t.name)), 'none'), NULL, true, NULL
  FROM medallion.tests t WHERE t.model = $1
UNION ALL
/* the leaf partitions of partitioned tables read: their writes are logged under their own OIDs */
SELECT format('partition %s', t.relid::regclass), 'leaf', t.relid::oid, true, NULL
  FROM deps p
  JOIN pg_namespace n ON n.nspname = p.dep_schema
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.dep_name AND c.relkind = 'p'
 CROSS JOIN LATERAL pg_partition_tree(c.oid) t
 WHERE t.isleaf AND p.kind <> 'model';
END
$$;
COMMENT ON FUNCTION medallion.model_inputs(text, jsonb) IS
	'The inputs of a model (through view and ephemeral models and plain views), with the state no trigger reports (for a foreign table, its probe in probes, by OID) and whether their writes are tracked';

/*
 * Does the model need building?  reason is why (NULL: its definition and
 * inputs are unchanged since its last build, run since); inputs and
 * snapshot are what to store if it is built now.
 */
CREATE FUNCTION medallion.build_check(model text, probes jsonb DEFAULT '{}',
	OUT reason text, OUT since bigint, OUT inputs jsonb, OUT snapshot pg_snapshot)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
	m medallion.models;
	s medallion.build_state;
	i record;
	now_inputs jsonb;
	own xid8;
BEGIN
	/*
	 * The snapshot the build reads with, except that the run's own
	 * transaction counts as not seen: it may write the model's inputs
	 * after the build too (and its write before it is logged once), so the
	 * next run builds again.
	 */
	snapshot := pg_current_snapshot();
	own := pg_current_xact_id_if_assigned();
	IF own IS NOT NULL AND pg_visible_in_snapshot(own, snapshot) THEN
		snapshot := (SELECT format('%s:%s:%s', pg_snapshot_xmin(snapshot), pg_snapshot_xmax(snapshot),
								   string_agg(x::text, ',' ORDER BY x))
					   FROM (SELECT pg_snapshot_xip(snapshot) AS x UNION ALL SELECT own) AS xip)::pg_snapshot;
	END IF;
	SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') INTO now_inputs FROM medallion.model_inputs(build_check.model, probes) x;
	SELECT coalesce(jsonb_object_agg(x.label, x.state), '{}') INTO inputs
	  FROM jsonb_to_recordset(now_inputs) AS x (label text, state text, relid oid, tracked boolean, why text);
	SELECT * INTO m FROM medallion.models WHERE name = build_check.model;
	SELECT * INTO s FROM medallion.build_state b WHERE b.model = build_check.model;
	IF NOT FOUND THEN
		reason := 'never built (with change tracking)';
		RETURN;
	END IF;
	since := s.run_id;
	IF s.version <> m.version THEN
		reason := format('definition changed (version %s, last built from version %s)', m.version, s.version);
		RETURN;
	END IF;
	/* a view holds no data: it is replaced only when its definition changed, or it is gone */
	IF m.materialized = 'view' THEN
		IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
						 JOIN medallion.layers l ON l.schema_name = n.nspname
						WHERE l.name = m.layer AND c.relname = m.name) THEN
			reason := 'its view is missing';
		END IF;
		RETURN;
	END IF;
	FOR i IN SELECT * FROM jsonb_to_recordset(now_inputs)
					AS x (label text, state text, relid oid, tracked boolean, why text)
			  WHERE NOT x.tracked ORDER BY x.label LIMIT 1 LOOP
		reason := format('input %s untracked: %s', i.label, i.why);
		RETURN;
	END LOOP;
	FOR i IN SELECT coalesce(a.key, b.key) AS label, a.value AS was, b.value AS now
			   FROM jsonb_each_text(s.inputs) a FULL JOIN jsonb_each_text(inputs) b ON a.key = b.key
			  WHERE a.value IS DISTINCT FROM b.value ORDER BY 1 LIMIT 1 LOOP
		reason := CASE WHEN i.label = 'tests' THEN 'its tests changed'
					   WHEN i.was IS NULL THEN format('new input %s', i.label)
					   WHEN i.now IS NULL THEN format('input %s no longer read', i.label)
					   WHEN i.now LIKE 'run %' THEN format('input %s was built again (%s)', i.label, i.now)
					   WHEN i.now LIKE 'storage %' THEN format('input %s was rewritten', i.label)
					   WHEN i.now LIKE 'partitions %' THEN format('the partitions of input %s changed', i.label)
					   WHEN i.now LIKE 'rule %' OR i.now LIKE 'version %' THEN format('input %s was redefined', i.label)
					   ELSE format('input %s changed (%s)', i.label, i.now) END;
		RETURN;
	END LOOP;
	FOR i IN SELECT x.label FROM jsonb_to_recordset(now_inputs)
					AS x (label text, state text, relid oid, tracked boolean, why text)
			  WHERE x.relid IS NOT NULL
				AND EXISTS (SELECT FROM medallion.changes c
							 WHERE c.relid = x.relid AND NOT pg_visible_in_snapshot(c.xid, s.snapshot))
			  ORDER BY x.label LIMIT 1 LOOP
		reason := format('input %s changed since run %s', i.label, s.run_id);
		RETURN;
	END LOOP;
END
$$;
COMMENT ON FUNCTION medallion.build_check(text, jsonb) IS
	'Why a model needs building (NULL when its definition and inputs are unchanged since its last build), with the state of its inputs and a snapshot to store if it is built';

/* A model built: what it read with.  changed: what it publishes may differ. */
CREATE FUNCTION medallion.build_record(model text, run_id bigint, snapshot pg_snapshot,
	inputs jsonb, changed boolean)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO medallion.build_state AS b (model, run_id, version, snapshot, inputs)
SELECT m.name, $2, m.version, $3, $4 FROM medallion.models m WHERE m.name = $1
ON CONFLICT (model) DO UPDATE
   SET run_id = CASE WHEN $5 THEN excluded.run_id ELSE b.run_id END,
	   version = excluded.version, snapshot = excluded.snapshot, inputs = excluded.inputs,
	   built_at = pg_catalog.now();
$$;
COMMENT ON FUNCTION medallion.build_record(text, bigint, pg_snapshot, jsonb, boolean) IS
	'Store what a model''s build read with (medallion.build_state)';

/*
 * Drop what no stored snapshot needs from the change log, when it holds
 * more than min_rows: the rows of a table written by transactions every
 * stored build reading that table has seen, and the rows of tables no
 * built model reads.  Returns the rows deleted.
 */
CREATE FUNCTION medallion.trim_changes(min_rows bigint DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	trimmed bigint;
BEGIN
	/* each change-aware run calls it: counting stops at min_rows */
	IF (SELECT count(*) FROM (SELECT FROM medallion.changes LIMIT min_rows + 1) c) <= min_rows THEN
		RETURN 0;
	END IF;
	WITH needed AS (
		SELECT i.relid, min(pg_snapshot_xmin(b.snapshot)) AS xmin
		  FROM medallion.build_state b CROSS JOIN LATERAL medallion.model_inputs(b.model) i
		 WHERE i.relid IS NOT NULL
		 GROUP BY i.relid
	), gone AS (
		DELETE FROM medallion.changes c
		 WHERE NOT EXISTS (SELECT FROM needed n WHERE n.relid = c.relid AND c.xid >= n.xmin)
		RETURNING 1)
	SELECT count(*) INTO trimmed FROM gone;
	RETURN trimmed;
END
$$;
COMMENT ON FUNCTION medallion.trim_changes(bigint) IS
	'Delete the change log rows no stored build needs, when the log holds more than min_rows';

/*
 * medallion_track: the owner of a table (or partitioned table, with each
 * of its partitions) has its writes logged, so that models reading it
 * skip their build when it did not change.
 */
CREATE FUNCTION @extschema@.medallion_track(relation regclass)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_track'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_track(regclass) IS
	'Track the writes to a table (and each partition of a partitioned table) for change-aware runs; by its owner';
/* ---------------------------------------------------------------------
 * Schedules (pg_cron)
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.schedules (
	name		text PRIMARY KEY
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	selector	text NOT NULL,
	cron		text NOT NULL,
	retries		integer NOT NULL DEFAULT 0 CHECK (retries BETWEEN 0 AND 100),
	retry_delay	interval NOT NULL DEFAULT '5 minutes' CHECK (retry_delay >= '0'),
	threads		integer NOT NULL DEFAULT 1 CHECK (threads >= 1),
	jobid		bigint,
	owner		name NOT NULL,
	last_run_id	bigint,
	last_status	text,
	last_attempts integer,
	last_finished_at timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	last_started_at timestamptz,
	last_job_failed_at timestamptz,
	last_job_message text
);
COMMENT ON TABLE medallion.schedules IS 'Scheduled runs: a pg_cron job each, with retries';
COMMENT ON COLUMN medallion.schedules.name IS 'Schedule name (the pg_cron job is named "medallion <name>")';
COMMENT ON COLUMN medallion.schedules.selector IS 'What the scheduled run builds';
COMMENT ON COLUMN medallion.schedules.cron IS 'When, in cron syntax (pg_cron: minutes, GMT)';
COMMENT ON COLUMN medallion.schedules.retries IS 'How many times a failed run is tried again';
COMMENT ON COLUMN medallion.schedules.retry_delay IS 'The wait before each new try';
COMMENT ON COLUMN medallion.schedules.threads IS 'Models the scheduled run builds at once (medallion_run threads)';
COMMENT ON COLUMN medallion.schedules.jobid IS 'The pg_cron job (cron.job.jobid)';
COMMENT ON COLUMN medallion.schedules.owner IS 'Role the job runs as';
COMMENT ON COLUMN medallion.schedules.last_run_id IS 'The last run of the schedule (its last attempt)';
COMMENT ON COLUMN medallion.schedules.last_status IS 'How it ended: success, or the status of its last attempt';
COMMENT ON COLUMN medallion.schedules.last_attempts IS 'Attempts the last scheduled run took';
COMMENT ON COLUMN medallion.schedules.last_finished_at IS 'When the last scheduled run ended (its last attempt''s run, as in medallion.runs)';
COMMENT ON COLUMN medallion.schedules.last_started_at IS 'When the last scheduled run started (its first attempt''s run, as in medallion.runs)';
COMMENT ON COLUMN medallion.schedules.created_at IS 'When the schedule was made';
COMMENT ON COLUMN medallion.schedules.last_job_failed_at IS 'When pg_cron last failed to run the schedule''s job (it could not connect, or the job raised), from cron.job_run_details';
COMMENT ON COLUMN medallion.schedules.last_job_message IS 'pg_cron''s message for that failure (connection failed, or the error)';
GRANT SELECT ON medallion.schedules TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.schedules', '');

/*
 * The one writer of medallion.schedules (the API runs as its caller): C,
 * so that it knows its caller and lets only the owner's roles change a
 * schedule or record its outcome.
 */
CREATE FUNCTION medallion.schedule_write(op text, name text, selector text DEFAULT NULL,
	cron text DEFAULT NULL, retries integer DEFAULT NULL, retry_delay interval DEFAULT NULL,
	jobid bigint DEFAULT NULL, last_run_id bigint DEFAULT NULL, last_status text DEFAULT NULL,
	last_attempts integer DEFAULT NULL, threads integer DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_schedule_write'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.schedule_write(text, text, text, text, integer, interval, bigint, bigint, text, integer, integer) IS
	'Write medallion.schedules (upsert, outcome, delete), as the extension owner, when the caller acts for the schedule''s owner; internal';

/*
 * pg_cron's database: cron.database_name can be read by superusers only,
 * so this function (owned by the extension owner) reads it for everyone
 * and returns nothing else.
 */
CREATE FUNCTION medallion.cron_database()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$ SELECT pg_catalog.current_setting('cron.database_name', true) $function$;
COMMENT ON FUNCTION medallion.cron_database() IS
	'The database pg_cron runs its jobs in (cron.database_name, which only superusers can read), or NULL when pg_cron is not loaded; internal';

/* pg_cron must be installed here, and run its jobs here. */
CREATE FUNCTION medallion.require_pg_cron()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	cron_db text := medallion.cron_database();
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Schedules are pg_cron jobs; pg_cron runs jobs in the database named by cron.database_name (%s).',
								  coalesce(cron_db, 'not set: pg_cron is not loaded')),
				  HINT = 'Add pg_cron to shared_preload_libraries, then CREATE EXTENSION pg_cron in that database, and use medallion there.';
	END IF;
	IF cron_db IS DISTINCT FROM current_database() THEN
		RAISE EXCEPTION 'pg_cron runs its jobs in database "%", not in "%"', cron_db, current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Schedule from the database named by cron.database_name, or set cron.database_name to this one (it needs a restart).';
	END IF;
END
$function$;
COMMENT ON FUNCTION medallion.require_pg_cron() IS 'Raise a clear error unless pg_cron can run jobs in this database; internal';

/*
 * Whether pg_cron can connect to this server to run a job: in its default
 * mode its launcher opens a libpq connection to cron.host (default
 * localhost, over TCP) on this server's port.  Returns why it cannot, or
 * NULL.  Reads cron.* settings that only superusers can read; the
 * arguments, when given, replace the settings (to test the rules).
 * pg_hba.conf is not checked: a refused login still shows only in
 * cron.job_run_details.
 */
CREATE FUNCTION medallion.cron_unreachable(use_background_workers text DEFAULT NULL,
	host text DEFAULT NULL, listen_addresses text DEFAULT NULL,
	unix_socket_directories text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	bgw text := coalesce(use_background_workers, current_setting('cron.use_background_workers', true));
	h text := coalesce(host, current_setting('cron.host', true));
	listen text := coalesce(listen_addresses, current_setting('listen_addresses'));
	sockets text := coalesce(unix_socket_directories, current_setting('unix_socket_directories'));
BEGIN
	IF bgw = 'on' OR h IS NULL THEN
		RETURN NULL;
	END IF;
	IF h LIKE '/%' THEN
		IF NOT h = ANY (SELECT btrim(d) FROM unnest(string_to_array(sockets, ',')) d) THEN
			RETURN format('cron.host is the socket directory %s, which is not one of unix_socket_directories (%s).',
						  h, sockets);
		END IF;
	ELSIF btrim(listen) = '' THEN
		RETURN format('cron.host is %s, reached over TCP, but the server does not listen on TCP (listen_addresses is empty).', h);
	END IF;
	RETURN NULL;
END
$function$;
COMMENT ON FUNCTION medallion.cron_unreachable(text, text, text, text) IS
	'Why pg_cron''s launcher cannot connect to this server to run jobs (cron.host, cron.use_background_workers, listen_addresses, unix_socket_directories), or NULL; arguments replace the settings; internal to medallion_schedule';

/*
 * A job pg_cron could not run (its connection failed: cron.host, pg_hba,
 * a role that may not log in) never reaches medallion_run_scheduled: only
 * pg_cron's launcher knows, and writes it into cron.job_run_details.  A
 * trigger there records a failed job of a schedule in medallion.schedules
 * and alerts on medallion_alerts, as a failed run does.  It runs in the
 * launcher's transaction: it must never make pg_cron's write fail.
 */
CREATE FUNCTION medallion.cron_job_failed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s text;
BEGIN
	BEGIN
		UPDATE medallion.schedules AS x
		   SET last_job_failed_at = coalesce(NEW.end_time, now()), last_job_message = NEW.return_message
		 WHERE x.jobid = NEW.jobid
		RETURNING x.name INTO s;
		IF s IS NOT NULL THEN
			PERFORM pg_notify('medallion_alerts', left(jsonb_build_object(
				'schedule', s, 'jobid', NEW.jobid, 'status', 'job failed',
				'message', format('pg_cron could not run the job of schedule %s: %s', s,
								  coalesce(NEW.return_message, 'no message')))::text, 7900));
		END IF;
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'medallion could not record the failure of pg_cron job %: %', NEW.jobid, SQLERRM;
	END;
	RETURN NULL;
END
$function$;
COMMENT ON FUNCTION medallion.cron_job_failed() IS
	'Trigger on cron.job_run_details: record a failed job of a schedule (last_job_failed_at, last_job_message) and alert; internal';

/*
 * Put the trigger on cron.job_run_details (watch), or take it away when
 * no schedule is left (so that DROP EXTENSION needs no CASCADE).  As the
 * extension owner, who must own that table or be a superuser; false when
 * it could not.
 */
CREATE FUNCTION medallion.watch_cron_jobs(watch boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	IF to_regclass('cron.job_run_details') IS NULL THEN
		RETURN false;
	END IF;
	IF watch THEN
		IF NOT EXISTS (SELECT 1 FROM pg_trigger
						WHERE tgrelid = 'cron.job_run_details'::regclass AND tgname = 'medallion_job_failed') THEN
			CREATE TRIGGER medallion_job_failed AFTER INSERT OR UPDATE OF status ON cron.job_run_details
				FOR EACH ROW WHEN (NEW.status = 'failed') EXECUTE FUNCTION medallion.cron_job_failed();
		END IF;
	ELSIF NOT EXISTS (SELECT 1 FROM medallion.schedules) THEN
		DROP TRIGGER IF EXISTS medallion_job_failed ON cron.job_run_details;
	END IF;
	RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
	RETURN false;
END
$function$;
COMMENT ON FUNCTION medallion.watch_cron_jobs(boolean) IS
	'Create the trigger on cron.job_run_details that records failed jobs of schedules, or drop it when no schedule is left; false when pg_cron is missing or the extension owner may not; internal to medallion_schedule and medallion_unschedule';

/*
 * The models of each schedule whose pg_cron job failed after its last
 * run ended (medallion.status shows them).  Runs as the caller, an admin.
 */
CREATE FUNCTION medallion.schedule_failures(OUT schedule text, OUT model text,
	OUT failed_at timestamptz, OUT message text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s record;
BEGIN
	FOR s IN SELECT x.name, x.selector, x.last_job_failed_at, x.last_job_message
			   FROM medallion.schedules x
			  WHERE x.last_job_failed_at > coalesce(x.last_finished_at, '-infinity')
	LOOP
		BEGIN
			RETURN QUERY SELECT s.name, p.model, s.last_job_failed_at, s.last_job_message
						   FROM @extschema@.medallion_plan(s.selector) p;
		EXCEPTION WHEN OTHERS THEN
			NULL;			/* its selector no longer selects anything */
		END;
	END LOOP;
END
$function$;
COMMENT ON FUNCTION medallion.schedule_failures() IS
	'The models of each schedule whose pg_cron job failed after the schedule''s last run ended, with when and pg_cron''s message';

CREATE FUNCTION @extschema@.medallion_schedule(name text, selector text, cron text,
	retries integer DEFAULT 0, retry_delay interval DEFAULT '5 minutes', threads integer DEFAULT 1)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	job bigint;
	unreachable text;
BEGIN
	IF name IS NULL OR selector IS NULL OR cron IS NULL THEN
		RAISE EXCEPTION 'name, selector and cron must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name !~ '^[a-z_][a-z0-9_]*$' OR length(name) > 63 THEN
		RAISE EXCEPTION 'invalid schedule name "%"', name USING ERRCODE = 'invalid_name',
			DETAIL = 'A schedule name is made of lower-case letters, digits and underscores, and does not start with a digit.';
	END IF;
	IF retries IS NULL OR retries NOT BETWEEN 0 AND 100 THEN
		RAISE EXCEPTION 'retries must be from 0 to 100' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('retries is %s.', coalesce(retries::text, 'NULL'));
	END IF;
	IF retry_delay IS NULL OR retry_delay < '0' THEN
		RAISE EXCEPTION 'retry_delay must not be negative' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('retry_delay is %s.', coalesce(retry_delay::text, 'NULL'));
	END IF;
	IF threads IS NULL OR threads < 1 THEN
		RAISE EXCEPTION 'threads must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM medallion.require_pg_cron();
	unreachable := medallion.cron_unreachable();
	IF unreachable IS NOT NULL THEN
		RAISE EXCEPTION 'pg_cron cannot connect to this server to run the schedule'
			USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = unreachable,
				  HINT = 'Set cron.use_background_workers = on (jobs then run as background workers), or cron.host to a directory of unix_socket_directories; either needs a restart.';
	END IF;
	/* the selector must select something that exists */
	PERFORM count(*) FROM @extschema@.medallion_plan(selector);
	/* pg_cron validates the schedule; the job runs as the caller */
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
	  USING 'medallion ' || name, cron,
			format('CALL %I.medallion_run_scheduled(%L)', '@extschema@', name);
	PERFORM medallion.schedule_write('upsert', name, selector, cron, retries, retry_delay, job,
									 threads => threads);
	/* a job pg_cron cannot run shows in medallion.schedules and medallion.status */
	IF NOT medallion.watch_cron_jobs(true) THEN
		RAISE WARNING 'a failure of pg_cron to run this schedule''s job will show only in cron.job_run_details'
			USING HINT = 'The extension owner must be a superuser or own cron.job_run_details to watch it.';
	END IF;
	RETURN job;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_schedule(text, text, text, integer, interval, integer) IS
	'Create or update a pg_cron job that runs the selector on the cron schedule, trying again after retry_delay up to retries times; returns the pg_cron job id';

CREATE FUNCTION @extschema@.medallion_unschedule(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	job bigint;
BEGIN
	SELECT s.jobid INTO job FROM medallion.schedules s WHERE s.name = medallion_unschedule.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'schedule "%" does not exist', name USING ERRCODE = 'undefined_object',
			HINT = 'Schedules are listed in medallion.schedules.';
	END IF;
	PERFORM medallion.require_pg_cron();
	/* the owner check comes first: it says whose schedule it is */
	PERFORM medallion.schedule_write('delete', name);
	IF EXISTS (SELECT 1 FROM cron.job j WHERE j.jobid = job) THEN
		PERFORM cron.unschedule(job);
	END IF;
	PERFORM medallion.watch_cron_jobs(false);
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_unschedule(text) IS 'Remove a schedule and its pg_cron job';

/*
 * No SET clause: a procedure with one cannot COMMIT between attempts.  So
 * every function and operator is named with its schema: the job's session
 * may have any search_path.  The run of an attempt is found as this
 * session's newest run, not by its label (which any session can set).
 */
CREATE PROCEDURE @extschema@.medallion_run_scheduled(name text)
LANGUAGE plpgsql
AS $procedure$
DECLARE
	s medallion.schedules;
	attempt integer := 0;
	bad bigint;
	run bigint;
	outcome text;
	keep text;
BEGIN
	SELECT * INTO s FROM medallion.schedules AS x WHERE x.name OPERATOR(pg_catalog.=) medallion_run_scheduled.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'schedule "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	LOOP
		attempt := attempt OPERATOR(pg_catalog.+) 1;
		PERFORM pg_catalog.set_config('medallion.run_label',
									  pg_catalog.format('schedule %s, attempt %s of %s', s.name, attempt,
														s.retries OPERATOR(pg_catalog.+) 1), false);
		BEGIN
			SELECT pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(pg_catalog.=) ANY (ARRAY['failed', 'cancelled', 'skipped']))
			  INTO bad FROM @extschema@.medallion_run(s.selector, threads => s.threads) AS r;
		EXCEPTION WHEN OTHERS THEN
			bad := -1;			/* the run itself failed (its ledger says why) */
		END;
		PERFORM pg_catalog.set_config('medallion.run_label', '', false);
		SELECT r.run_id, r.status INTO run, outcome
		  FROM medallion.runs r
		 WHERE r.backend_pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
		   AND r.started_by OPERATOR(pg_catalog.=) CURRENT_USER
		 ORDER BY r.run_id DESC LIMIT 1;
		PERFORM medallion.schedule_write('outcome', s.name, last_run_id => run,
										 last_status => COALESCE(outcome, 'failed'), last_attempts => attempt);
		IF bad OPERATOR(pg_catalog.=) 0 OR attempt OPERATOR(pg_catalog.>) s.retries THEN
			COMMIT;
			EXIT;
		END IF;
		PERFORM pg_catalog.pg_notify('medallion_alerts',
			pg_catalog.jsonb_build_object('schedule', s.name, 'run_id', run, 'status', 'retrying',
				'attempt', attempt OPERATOR(pg_catalog.+) 1,
				'message', pg_catalog.format('run %s did not build every model; trying again in %s',
											 run, s.retry_delay))::text);
		COMMIT;
		PERFORM pg_catalog.pg_sleep(pg_catalog.date_part('epoch', s.retry_delay));
	END LOOP;
	/* pg_cron's log of this job keeps the ledger's retention */
	keep := pg_catalog.current_setting('medallion.ledger_retention', true);
	IF keep IS NOT NULL AND keep OPERATOR(pg_catalog.<>) '0' THEN
		BEGIN
			DELETE FROM cron.job_run_details AS d
			 WHERE d.jobid OPERATOR(pg_catalog.=) s.jobid
			   AND d.end_time OPERATOR(pg_catalog.<)
				   (pg_catalog.now() OPERATOR(pg_catalog.-) keep::pg_catalog.interval);
		EXCEPTION WHEN insufficient_privilege OR undefined_table THEN
			NULL;				/* another pg_cron: its log is its own */
		END;
	END IF;
END
$procedure$;
COMMENT ON PROCEDURE @extschema@.medallion_run_scheduled(text) IS
	'What a schedule''s pg_cron job calls: runs the selector, and again after retry_delay while it fails, up to retries more times; each attempt is a run in the ledger';

/*
 * The last build of each model at a glance, and whether pg_cron failed to
 * run the job of a schedule that builds it.
 */
CREATE VIEW medallion.status AS
WITH failing AS MATERIALIZED (SELECT * FROM medallion.schedule_failures())
SELECT m.name AS model, m.layer, m.materialized, m.enabled,
	   ok.finished_at AS last_success,
	   pg_catalog.now() - ok.finished_at AS age,
	   CASE WHEN l.freshness IS NULL OR m.materialized = 'ephemeral' THEN NULL
			ELSE ok.finished_at IS NULL OR pg_catalog.now() - ok.finished_at > l.freshness END AS stale,
	   ok.rows AS last_rows,
	   last.status AS last_status,
	   last.run_id AS last_run_id,
	   last.message AS last_message,
	   sf.failure AS schedule_failure
  FROM medallion.models m
  JOIN medallion.layers l ON l.name = m.layer
  LEFT JOIN LATERAL (SELECT rm.finished_at, rm.rows FROM medallion.run_models rm
					  WHERE rm.model = m.name AND rm.status IN ('success', 'up_to_date') AND rm.published
					  ORDER BY rm.run_id DESC LIMIT 1) ok ON true
  LEFT JOIN LATERAL (SELECT rm.status, rm.run_id, rm.message FROM medallion.run_models rm
					  WHERE rm.model = m.name
					  ORDER BY rm.run_id DESC LIMIT 1) last ON true
  LEFT JOIN LATERAL (SELECT pg_catalog.string_agg(pg_catalog.format('pg_cron could not run the job of schedule %s at %s: %s',
																	f.schedule, f.failed_at, f.message), '; '
												  ORDER BY f.schedule) AS failure
					   FROM failing f WHERE f.model = m.name) sf ON true;
COMMENT ON VIEW medallion.status IS
	'Each model''s last successful (published) build, its age, the status of its last run step, and a failed pg_cron job of a schedule that builds it (after that schedule''s last run)';
GRANT SELECT ON medallion.status TO medallion_admin;

CREATE FUNCTION medallion.cron_next(cron text, after timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'medallion_cron_next'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION medallion.cron_next(text, timestamptz) IS
	'The first time after "after" that a pg_cron schedule (five fields or an @macro, in GMT) fires, or NULL when the expression is not understood';
/* ---------------------------------------------------------------------
 * Privileges of the functions, in one place: every function and procedure
 * of the extension is taken from PUBLIC and given to medallion_admin,
 * except the internal ones only medallion itself calls.  The install
 * script and every update script end with this, so that a version's
 * functions have the same privileges however it was reached.
 * --------------------------------------------------------------------- */

DO $privileges$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT p.oid::pg_catalog.regprocedure AS routine,
					p.pronamespace = 'medallion'::pg_catalog.regnamespace
					AND p.proname IN ('ledger_apply', 'drop_leftovers', 'trim_ledger', 'adopt_bind_schema',
										'cron_job_failed', 'track_changes', 'model_inputs', 'build_check',
										'build_record', 'trim_changes', 'track_partitions') AS internal
			   FROM pg_catalog.pg_proc p
			   JOIN pg_catalog.pg_depend d
				 ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
			  WHERE d.deptype = 'e'
				AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
				AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'medallion')
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f.routine);
		IF NOT f.internal THEN
			EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO medallion_admin', f.routine);
		END IF;
	END LOOP;
	/* a table's owner tracks it, admin or not (the function checks the owner) */
	GRANT EXECUTE ON FUNCTION @extschema@.medallion_track(pg_catalog.regclass) TO PUBLIC;
END
$privileges$;
