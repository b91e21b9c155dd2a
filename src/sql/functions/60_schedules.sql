/* ---------------------------------------------------------------------
 * Functions and views of src/sql/install/60_schedules.sql, written once: the
 * Makefile puts this file in the install script and in every update
 * script, after their state changes.
 * --------------------------------------------------------------------- */

/*
 * The one writer of medallion.schedules (the API runs as its caller): C,
 * so that it knows its caller and lets only the owner's roles change a
 * schedule or record its outcome.
 */
CREATE OR REPLACE FUNCTION medallion.schedule_write(op text, name text, selector text DEFAULT NULL,
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
CREATE OR REPLACE FUNCTION medallion.cron_database()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$ SELECT pg_catalog.current_setting('cron.database_name', true) $function$;
COMMENT ON FUNCTION medallion.cron_database() IS
	'The database pg_cron runs its jobs in (cron.database_name, which only superusers can read), or NULL when pg_cron is not loaded; internal';

/*
 * pg_cron must be loaded; in its own database it must be installed (a
 * schedule elsewhere is made there by medallion.cron_job, which says so
 * when it is not).
 */
CREATE OR REPLACE FUNCTION medallion.require_pg_cron()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	cron_db text := medallion.cron_database();
BEGIN
	IF cron_db IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not loaded'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Schedules are pg_cron jobs, and pg_cron is not in shared_preload_libraries.',
				  HINT = 'Add pg_cron to shared_preload_libraries, restart, and CREATE EXTENSION pg_cron in the database named by cron.database_name.';
	END IF;
	IF cron_db = current_database() AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
			USING ERRCODE = 'undefined_object',
				  DETAIL = format('Schedules are pg_cron jobs; pg_cron keeps the jobs of every database in the database named by cron.database_name (%s).',
								  cron_db),
				  HINT = 'CREATE EXTENSION pg_cron in this database.';
	END IF;
END
$function$;
COMMENT ON FUNCTION medallion.require_pg_cron() IS
	'Raise a clear error unless pg_cron is loaded (and installed, in its own database: cron.database_name); internal';

CREATE OR REPLACE FUNCTION medallion.cron_start_failure(OUT failure text, OUT hint text)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'medallion_cron_start_failure';
COMMENT ON FUNCTION medallion.cron_start_failure() IS
	'Why pg_cron could not start a job of the current role in this database (the role may not log in or connect; or, with cron.use_background_workers off, the login its launcher would make fails), and what to change; NULLs when it can; internal to medallion_schedule';

CREATE OR REPLACE FUNCTION medallion.cron_job(op text, jobname text DEFAULT NULL, cron text DEFAULT NULL,
	command text DEFAULT NULL, jobid bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'medallion_cron_job';
COMMENT ON FUNCTION medallion.cron_job(text, text, text, text, bigint) IS
	'In pg_cron''s database, through a background worker connected there as the caller: schedule makes or updates the job jobname running command in this database (cron.schedule_in_database) and returns its id; unschedule removes job jobid of this database; internal to medallion_schedule and medallion_unschedule';

/*
 * Whether pg_cron can connect to this server to run a job: in its default
 * mode its launcher opens a libpq connection to cron.host (default
 * localhost, over TCP) on this server's port.  Returns why it cannot, or
 * NULL.  Reads cron.* settings that only superusers can read; the
 * arguments, when given, replace the settings (to test the rules).
 * pg_hba.conf is not checked: a refused login still shows only in
 * cron.job_run_details.
 */
CREATE OR REPLACE FUNCTION medallion.cron_unreachable(use_background_workers text DEFAULT NULL,
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
 * launcher's transaction: it must never make pg_cron's write fail, and
 * never wait, since the launcher starts every job of every user.  So the
 * schedule's row is locked with SKIP LOCKED (its owner may hold it in an
 * open transaction: medallion_schedule), a held row gets a note in
 * medallion.schedule_job_failures instead, and lock_timeout bounds any
 * other wait (a table lock).
 */
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
				/* any role may LISTEN: pg_cron's message stays in its log and medallion.status */
				'message', format('pg_cron could not run the job of schedule %s', s))::text, 7900));
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

/*
 * Put the trigger on cron.job_run_details (watch), or take it away when
 * no schedule is left (so that DROP EXTENSION needs no CASCADE).  As the
 * extension owner, who must own that table or be a superuser; false when
 * it could not.
 */
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

