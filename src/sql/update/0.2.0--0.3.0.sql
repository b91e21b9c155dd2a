/*
 * medallion--0.2.0--0.3.0.sql: this file, then the privileges section of
 * the install script (src/sql/install/90_privileges.sql), made into one by
 * the Makefile.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medallion UPDATE TO '0.3.0'" to load this file. \quit

/* ---------------------------------------------------------------------
 * Failing rows: tables named "<model>$<test>", recorded by OID (0.2.0's
 * "<model>__<test>" let two pairs meet).  0.2.0's tables stay where they
 * are, with their rows; new failing rows go to the new tables.
 * --------------------------------------------------------------------- */

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
COMMENT ON COLUMN medallion.tests.store_failures IS 'Keep failing rows in medallion_audit."<model>$<test>" (medallion.audit_tables)';

/* ---------------------------------------------------------------------
 * Model names starting with "pg_" are refused from 0.3.0 on: a model so
 * named could take the transient name (pg_temp_<OID>) of another model's
 * candidate.  Refuse to update while one exists.
 * --------------------------------------------------------------------- */
DO $reserved$
DECLARE
	found text;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.quote_literal(name), ', ' ORDER BY name) INTO found
	  FROM medallion.models WHERE name OPERATOR(pg_catalog.~~) 'pg\_%';
	IF found IS NOT NULL THEN
		RAISE EXCEPTION 'models named with the reserved prefix "pg_" exist: %', found
			USING ERRCODE = 'reserved_name',
				  DETAIL = 'Names starting with "pg_" are reserved for PostgreSQL''s transient relations, which a run builds in the layer schemas.',
				  HINT = 'Drop these models (medallion_drop_model) and define them again under other names, then update.';
	END IF;
END
$reserved$;

/* ---------------------------------------------------------------------
 * Change capture: a change found before the log rows showing it were
 * trimmed is noted with the build; tables tracked by 0.2.0 get the row
 * trigger (enabled REPLICA) that logs a subscription's writes.
 * --------------------------------------------------------------------- */
ALTER TABLE medallion.build_state ADD COLUMN changed text;
COMMENT ON COLUMN medallion.build_state.changed IS 'An input change found since the build, kept here when the change log rows showing it were trimmed (NULL: none noted)';
DO $row_triggers$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT g.tgrelid::pg_catalog.regclass AS rel
			   FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
			  WHERE g.tgname = 'medallion_changes' AND c.relkind = 'r'
				AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger r
								 WHERE r.tgrelid = g.tgrelid AND r.tgname = 'medallion_changes_row') LOOP
		EXECUTE pg_catalog.format('CREATE TRIGGER medallion_changes_row AFTER INSERT OR UPDATE OR DELETE ON %s '
								  'FOR EACH ROW EXECUTE FUNCTION medallion.track_changes()', t.rel);
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE REPLICA TRIGGER medallion_changes_row', t.rel);
		/* dropped with the extension, as the statement trigger is */
		EXECUTE pg_catalog.format('ALTER TRIGGER medallion_changes_row ON %s DEPENDS ON EXTENSION medallion', t.rel);
	END LOOP;
END
$row_triggers$;
/* =====================================================================
 * Security review, source owners (sec-src): probes, extraction and
 * freshness checks use only sources whose owner acts for the model owner
 * and owns the schema; probes keep keyed digests, not values; import
 * scratch schemas get unpredictable names
 * ===================================================================== */

CREATE TABLE medallion.probe_key (
	key			text NOT NULL
);
INSERT INTO medallion.probe_key (key)
	SELECT pg_catalog.gen_random_uuid()::text OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text;
COMMENT ON TABLE medallion.probe_key IS
	'The secret key of the digests of probe answers kept in build_state (no grants: the extension owner reads it)';
COMMENT ON COLUMN medallion.probe_key.key IS 'Random text';
COMMENT ON COLUMN medallion.build_state.inputs IS 'Each input with what no trigger reports: storage (relfilenode), partitions, view rules, upstream builds, a keyed digest of a foreign table''s probe';
/* what earlier probes read, kept in the catalog: gone (those models build once more) */
DELETE FROM medallion.build_state WHERE inputs::text LIKE '%"probe %';
UPDATE medallion.run_models
   SET message = pg_catalog.regexp_replace(message, '\(probe \d+ rows, newest .*\)', '(its probe answered otherwise)')
 WHERE message ~ '\(probe \d+ rows, newest ';

/* build_check (its message for a probe) is in src/sql/functions/55_changes.sql */

