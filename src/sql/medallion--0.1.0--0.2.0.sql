/*
 * medallion--0.1.0--0.2.0.sql: this file, then the privileges section of
 * the install script (src/sql/install/90_privileges.sql), made into one by
 * the Makefile.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medallion UPDATE TO '0.2.0'" to load this file. \quit

/*
 * 0.2.0: a model means what it meant when it was defined.  Models are
 * bound (medallion_bind), admins no longer create in medallion's schemas,
 * sources and schedules have owners checked by their writers, settings are
 * range-checked, a run that skipped every model is "skipped".
 */

/*
 * 0.1.0 let admins create in the layer schemas, which every model's
 * search_path names: a function or operator one left there could capture
 * what models mean when this update binds them.  Refuse to update until a
 * superuser has moved or dropped them.
 */
DO $planted$
DECLARE
	found text;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.format('%s %s (owner %s)', x.kind, x.obj, x.owner), '; ')
	  INTO found
	  FROM (SELECT 'function' AS kind, p.oid::pg_catalog.regprocedure::text AS obj,
				   pg_catalog.pg_get_userbyid(p.proowner) AS owner
			  FROM pg_catalog.pg_proc p
			  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
			  JOIN medallion.layers l ON l.schema_name OPERATOR(pg_catalog.=) n.nspname
			UNION ALL
			SELECT 'operator', o.oid::pg_catalog.regoperator::text, pg_catalog.pg_get_userbyid(o.oprowner)
			  FROM pg_catalog.pg_operator o
			  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) o.oprnamespace
			  JOIN medallion.layers l ON l.schema_name OPERATOR(pg_catalog.=) n.nspname) x;
	IF found IS NOT NULL THEN
		RAISE EXCEPTION 'the layer schemas hold functions or operators: %', found
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Models resolve names through the layer schemas; this update binds them.',
				  HINT = 'Move them to a schema of their own (ALTER FUNCTION ... SET SCHEMA) or drop them, then update again.';
	END IF;
END
$planted$;

/* Admins define models through medallion; they do not create in its schemas. */
DO $revoke$
DECLARE
	l record;
BEGIN
	FOR l IN SELECT schema_name FROM medallion.layers LOOP
		EXECUTE pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM medallion_admin', l.schema_name);
	END LOOP;
END
$revoke$;
REVOKE CREATE ON SCHEMA medallion_audit FROM medallion_admin;

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
REVOKE ALL ON FUNCTION medallion.adopt_bind_schema() FROM PUBLIC;
DO $bindschema$
BEGIN
	IF pg_catalog.to_regnamespace('medallion_bind') IS NULL THEN
		CREATE SCHEMA medallion_bind;
	ELSE
		PERFORM medallion.adopt_bind_schema();
	END IF;
END
$bindschema$;
COMMENT ON SCHEMA medallion_bind IS
	'medallion: each model''s query (and its tests'' code) as bound when it was defined; runs execute these';
GRANT USAGE ON SCHEMA medallion_bind TO medallion_admin;

/*
 * Sources get the owner they never had: the owner of their local schema
 * (the role that created the foreign tables there), else the role running
 * the upgrade.  Credentials found in options are removed (they belong in a
 * user mapping); out-of-range numbers are brought into range.
 */
ALTER TABLE medallion.sources ADD COLUMN owner name;
UPDATE medallion.sources AS s
   SET owner = COALESCE((SELECT pg_catalog.pg_get_userbyid(n.nspowner) FROM pg_catalog.pg_namespace n
						  WHERE n.nspname = s.local_schema), current_user);
DO $credentials$
DECLARE
	bad text;
BEGIN
	SELECT pg_catalog.string_agg(name, ', ') INTO bad FROM medallion.sources
	 WHERE options ?| ARRAY['password', 'username', 'user', 'passwd', 'pwd'];
	IF bad IS NOT NULL THEN
		RAISE WARNING 'credentials removed from the options of sources %', bad
			USING HINT = 'Credentials belong in a user mapping (CREATE USER MAPPING), which medallion never reads.';
		UPDATE medallion.sources SET options = options - ARRAY['password', 'username', 'user', 'passwd', 'pwd'];
	END IF;
END
$credentials$;
UPDATE medallion.sources
   SET options = options || pg_catalog.jsonb_build_object('retries',
		   LEAST(100, GREATEST(0, pg_catalog.trunc((options->>'retries')::numeric))))
 WHERE options ? 'retries' AND pg_catalog.jsonb_typeof(options->'retries') = 'number';
