-- The catalog and API contract of the medallion extension.
SET client_min_messages = warning;
BEGIN;
SELECT plan(30);

SELECT has_schema('medallion', 'schema medallion holds the catalog');
SELECT has_schema(s, format('layer schema %s exists', s)) FROM unnest(ARRAY['bronze', 'silver', 'gold']) s;
SELECT has_schema('medallion_history', 'previous versions are kept in medallion_history');
SELECT has_schema('medallion_build', 'candidates of build workers live in medallion_build');
SELECT schema_privs_are('medallion_build', 'public', ARRAY['USAGE'],
	'anyone may look up medallion_build; its tables are readable by the run''s model owners only');
SELECT has_schema('medallion_audit', 'failing rows are kept in medallion_audit');
SELECT has_schema('medallion_stage', 'candidates of staged deploys live in medallion_stage');
SELECT schema_privs_are('medallion_stage', 'public', ARRAY[]::text[],
	'nobody but admins may look up medallion_stage');
SELECT schema_privs_are('medallion_stage', 'medallion_admin', ARRAY['USAGE'],
	'admins may look it up; its tables are readable by their model''s owner only');
SELECT tables_are('medallion', ARRAY['layers', 'sources', 'models', 'analysis', 'model_dependencies',
	'column_lineage', 'runs', 'run_models', 'tests', 'test_results', 'model_state', 'schedules', 'extract_state',
	'changes', 'build_state', 'probe_key', 'schedule_job_failures', 'audit_tables', 'written_lows',
	'unit_tests', 'source_tests', 'stages', 'stage_tables'], 'the catalog tables');
SELECT col_is_pk('medallion', 'models', 'name', 'models are keyed by name');
SELECT col_is_pk('medallion', 'tests', ARRAY['model', 'name'], 'tests are keyed by model and name');
SELECT fk_ok('medallion', 'models', 'layer', 'medallion', 'layers', 'name');
SELECT has_role('medallion_admin');
SELECT has_role('medallion_reader');

-- every object of the extension has a comment
SELECT is_empty($$
	SELECT pg_describe_object(d.classid, d.objid, 0)
	  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion'
	 WHERE d.deptype = 'e' AND d.classid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_namespace'::regclass)
	   AND obj_description(d.objid, d.classid::regclass::name) IS NULL
	   AND NOT (d.classid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('i', 'S'))
$$, 'every table, view, function and schema of the extension has a comment');
SELECT is_empty($$
	SELECT c.relname || '.' || a.attname
	  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion'
	  JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass AND c.relkind = 'r'
	  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	 WHERE d.deptype = 'e' AND col_description(c.oid, a.attnum) IS NULL
$$, 'every column of every catalog table has a comment');

-- pg_dump keeps what users author, not what is derived
SELECT set_eq($$
	SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'medallion'
$$, ARRAY['medallion.layers', 'medallion.sources', 'medallion.models', 'medallion.tests', 'medallion.model_state', 'medallion.schedules',
	'medallion.unit_tests', 'medallion.source_tests'],
'user-authored tables are registered with pg_extension_config_dump');
SELECT is((SELECT extcondition[array_position(extconfig, 'medallion.layers'::regclass)]
             FROM pg_extension WHERE extname = 'medallion'), 'WHERE NOT builtin',
          'built-in layers are not dumped (the extension creates them)');

-- the API: medallion_admin may run it, PUBLIC may not (but a table's
-- owner tracks it: medallion_track checks the owner itself; medallion_help
-- reads only the catalog's function signatures)
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.proname LIKE 'medallion\_%' AND p.proname NOT IN ('medallion_track', 'medallion_help')
	   AND has_function_privilege('public', p.oid, 'EXECUTE')
$$, 'no medallion_* function but medallion_track and medallion_help is executable by PUBLIC');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.proname LIKE 'medallion\_%' AND NOT has_function_privilege('medallion_admin', p.oid, 'EXECUTE')
$$, 'medallion_admin may execute every medallion_* function');
SELECT ok(NOT has_function_privilege('medallion_reader', 'medallion_run(text, boolean, boolean, text, integer, boolean, text)', 'EXECUTE'),
          'medallion_reader may not run the pipeline');
SELECT ok(has_schema_privilege('medallion_reader', 'gold', 'USAGE'), 'medallion_reader reaches gold');
SELECT ok(NOT has_table_privilege('medallion_admin', 'medallion.models', 'INSERT'),
          'the catalog is written only through the functions');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.proname LIKE 'medallion\_%' AND p.prosecdef
	   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
$$, 'SECURITY DEFINER functions pin search_path');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE proname = 'medallion_run'), 1, 'one medallion_run');
SELECT function_returns('medallion_create_model', 'text');
SELECT has_view('medallion', 'status', 'medallion.status shows each model at a glance');

SELECT * FROM finish();
ROLLBACK;