CREATE OR REPLACE FUNCTION medallion.source_spec(kind text, server_name name, remote_schema text,
	tables text[], options jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	/*
	 * Unpredictable: a name another role could guess, it could create
	 * first and make this call fail (or own what is imported into it).
	 */
	scratch text := 'medallion_import_' || replace(gen_random_uuid()::text, '-', '');
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

/* =====================================================================
 * Security review, private copies (sec-src): history copies and stored
 * failing rows keep only what their published table allows now
 * ===================================================================== */

CREATE FUNCTION medallion.private_copies_follow()
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	c record;
	n integer := 0;
BEGIN
	FOR c IN
		WITH copies AS (
			SELECT h.oid AS copy, h.relowner, h.relacl, p.oid AS published, p.relowner AS pub_owner,
				   p.relrowsecurity AS rls, p.relacl AS pub_acl
			  FROM medallion.models m
			  JOIN medallion.layers l ON l.name = m.layer
			  JOIN pg_namespace pn ON pn.nspname = l.schema_name
			  JOIN pg_class p ON p.relnamespace = pn.oid AND p.relname = m.name
			  JOIN pg_namespace hn ON hn.nspname = 'medallion_history'
			  JOIN pg_class h ON h.relnamespace = hn.oid AND h.relname = m.name
			UNION ALL
			SELECT a.oid, a.relowner, a.relacl, p.oid, p.relowner, p.relrowsecurity, p.relacl
			  FROM medallion.tests t
			  JOIN medallion.models m ON m.name = t.model
			  JOIN medallion.layers l ON l.name = m.layer
			  JOIN pg_namespace pn ON pn.nspname = l.schema_name
			  JOIN pg_class p ON p.relnamespace = pn.oid AND p.relname = m.name
			  JOIN medallion.audit_tables at ON at.model = t.model AND at.test = t.name
			  JOIN pg_class a ON a.oid = at.relid
		)
		SELECT x.copy, g.grantor, array_agg(DISTINCT g.grantee) AS grantees
		  FROM copies x
		 CROSS JOIN LATERAL aclexplode(x.relacl) g
		 WHERE x.relacl IS NOT NULL AND g.grantee <> x.relowner
		   AND CASE WHEN g.grantee = 0
					THEN x.rls OR NOT EXISTS (SELECT FROM aclexplode(x.pub_acl) q
											   WHERE q.grantee = 0 AND q.privilege_type = 'SELECT')
					WHEN x.rls
					THEN NOT pg_has_role(g.grantee, x.pub_owner, 'USAGE')
						 AND NOT (SELECT r.rolbypassrls FROM pg_roles r WHERE r.oid = g.grantee)
					ELSE NOT has_table_privilege(g.grantee, x.published, 'SELECT') END
		 GROUP BY x.copy, g.grantor
	LOOP
		EXECUTE format('REVOKE ALL ON TABLE %s FROM %s GRANTED BY %I CASCADE', c.copy::regclass,
					   (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
						  FROM unnest(c.grantees) r),
					   pg_get_userbyid(c.grantor));
		n := n + 1;
	END LOOP;
	RETURN n;
END
$function$;
COMMENT ON FUNCTION medallion.private_copies_follow() IS
	'Revoke the grants on history copies and stored failing rows that their published table no longer allows (a grantee that may not SELECT it, or any but its owner''s roles under row-level security); returns how many REVOKEs it made; internal';

CREATE FUNCTION medallion.follow_grants()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	PERFORM medallion.private_copies_follow();
END
$function$;
COMMENT ON FUNCTION medallion.follow_grants() IS
	'Event trigger: after GRANT, REVOKE, ALTER TABLE or a policy change, private copies keep only what their table allows; internal';
CREATE EVENT TRIGGER medallion_follow_grants ON ddl_command_end
	WHEN TAG IN ('GRANT', 'REVOKE', 'ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
	EXECUTE FUNCTION medallion.follow_grants();
COMMENT ON EVENT TRIGGER medallion_follow_grants IS
	'medallion: history copies and stored failing rows keep only the grants their published table allows now';
/* copies made before: their grants were the table's when they were made */
SELECT medallion.private_copies_follow();

/* =====================================================================
 * Security review, pg_cron (sec-src): the launcher's trigger and
 * scheduled runs never wait for a schedule's row
 * ===================================================================== */

CREATE TABLE medallion.schedule_job_failures (
	jobid		bigint NOT NULL,
	failed_at	timestamptz NOT NULL,
	message		text
);
COMMENT ON TABLE medallion.schedule_job_failures IS
	'Failed pg_cron jobs of schedules whose row was locked when pg_cron reported them; taken into medallion.schedules by the next report';
COMMENT ON COLUMN medallion.schedule_job_failures.jobid IS 'The pg_cron job (medallion.schedules.jobid)';
COMMENT ON COLUMN medallion.schedule_job_failures.failed_at IS 'When pg_cron failed to run it';
COMMENT ON COLUMN medallion.schedule_job_failures.message IS 'pg_cron''s message for that failure';
GRANT SELECT ON medallion.schedule_job_failures TO medallion_admin;

CREATE OR REPLACE FUNCTION medallion.cron_job_failed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '100ms'
AS $function$
DECLARE
	s text;
	failed_at timestamptz := coalesce(NEW.end_time, now());
BEGIN
	BEGIN
		SELECT x.name INTO s FROM medallion.schedules AS x WHERE x.jobid = NEW.jobid
		   FOR UPDATE SKIP LOCKED;
		IF s IS NOT NULL THEN
			UPDATE medallion.schedules AS x
			   SET last_job_failed_at = failed_at, last_job_message = NEW.return_message
			 WHERE x.name = s;
			/* this failure is newer than any noted while the row was held */
			DELETE FROM medallion.schedule_job_failures AS n WHERE n.jobid = NEW.jobid;
		ELSE
			/* held by an open transaction (or not a schedule's job): a plain read does not wait */
			SELECT x.name INTO s FROM medallion.schedules AS x WHERE x.jobid = NEW.jobid;
			IF s IS NOT NULL THEN
				INSERT INTO medallion.schedule_job_failures (jobid, failed_at, message)
				VALUES (NEW.jobid, failed_at, NEW.return_message);
			END IF;
		END IF;
		IF s IS NOT NULL THEN
			PERFORM pg_notify('medallion_alerts', left(jsonb_build_object(
				'schedule', s, 'jobid', NEW.jobid, 'status', 'job failed',
				'message', format('pg_cron could not run the job of schedule %s: %s', s,
								  coalesce(NEW.return_message, 'no message')))::text, 7900));
		END IF;
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'medallion could not record the failure of pg_cron job %: %', NEW.jobid, SQLERRM
			USING DETAIL = 'cron.job_run_details keeps it.';
	END;
	RETURN NULL;
END
$function$;
COMMENT ON FUNCTION medallion.cron_job_failed() IS
	'Trigger on cron.job_run_details: record a failed job of a schedule (last_job_failed_at, last_job_message, or a note in schedule_job_failures while its row is held) and alert, never waiting for a lock; internal';

CREATE OR REPLACE FUNCTION medallion.watch_cron_jobs(watch boolean)
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
	/* notes of jobs no schedule has any more */
	DELETE FROM medallion.schedule_job_failures AS n
	 WHERE NOT EXISTS (SELECT 1 FROM medallion.schedules x WHERE x.jobid = n.jobid);
	RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
	RETURN false;
END
$function$;
COMMENT ON FUNCTION medallion.watch_cron_jobs(boolean) IS
	'Create the trigger on cron.job_run_details that records failed jobs of schedules, or drop it when no schedule is left; false when pg_cron is missing or the extension owner may not; internal to medallion_schedule and medallion_unschedule';

CREATE OR REPLACE FUNCTION medallion.schedule_failures(OUT schedule text, OUT model text,
	OUT failed_at timestamptz, OUT message text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	s record;
BEGIN
	/* the newest failure: on the row, or noted while the row was held */
	FOR s IN SELECT x.name, x.selector, f.failed_at AS last_job_failed_at, f.message AS last_job_message
			   FROM medallion.schedules x
			  CROSS JOIN LATERAL (
					SELECT x.last_job_failed_at AS failed_at, x.last_job_message AS message
					UNION ALL
					SELECT n.failed_at, n.message FROM medallion.schedule_job_failures n WHERE n.jobid = x.jobid
					ORDER BY 1 DESC NULLS LAST LIMIT 1) f
			  WHERE f.failed_at > coalesce(x.last_finished_at, '-infinity')
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
	'The models of each schedule whose pg_cron job failed after the schedule''s last run ended, with when and pg_cron''s message (also one noted while the schedule''s row was held)';

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
		/*
		 * The schedule's row may be held by an open transaction of its
		 * owner: wait a little, not for ever (this job would hold its
		 * pg_cron slot); the ledger has the outcome anyway.
		 */
		BEGIN
			PERFORM pg_catalog.set_config('lock_timeout', '1s', true);
			PERFORM medallion.schedule_write('outcome', s.name, last_run_id => run,
											 last_status => COALESCE(outcome, 'failed'), last_attempts => attempt);
		EXCEPTION WHEN lock_not_available THEN
			RAISE WARNING 'the outcome of schedule % is in medallion.runs only (run %)', s.name, run
				USING DETAIL = 'Its row in medallion.schedules was locked by another transaction.';
		END;
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