UPDATE medallion.sources
   SET options = options || pg_catalog.jsonb_build_object('batch_size',
		   LEAST(100000000, GREATEST(1, pg_catalog.trunc((options->>'batch_size')::numeric))))
 WHERE options ? 'batch_size' AND pg_catalog.jsonb_typeof(options->'batch_size') = 'number';
ALTER TABLE medallion.sources ALTER COLUMN owner SET NOT NULL,
	ADD CONSTRAINT sources_no_credentials
		CHECK (NOT options ?| ARRAY['password', 'username', 'user', 'passwd', 'pwd']),
	ADD CONSTRAINT sources_retries
		CHECK (NOT options ? 'retries' OR (pg_catalog.jsonb_typeof(options->'retries') = 'number'
			AND (options->>'retries')::numeric BETWEEN 0 AND 100
			AND (options->>'retries')::numeric = pg_catalog.trunc((options->>'retries')::numeric))),
	ADD CONSTRAINT sources_batch_size
		CHECK (NOT options ? 'batch_size' OR (pg_catalog.jsonb_typeof(options->'batch_size') = 'number'
			AND (options->>'batch_size')::numeric BETWEEN 1 AND 100000000
			AND (options->>'batch_size')::numeric = pg_catalog.trunc((options->>'batch_size')::numeric))),
	ADD CONSTRAINT sources_changes
		CHECK (NOT options ? 'changes' OR options->>'changes' = 'always'
			OR (options->>'changes' = 'probe' AND freshness_column IS NOT NULL));
COMMENT ON COLUMN medallion.sources.options IS 'Wrapper-specific options, never credentials; retries, retry_delay, batch_size; changes (always, or probe: change-aware runs compare count(*) and max(freshness_column) of each foreign table with the last build''s)';
COMMENT ON COLUMN medallion.sources.owner IS 'Role that registered the source: only roles with its privileges change, refresh or drop it';

/* Model settings in range. */
UPDATE medallion.models SET statement_timeout = NULL WHERE statement_timeout <= '0';
UPDATE medallion.models SET lookback = NULL WHERE lookback < '0';
UPDATE medallion.models SET full_refresh_threshold = 1 WHERE full_refresh_threshold > 1;
ALTER TABLE medallion.models
	ADD CONSTRAINT models_statement_timeout_check CHECK (statement_timeout > '0'),
	ADD CONSTRAINT models_lookback_check CHECK (lookback >= '0'),
	DROP CONSTRAINT models_full_refresh_threshold_check,
	ADD CONSTRAINT models_full_refresh_threshold_check
		CHECK (full_refresh_threshold > 0 AND full_refresh_threshold <= 1);
COMMENT ON COLUMN medallion.models.search_path IS 'search_path the model SQL is bound with when it is defined (pg_temp is never on it; it is searched last)';

/* A run that skipped every model (another run held them) is "skipped". */
ALTER TABLE medallion.runs DROP CONSTRAINT runs_status_check,
	ADD CONSTRAINT runs_status_check
		CHECK (status IN ('running', 'success', 'partial', 'failed', 'cancelled', 'crashed', 'skipped'));
COMMENT ON COLUMN medallion.runs.status IS 'running, success, partial (some models failed or were skipped), failed, cancelled, crashed, or skipped (another run held every model, on_conflict => skip)';

/* A run that succeeds records its finish in its caller's transaction. */
ALTER TABLE medallion.runs ADD COLUMN xact xid8;
COMMENT ON COLUMN medallion.runs.xact IS 'The transaction that called medallion_run: a run still marked running whose transaction ended did not publish (its caller rolled back)';

UPDATE medallion.schedules SET retries = 100 WHERE retries > 100;
ALTER TABLE medallion.schedules DROP CONSTRAINT schedules_retries_check,
	ADD CONSTRAINT schedules_retries_check CHECK (retries BETWEEN 0 AND 100);

/* A schedule's times are those of its runs. */
ALTER TABLE medallion.schedules ADD COLUMN last_started_at timestamptz;
COMMENT ON COLUMN medallion.schedules.last_finished_at IS 'When the last scheduled run ended (its last attempt''s run, as in medallion.runs)';
COMMENT ON COLUMN medallion.schedules.last_started_at IS 'When the last scheduled run started (its first attempt''s run, as in medallion.runs)';
ALTER TABLE medallion.schedules ADD COLUMN last_job_failed_at timestamptz,
	ADD COLUMN last_job_message text;