/*
 * The models of each schedule whose pg_cron job failed after its last
 * run ended (medallion.status shows them).  Runs as the caller, an admin.
 */
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_schedule(name text, selector text, cron text,
	retries integer DEFAULT 0, retry_delay interval DEFAULT '5 minutes', threads integer DEFAULT 1)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	job bigint;
	here boolean;
	unreachable text;
	start_failure text;
	start_hint text;
	command text;
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
	here := medallion.cron_database() = current_database();
	unreachable := medallion.cron_unreachable();
	IF unreachable IS NOT NULL THEN
		RAISE EXCEPTION 'pg_cron cannot connect to this server to run the schedule'
			USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = unreachable,
				  HINT = 'Set cron.use_background_workers = on (jobs then run as background workers), or cron.host to a directory of unix_socket_directories; either needs a restart.';
	END IF;
	/* pg_cron starts each job as a new session of the caller: can it? */
	SELECT f.failure, f.hint INTO start_failure, start_hint FROM medallion.cron_start_failure() f;
	IF start_failure IS NOT NULL THEN
		RAISE EXCEPTION 'pg_cron could not start the job of schedule "%"', name
			USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = start_failure, HINT = start_hint;
	END IF;
	/* the selector must select something that exists */
	PERFORM count(*) FROM @extschema@.medallion_plan(selector);
	PERFORM medallion.schedule_write('upsert', name, selector, cron, retries, retry_delay, NULL,
									 threads => threads);
	/* pg_cron validates the schedule; the job runs as the caller, in this database */
	command := format('CALL %I.medallion_run_scheduled(%L)', '@extschema@', name);
	IF here THEN
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING 'medallion ' || name, cron, command;
	ELSE
		/* pg_cron's job table is in its own database: the last step, it commits there */
		job := medallion.cron_job('schedule', format('medallion %s in %s', name, current_database()), cron, command);
	END IF;
	PERFORM medallion.schedule_write('upsert', name, selector, cron, retries, retry_delay, job,
									 threads => threads);
	/* a job pg_cron cannot run shows in medallion.schedules and medallion.status */
	IF here AND NOT medallion.watch_cron_jobs(true) THEN
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
	here boolean;
BEGIN
	SELECT s.jobid INTO job FROM medallion.schedules s WHERE s.name = medallion_unschedule.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'schedule "%" does not exist', name USING ERRCODE = 'undefined_object',
			HINT = 'Schedules are listed in medallion.schedules.';
	END IF;
	PERFORM medallion.require_pg_cron();
	here := medallion.cron_database() = current_database();
	/* the owner check comes first: it says whose schedule it is */
	PERFORM medallion.schedule_write('delete', name);
	IF NOT here THEN
		IF job IS NOT NULL THEN
			PERFORM medallion.cron_job('unschedule', jobid => job);
		END IF;
		RETURN;
	END IF;
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
	verbosity text := pg_catalog.current_setting('client_min_messages');
BEGIN
	/*
	 * A job's log is its warnings and errors: not the progress of every
	 * step (pg_cron logs each notice its job sends)
	 */
	IF verbosity OPERATOR(pg_catalog.=) ANY (ARRAY['debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'log', 'notice', 'info']) THEN
		PERFORM pg_catalog.set_config('client_min_messages', 'warning', false);
	END IF;
	SELECT * INTO s FROM medallion.schedules AS x WHERE x.name OPERATOR(pg_catalog.=) medallion_run_scheduled.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'schedule "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	LOOP
		attempt := attempt OPERATOR(pg_catalog.+) 1;
		PERFORM pg_catalog.set_config('medallion.run_label',
									  pg_catalog.format('schedule %s, attempt %s of %s', s.name, attempt,
														s.retries OPERATOR(pg_catalog.+) 1), false);
		/* not a transaction block: the exception block below may run other owners' models */
		PERFORM medallion.note_outside_block();
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
		EXCEPTION WHEN insufficient_privilege OR undefined_table OR invalid_schema_name THEN
			NULL;				/* another pg_cron, or pg_cron's database is another: its log is its own */
		END;
	END IF;
	PERFORM pg_catalog.set_config('client_min_messages', verbosity, false);
END
$procedure$;
COMMENT ON PROCEDURE @extschema@.medallion_run_scheduled(text) IS
	'What a schedule''s pg_cron job calls: runs the selector, and again after retry_delay while it fails, up to retries more times; each attempt is a run in the ledger';

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
	   /* an error's message may quote the owner's data (medallion.run_messages) */
	   CASE WHEN last.sqlstate IS NULL
				 OR pg_catalog."left"(last.sqlstate, 2) OPERATOR(pg_catalog.<>) ALL
					(ARRAY['22', '23', '2F', '38', '39', '44', 'HV', 'P0', 'XX'])
				 OR pg_catalog.pg_has_role(m.owner, 'USAGE')
			THEN last.message END AS last_message,
	   sf.failure AS schedule_failure
  FROM medallion.models m
  JOIN medallion.layers l ON l.name = m.layer
  LEFT JOIN LATERAL (SELECT rm.finished_at, rm.rows FROM medallion.run_models rm
					  WHERE rm.model = m.name AND rm.status IN ('success', 'up_to_date') AND rm.published
					  ORDER BY rm.run_id DESC LIMIT 1) ok ON true
  LEFT JOIN LATERAL (SELECT rm.status, rm.run_id, rm.sqlstate, rm.message FROM medallion.run_models rm
					  WHERE rm.model = m.name
					  ORDER BY rm.run_id DESC LIMIT 1) last ON true
  LEFT JOIN LATERAL (SELECT pg_catalog.string_agg(pg_catalog.format('pg_cron could not run the job of schedule %s at %s: %s',
																	f.schedule, f.failed_at, f.message), '; '
												  ORDER BY f.schedule) AS failure
					   FROM failing f WHERE f.model = m.name) sf ON true;
COMMENT ON VIEW medallion.status IS
	'Each model''s last successful (published) build, its age, the status of its last run step, and a failed pg_cron job of a schedule that builds it (after that schedule''s last run)';
GRANT SELECT ON medallion.status TO medallion_admin;

CREATE OR REPLACE FUNCTION medallion.cron_next(cron text, after timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'medallion_cron_next'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION medallion.cron_next(text, timestamptz) IS
	'The first time after "after" that a pg_cron schedule (five fields or an @macro, in GMT) fires, or NULL when the expression is not understood';
