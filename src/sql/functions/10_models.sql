/* ---------------------------------------------------------------------
 * Models: define, drop, re-bind, plan, lineage
 * --------------------------------------------------------------------- */

CREATE OR REPLACE FUNCTION @extschema@.medallion_create_model(
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_model(name text, cascade boolean DEFAULT false)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'medallion_drop_model'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_drop_model(text, boolean) IS
	'Drop a model and its published relation; with cascade also the models that depend on it; returns the dropped models';

CREATE OR REPLACE FUNCTION @extschema@.medallion_reanalyze(selector text DEFAULT 'all')
RETURNS integer
AS 'MODULE_PATHNAME', 'medallion_reanalyze'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_reanalyze(text) IS
	'Analyze the selected models again and rebuild their dependencies and column lineage (after a restore, or after upstream changes); returns the number of models analyzed';

CREATE OR REPLACE FUNCTION @extschema@.medallion_plan(selector text DEFAULT 'all', threads integer DEFAULT 1,
	OUT step integer, OUT wave integer, OUT model text, OUT layer text,
	OUT materialized text, OUT depends_on text[], OUT worker boolean, OUT reason text,
	OUT build boolean, OUT why text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_plan'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_plan(text, integer) IS
	'The models a run of the selector would build, in dependency order (models of one wave are independent of each other); with threads, which ones a background worker may build, and why the run builds each other one itself; whether a change-aware run would build each model, and why (build, why)';

CREATE OR REPLACE FUNCTION @extschema@.medallion_lineage(model text, direction text DEFAULT 'upstream',
	depth integer DEFAULT NULL,
	OUT depth_from_model integer, OUT direction_of text, OUT relation_schema name,
	OUT relation_name name, OUT kind text, OUT via text, OUT path text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_lineage'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_lineage(text, text, integer) IS
	'Relations upstream or downstream of a model (direction upstream, downstream or both), up to depth steps away, with the path that reaches each';

CREATE OR REPLACE FUNCTION @extschema@.medallion_graph(selector text DEFAULT 'all', format text DEFAULT 'mermaid')
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_graph'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_graph(text, text) IS
	'The dependency graph of the selected models and the sources and relations they read, as mermaid, dot, json or svg text (svg: laid out by Graphviz, needs medallion_docs.so)';

CREATE OR REPLACE FUNCTION @extschema@.medallion_docs(selector text DEFAULT 'all', run_id bigint DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_docs'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_docs(text, bigint) IS
	'The selected part of the pipeline as one self-contained HTML page: the graph, a run as a Gantt chart (run_id, else the last), the last runs by model, runs, sources, schedules, and each model with its SQL, columns, lineage, tests and last steps (and why they failed, to whom may read it), with filters and focus; shows what the caller may read';