COMMENT ON COLUMN medallion.schedules.last_job_failed_at IS 'When pg_cron last failed to run the schedule''s job (it could not connect, or the job raised), from cron.job_run_details';
COMMENT ON COLUMN medallion.schedules.last_job_message IS 'pg_cron''s message for that failure (connection failed, or the error)';

/* The writers of sources and schedules check the owner themselves (C). */
DROP FUNCTION medallion.source_write(text, text, text, name, text, name, text[], jsonb, text, interval, interval, text);
CREATE FUNCTION medallion.source_write(op text, name text, kind text DEFAULT NULL,
	server_name name DEFAULT NULL, remote_schema text DEFAULT NULL, local_schema name DEFAULT NULL,
	tables text[] DEFAULT NULL, options jsonb DEFAULT NULL, freshness_column text DEFAULT NULL,
	warn_after interval DEFAULT NULL, error_after interval DEFAULT NULL, description text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_source_write'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.source_write(text, text, text, name, text, name, text[], jsonb, text, interval, interval, text) IS
	'Write medallion.sources (upsert, tables, delete), as the extension owner, when the caller acts for the source''s owner; internal';

REVOKE ALL ON FUNCTION medallion.source_write(text, text, text, name, text, name, text[], jsonb, text, interval, interval, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medallion.source_write(text, text, text, name, text, name, text[], jsonb, text, interval, interval, text) TO medallion_admin;

DROP FUNCTION medallion.schedule_write(text, text, text, text, integer, interval, bigint, bigint, text, integer, integer);
CREATE FUNCTION medallion.schedule_write(op text, name text, selector text DEFAULT NULL,
	cron text DEFAULT NULL, retries integer DEFAULT NULL, retry_delay interval DEFAULT NULL,
	jobid bigint DEFAULT NULL, last_run_id bigint DEFAULT NULL, last_status text DEFAULT NULL,
	last_attempts integer DEFAULT NULL, threads integer DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_schedule_write'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.schedule_write(text, text, text, text, integer, interval, bigint, bigint, text, integer, integer) IS
	'Write medallion.schedules (upsert, outcome, delete), as the extension owner, when the caller acts for the schedule''s owner; internal';

REVOKE ALL ON FUNCTION medallion.schedule_write(text, text, text, text, integer, interval, bigint, bigint, text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medallion.schedule_write(text, text, text, text, integer, interval, bigint, bigint, text, integer, integer) TO medallion_admin;

CREATE FUNCTION medallion.cron_database()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$ SELECT pg_catalog.current_setting('cron.database_name', true) $function$;
COMMENT ON FUNCTION medallion.cron_database() IS
	'The database pg_cron runs its jobs in (cron.database_name, which only superusers can read), or NULL when pg_cron is not loaded; internal';
REVOKE ALL ON FUNCTION medallion.cron_database() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medallion.cron_database() TO medallion_admin;

CREATE OR REPLACE FUNCTION medallion.require_pg_cron()
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_create_source(
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_refresh_source(name text)
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_drop_source(name text, drop_relations boolean DEFAULT true)
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

/*
 * The last build of each model at a glance, and whether pg_cron failed to
 * run the job of a schedule that builds it.
 */
CREATE OR REPLACE VIEW medallion.status AS
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_schedule(name text, selector text, cron text,
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_unschedule(name text)
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

CREATE OR REPLACE PROCEDURE @extschema@.medallion_run_scheduled(name text)
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

/* Citus: models published as distributed or reference tables. */
ALTER TABLE medallion.models ADD COLUMN distribution text CHECK (distribution IN ('hash', 'reference')),
	ADD COLUMN distributed_by text,
	ADD COLUMN colocate_with text,
	ADD CONSTRAINT models_distribution_settings_check CHECK (coalesce(distribution = 'hash', false) = (distributed_by IS NOT NULL)
													AND (colocate_with IS NULL OR coalesce(distribution = 'hash', false)));
COMMENT ON COLUMN medallion.models.distribution IS 'Citus: hash (a distributed table, by distributed_by) or reference (a copy on every node); NULL for a local table';
COMMENT ON COLUMN medallion.models.distributed_by IS 'Citus: the distribution column of a hash-distributed model';
COMMENT ON COLUMN medallion.models.colocate_with IS 'Citus: the model a hash-distributed model is colocated with (NULL: Citus''s default, the first distributed table of the same column type)';
ALTER TABLE medallion.models ADD COLUMN deterministic boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN medallion.models.deterministic IS 'Its owner declares that its result depends only on what it reads: the functions it calls do not make a change-aware run build it';
DROP FUNCTION @extschema@.medallion_create_model(text, text, text, text, text[], text, text[], text[], jsonb, text, interval, boolean, text, text, interval, real, text, text, text[], text);
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

/* The plan says which models a run with threads gives to workers, and why not the others. */
DROP FUNCTION @extschema@.medallion_plan(text);
CREATE FUNCTION @extschema@.medallion_plan(selector text DEFAULT 'all', threads integer DEFAULT 1,
	OUT step integer, OUT wave integer, OUT model text, OUT layer text,
	OUT materialized text, OUT depends_on text[], OUT worker boolean, OUT reason text,
	OUT build boolean, OUT why text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_plan'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_plan(text, integer) IS
	'The models a run of the selector would build, in dependency order (models of one wave are independent of each other); with threads, which ones a background worker may build, and why the run builds each other one itself; whether a change-aware run would build each model, and why (build, why)';

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

/*
 * ledger_apply: the only writer of the run ledger, called by the ledger
 * worker, by a run whose finish has nothing to report (in the caller's
 * transaction) and, when no worker slot is free, by the run itself.
 */
CREATE OR REPLACE FUNCTION medallion.ledger_apply(entry jsonb)
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

/*
 * Bind every model as its owner, from the SQL it was defined with: the
 * last time its names are resolved until its owner defines or re-binds it.
 * Ephemeral models first, so that what reads them finds their bindings; a
 * model that cannot be bound is reported and stays unbound (its runs say
 * so) until its owner fixes it.
 */
DO $bind$
DECLARE
	m record;
	pending text[];
	failures text;
	bound integer := 1;
BEGIN
	SELECT pg_catalog.array_agg(name ORDER BY materialized <> 'ephemeral', name) INTO pending
	  FROM medallion.models;
	WHILE bound > 0 AND pg_catalog.cardinality(pending) > 0 LOOP
		bound := 0;
		failures := NULL;
		FOR m IN SELECT u.name FROM pg_catalog.unnest(pending) WITH ORDINALITY AS u (name, n) ORDER BY u.n LOOP
			BEGIN
				PERFORM @extschema@.medallion_reanalyze(m.name);
				pending := pg_catalog.array_remove(pending, m.name);
				bound := bound + 1;
			EXCEPTION WHEN OTHERS THEN
				failures := pg_catalog.concat_ws('; ', failures, pg_catalog.format('%s: %s', m.name, SQLERRM));
			END;
		END LOOP;
	END LOOP;
	IF failures IS NOT NULL THEN
		RAISE WARNING 'models that could not be bound: %', failures
			USING HINT = 'Their owners fix them and bind them with medallion_create_model or medallion_reanalyze.';
	END IF;
END
$bind$;

/* schedules made before 0.2.0: watch their jobs too */
SELECT medallion.watch_cron_jobs(true) FROM medallion.schedules LIMIT 1;

/* Change-aware runs: medallion_run takes changed_only (the rest is 55_changes.sql). */
DROP FUNCTION @extschema@.medallion_run(text, boolean, boolean, text, integer);
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

/* The pipeline as a page; medallion_graph also draws SVG. */
COMMENT ON FUNCTION @extschema@.medallion_graph(text, text) IS
	'The dependency graph of the selected models and the sources and relations they read, as mermaid, dot, json or svg text (svg: laid out by Graphviz, needs medallion_docs.so)';

CREATE FUNCTION @extschema@.medallion_docs(selector text DEFAULT 'all')
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_docs'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_docs(text) IS
	'The selected part of the pipeline as one self-contained HTML page: the graph, the last run as a Gantt chart, runs, sources, schedules, and each model with its SQL, columns, lineage, tests and last steps; shows what the caller may read';

CREATE FUNCTION medallion.cron_next(cron text, after timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'medallion_cron_next'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION medallion.cron_next(text, timestamptz) IS
	'The first time after "after" that a pg_cron schedule (five fields or an @macro, in GMT) fires, or NULL when the expression is not understood';
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
