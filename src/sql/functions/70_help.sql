/* ---------------------------------------------------------------------
 * Help: the parameters of medallion's functions, a line each, with the
 * word dbt uses for the same thing (docs/reference.md has the table).
 * --------------------------------------------------------------------- */

CREATE OR REPLACE FUNCTION @extschema@.medallion_help(function text,
	OUT "position" integer, OUT parameter text, OUT type text, OUT default_value text,
	OUT dbt text, OUT description text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	fname text := function;
	fn oid;
BEGIN
	IF fname IS NULL THEN
		RAISE EXCEPTION 'function must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Name a function, e.g. SELECT * FROM medallion_help(''medallion_run'');';
	END IF;
	fname := lower(btrim(fname));
	IF fname !~ '^medallion_' THEN
		fname := 'medallion_' || fname;
	END IF;
	SELECT p.oid INTO fn
	  FROM pg_proc p
	  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion'
	 WHERE p.proname = fname
	 ORDER BY p.pronargs DESC
	 LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'medallion has no function "%"', function
			USING ERRCODE = 'undefined_function',
				  DETAIL = 'medallion''s functions: ' || (
					SELECT string_agg(DISTINCT p.proname, ', ' ORDER BY p.proname)
					  FROM pg_proc p
					  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
					  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion'
					 WHERE p.proname LIKE 'medallion\_%') || '.',
				  HINT = 'Name one of them, with or without "medallion_", e.g. medallion_help(''run'').';
	END IF;
	RETURN QUERY
	WITH args AS (
		SELECT a.n::integer AS n, a.name,
			   coalesce(p.proallargtypes[a.n], p.proargtypes[a.n - 1]) AS typ,
			   coalesce(p.proargmodes[a.n], 'i') AS mode
		  FROM pg_proc p,
			   unnest(p.proargnames) WITH ORDINALITY AS a (name, n)
		 WHERE p.oid = fn
	),
	ins AS (
		SELECT x.name, x.typ, row_number() OVER (ORDER BY x.n)::integer AS pos, x.n
		  FROM args x WHERE x.mode IN ('i', 'b', 'v')
	),
	/* (function, parameter, dbt's word, what it does); function '*' for every function */
	texts (f, p, dbt_word, txt) AS (VALUES
		('*', 'selector', '--select', 'which models: a space-separated union of terms; a comma joins terms that must all match (all, a model or layer, tag:, layer:, materialized:, owner:, state:modified, with + or @ for ancestors and descendants)'),
		('*', 'exclude', '--exclude', 'a selector whose models are left out'),
		('*', 'threads', '--threads', 'how many models may be built at once (table models in background workers)'),
		('*', 'model', NULL, 'the model''s name'),
		('*', 'description', 'description', 'a description, also written as COMMENT ON'),
		('*', 'name', NULL, 'the name'),
		('medallion_create_model', 'name', 'the model''s file name', 'the model''s name, also the name of its published relation'),
		('medallion_create_model', 'sql', 'the model''s SELECT (after Jinja)', 'the query, plain SQL: the models and relations it reads are found by PostgreSQL''s parser'),
		('medallion_create_model', 'layer', 'schema (or the folder)', 'the layer it is published in (bronze, silver, gold or one of medallion.layers): its schema'),
		('medallion_create_model', 'materialized', 'materialized', 'view, table, incremental, snapshot or ephemeral (default: the layer''s)'),
		('medallion_create_model', 'tags', 'tags', 'tags, for tag: selectors'),
		('medallion_create_model', 'unique_key', 'unique_key', 'the columns that identify a row (incremental merge, snapshots)'),
		('medallion_create_model', 'indexes', 'indexes', 'index column lists built on the published table'),
		('medallion_create_model', 'column_descriptions', 'columns: description', 'column descriptions as {"column": "text"}, also column comments'),
		('medallion_create_model', 'on_schema_change', 'on_schema_change', 'when the query''s columns change: fail, append_new_columns or sync_all_columns'),
		('medallion_create_model', 'statement_timeout', NULL, 'the longest a build may take'),
		('medallion_create_model', 'enabled', 'enabled', 'false: never selected'),
		('medallion_create_model', 'strategy', 'incremental_strategy', 'incremental: append, merge or delete+insert'),
		('medallion_create_model', 'watermark', 'the column in is_incremental()', 'incremental: the column that tells new rows (no {{ this }} filter needed)'),
		('medallion_create_model', 'lookback', 'the interval in is_incremental()', 'incremental: how far before the watermark to read again (late rows)'),
		('medallion_create_model', 'full_refresh_threshold', NULL, 'incremental: the share of changed rows above which the table is rebuilt'),
		('medallion_create_model', 'snapshot_strategy', 'strategy (snapshots)', 'snapshot: timestamp or check'),
		('medallion_create_model', 'updated_at', 'updated_at', 'snapshot (timestamp): the column that says a row changed'),
		('medallion_create_model', 'check_columns', 'check_cols', 'snapshot (check): the columns compared'),
		('medallion_create_model', 'hard_deletes', 'hard_deletes', 'snapshot: ignore or invalidate rows gone from the source'),
		('medallion_create_model', 'distributed_by', NULL, 'Citus: the distribution column'),
		('medallion_create_model', 'colocate_with', NULL, 'Citus: the model to colocate with'),
		('medallion_create_model', 'distribution', NULL, 'Citus: hash or reference'),
		('medallion_create_model', 'deterministic', NULL, 'its owner declares its functions do not change it without its inputs (change-aware runs)'),
		('medallion_create_model', 'contract', 'contract: {enforced: true} with columns'' data_type and constraints', 'the columns the query must give (names, types) and the constraints its table enforces'),
		('medallion_create_model', 'maintain', NULL, 'table: auto (maintained from its inputs'' changes when its query allows, else rebuilt; medallion_plan says why), incremental (maintained or the build fails) or full (always rebuilt, no row capture)'),
		('medallion_docs', 'run_id', NULL, 'the run whose Gantt chart the page shows (NULL: the last run)'),
		('medallion_promote', 'stage_id', NULL, 'the stage to publish (medallion.stages; medallion deploy --stage says it)'),
		('medallion_discard', 'stage_id', NULL, 'the stage to drop (medallion.stages)'),
		('medallion_impact', 'sql', NULL, 'the new SQL of the model, analyzed as medallion_create_model would, without changing anything'),
		('medallion_impact', 'contract', 'contract, columns: data_type, constraints', 'the new definition''s contract (NULL: none, as medallion_create_model takes it): a contract dropped, a promised column dropped or retyped, a constraint dropped is breaking'),
		('medallion_drop_model', 'cascade', NULL, 'drop the models that read it too'),
		('medallion_run', 'full_refresh', '--full-refresh', 'rebuild incremental models from scratch'),
		('medallion_run', 'strict', 'dbt build''s exit code', 'raise an error at the end when a model failed or was skipped, so psql exits non-zero (CI); the whole run, its publishing too, rolls back; warnings do not count'),
		('medallion_run', 'on_conflict', NULL, 'when another run builds the same model: wait or skip'),
		('medallion_run', 'changed_only', '--select state:modified+ (roughly)', 'skip models whose definition and inputs did not change (NULL: medallion.changed_only)'),
		('medallion_plan', 'threads', '--threads', 'with more than 1, says which models a worker may build'),
		('medallion_lineage', 'model', NULL, 'the model to start from'),
		('medallion_lineage', 'direction', NULL, 'upstream, downstream or both (or a column of the model: its column lineage)'),
		('medallion_lineage', 'depth', NULL, 'how many steps away at most (NULL: all)'),
		('medallion_lineage', 'column_name', 'column', 'follow this column instead of the whole model'),
		('medallion_graph', 'format', NULL, 'mermaid, dot, json or svg'),
		('medallion_add_test', 'model', 'the model the test is under', 'the model tested'),
		('medallion_add_test', 'kind', 'the test name (not_null, unique, ...)', 'not_null, unique, accepted_values, relationships, expression, row_count, freshness, recency or sql'),
		('medallion_add_test', 'column_name', 'column_name (column)', 'the column tested'),
		('medallion_add_test', 'columns', 'combination_of_columns', 'several columns (unique over them)'),
		('medallion_add_test', 'accepted', 'values', 'accepted_values: the values allowed, as text'),
		('medallion_add_test', 'to_model', 'to (ref)', 'relationships: the model referenced'),
		('medallion_add_test', 'to_relation', 'to (source)', 'relationships: a relation referenced (schema.name)'),
		('medallion_add_test', 'to_column', 'field', 'relationships: the column referenced'),
		('medallion_add_test', 'expression', 'expression', 'expression: a condition each row must satisfy'),
		('medallion_add_test', 'min_rows', 'min_value', 'row_count: at least this many rows'),
		('medallion_add_test', 'max_rows', 'max_value', 'row_count: at most this many rows'),
		('medallion_add_test', 'max_age', 'interval', 'freshness, recency: the oldest the newest value may be'),
		('medallion_add_test', 'sql', 'a singular test''s SELECT', 'sql: a query returning the failing rows'),
		('medallion_add_test', 'severity', 'severity', 'error or warn'),
		('medallion_add_test', 'warn_if', 'warn_if', 'when failures warn, e.g. > 0'),
		('medallion_add_test', 'error_if', 'error_if', 'when failures are errors, e.g. > 10'),
		('medallion_add_test', 'blocking', NULL, 'a failing test keeps the model from being published (default: severity error)'),
		('medallion_add_test', 'store_failures', 'store_failures', 'keep all failing rows in medallion_audit."<model>$<test>"'),
		('medallion_add_test', 'name', 'name', 'the test''s name (default: kind_column)'),
		('medallion_drop_test', 'name', NULL, 'the test''s name'),
		('medallion_add_unit_test', 'model', 'model', 'the model unit-tested'),
		('medallion_add_unit_test', 'name', 'name', 'the unit test''s name'),
		('medallion_add_unit_test', 'given', 'given', 'rows of the inputs: {"input": [{"column": value}, ...]}; an input is a model read, a relation read as schema.name, or this'),
		('medallion_add_unit_test', 'expect', 'expect', 'the rows expected: [{"column": value}, ...], compared on the columns named'),
		('medallion_add_unit_test', 'incremental', 'overrides: macros: is_incremental', 'test the incremental form: only rows past the high-water mark of the given this'),
		('medallion_add_unit_test', 'description', 'description', 'what the unit test shows'),
		('medallion_drop_unit_test', 'name', NULL, 'the unit test''s name'),
		('medallion_test', 'unit', '--select test_type:unit', 'run the unit tests of the selected models (on given rows) instead of their data tests'),
		('medallion_create_source', 'name', 'source name', 'the source''s name'),
		('medallion_create_source', 'local_schema', 'schema', 'the local schema its relations are in'),
		('medallion_create_source', 'kind', NULL, 'local, postgres, tds or file'),
		('medallion_create_source', 'tables', 'tables', 'the tables (empty: the whole schema)'),
		('medallion_create_source', 'server_name', 'database (a foreign server)', 'the foreign server (postgres, tds)'),
		('medallion_create_source', 'remote_schema', 'schema (remote)', 'the remote schema'),
		('medallion_create_source', 'freshness_column', 'loaded_at_field', 'the column whose newest value tells freshness'),
		('medallion_create_source', 'warn_after', 'freshness: warn_after', 'older than this: warn'),
		('medallion_create_source', 'error_after', 'freshness: error_after', 'older than this: error'),
		('medallion_create_source', 'options', NULL, 'retries, retry_delay, batch_size, ... as jsonb'),
		('medallion_drop_source', 'drop_relations', NULL, 'drop the relations it made too'),
		('medallion_add_source_test', 'source', 'source name', 'the source'),
		('medallion_add_source_test', 'relation', 'tables: name', 'the table of the source tested (its name in the source''s schema)'),
		('medallion_add_source_test', 'kind', 'the test name', 'not_null, unique, accepted_values or relationships'),
		('medallion_add_source_test', 'column_name', 'column_name', 'the column tested'),
		('medallion_add_source_test', 'accepted', 'values', 'accepted_values: the values allowed, as text'),
		('medallion_add_source_test', 'to_relation', 'to', 'relationships: the relation referenced (schema.name)'),
		('medallion_add_source_test', 'to_column', 'field', 'relationships: the column referenced'),
		('medallion_add_source_test', 'severity', 'severity', 'error or warn: the status of a failing test'),
		('medallion_add_source_test', 'name', 'name', 'the test''s name (default: relation_column_kind)'),
		('medallion_add_source_test', 'description', 'description', 'free text'),
		('medallion_drop_source_test', 'source', NULL, 'the source'),
		('medallion_drop_source_test', 'name', NULL, 'the test''s name'),
		('medallion_schedule', 'name', NULL, 'the schedule''s name'),
		('medallion_schedule', 'cron', 'the Airflow schedule_interval', 'a cron expression (pg_cron)'),
		('medallion_schedule', 'retries', 'retries (Airflow)', 'how many times a failing run is tried again'),
		('medallion_schedule', 'retry_delay', 'retry_delay (Airflow)', 'the wait before the first retry'),
		('medallion_trim_ledger', 'older_than', NULL, 'delete runs older than this (NULL: medallion.ledger_retention)'),
		('medallion_track', 'relation', NULL, 'a table to track changes of (its owner calls it)'),
		('medallion_refresh_source', 'name', NULL, 'the source''s name'),
		('medallion_help', 'function', NULL, 'one of medallion''s functions, with or without "medallion_"')
	)
	SELECT i.pos, i.name, format_type(i.typ, NULL),
		   pg_get_function_arg_default(fn, i.n),
		   coalesce(own.dbt_word, any_fn.dbt_word),
		   coalesce(own.txt, any_fn.txt, '')
	  FROM ins i
	  LEFT JOIN texts own ON own.f = fname AND own.p = i.name
	  LEFT JOIN texts any_fn ON any_fn.f = '*' AND any_fn.p = i.name
	 ORDER BY i.pos;
END
$function$;
COMMENT ON FUNCTION @extschema@.medallion_help(text) IS
	'The parameters of one of medallion''s functions (named with or without "medallion_"), a row each: position, name, type, default, the word dbt uses for it, and what it does';
