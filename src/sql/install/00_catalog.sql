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
				CONSTRAINT models_on_schema_change_check
				CHECK (on_schema_change IN ('fail', 'ignore', 'append_new_columns', 'sync_all_columns')),
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
	contract	jsonb,
	maintain	text NOT NULL DEFAULT 'auto' CONSTRAINT models_maintain_check CHECK (maintain IN ('auto', 'incremental', 'full')),
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
COMMENT ON COLUMN medallion.models.on_schema_change IS 'What an incremental run does when the query''s columns change: fail, ignore, append_new_columns, sync_all_columns (a table rebuilt whole takes the new columns)';
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
COMMENT ON COLUMN medallion.models.contract IS 'The columns (names, types) the query must give, and the constraints (not_null, unique, primary_key, check) its published table enforces; NULL: none';
COMMENT ON COLUMN medallion.models.maintain IS 'Table models: auto (maintained from its inputs'' row deltas when its query allows it, else rebuilt whole), incremental (maintained, or the build fails) or full (always rebuilt whole; no row capture)';
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
