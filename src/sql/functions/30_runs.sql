/* ---------------------------------------------------------------------
 * Functions and views of src/sql/install/30_runs.sql, written once: the
 * Makefile puts this file in the install script and in every update
 * script, after their state changes.
 * --------------------------------------------------------------------- */

/*
 * The ledger keeps medallion.ledger_retention of history: older runs go,
 * with their steps and test results (ON DELETE CASCADE), at each run's
 * start (ledger_apply) or on demand (medallion_trim_ledger).  Runs still
 * marked running stay until they are marked crashed.
 */
CREATE OR REPLACE FUNCTION medallion.trim_ledger(keep interval)
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

CREATE OR REPLACE FUNCTION @extschema@.medallion_trim_ledger(older_than interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'medallion_trim_ledger'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_trim_ledger(interval) IS
	'Delete the runs older than older_than (default: medallion.ledger_retention; shorter only for superusers) with their steps and test results; returns how many runs';

/* Is run run_id over?  Takes its lock to the end of the transaction if so (src/catalog.c). */
CREATE OR REPLACE FUNCTION medallion.try_run_lock(run_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_try_run_lock'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION medallion.try_run_lock(bigint) IS
	'Take the lock a run in progress holds (one SQL''s advisory lock functions cannot take), to the end of the transaction: true when that run is over; internal';

/*
 * What medallion_build holds for nothing: candidates that build workers
 * committed for runs no longer running (crashed, cancelled, failed to
 * publish; a run holds the lock medallion.try_run_lock tries to the end of
 * its transaction, even when its own start is not committed yet), staging
 * tables no extraction points at (a restore brings them back alone), and
 * the tables committed runs discarded (d_<OID>: dropped here rather than in
 * the run, so that their files are not unlinked while the run's published
 * tables are locked).  One that cannot be dropped now is left for the next start.
 * Called by ledger_apply when a run starts.
 */
CREATE OR REPLACE FUNCTION medallion.drop_leftovers()
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
					THEN medallion.try_run_lock(pg_catalog.substring(c.relname, '^r([0-9]+)_')::bigint)
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
							   jsonb_build_object('run_id', run_id, 'status', status)::text))
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

		/*
		 * alerts: sent when this entry commits (with the run, or in the
		 * worker's transaction when the run raises).  Any role may LISTEN,
		 * so a payload names what failed and its SQLSTATE, never a message
		 * (an error's text can quote the data): the ledger, which admins
		 * read, has the messages.
		 */
		PERFORM pg_notify('medallion_alerts', left(a.payload::text, 7900))
		   FROM (SELECT jsonb_build_object('run_id', (entry->>'run_id')::bigint, 'model', st->>'model',
										   'status', st->>'status', 'sqlstate', st->>'sqlstate') AS payload
				   FROM jsonb_array_elements(entry->'steps') AS st
				  WHERE st->>'status' IN ('failed', 'cancelled')
				 UNION ALL
				 SELECT jsonb_build_object('run_id', (entry->>'run_id')::bigint, 'model', t->>'model',
										   'test', t->>'test', 'status', t->>'status',
										   'failures', (t->>'failures')::bigint)
				   FROM jsonb_array_elements(coalesce(entry->'tests', '[]')) AS t
				  WHERE t->>'status' IN ('warn', 'fail', 'error')
				 UNION ALL
				 SELECT jsonb_build_object('run_id', (entry->>'run_id')::bigint, 'status', entry->>'status')
				  WHERE entry->>'status' IN ('failed', 'cancelled') AND entry->>'message' IS NOT NULL) AS a;

	ELSE
		RAISE EXCEPTION 'unknown ledger operation "%"', entry->>'op'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$function$;
COMMENT ON FUNCTION medallion.ledger_apply(jsonb) IS
	'Write one run ledger entry (start or finish of a run, or tidy: mark runs whose backend is gone as crashed and those whose transaction rolled back as cancelled, trim, drop leftovers; a finish sends alerts); internal';

CREATE OR REPLACE FUNCTION @extschema@.medallion_run(
	selector text DEFAULT 'all',
	full_refresh boolean DEFAULT false,
	strict boolean DEFAULT false,
	on_conflict text DEFAULT 'wait',
	threads integer DEFAULT 1,
	changed_only boolean DEFAULT NULL,
	exclude text DEFAULT NULL,
	OUT model text, OUT layer text, OUT materialized text, OUT status text,
	OUT rows bigint, OUT ms numeric, OUT tests_passed integer, OUT tests_warned integer,
	OUT tests_failed integer, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_run'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_run(text, boolean, boolean, text, integer, boolean, text) IS
	'Build the selected models (less those exclude selects) into candidates no one else can see (independent table models in up to threads background workers), then publish every success in one commit; with changed_only (NULL: medallion.changed_only, on by default), a model whose definition and inputs did not change since its last build is not built again; returns a row per model';

CREATE OR REPLACE FUNCTION @extschema@.medallion_rollback(model text)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_rollback'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_rollback(text) IS
	'Swap a table model''s previous content back in (running it again swaps forward); returns a summary';

/*
 * note_outside_block: a caller outside a transaction block (a procedure
 * such as medallion_run_scheduled) says so before an exception block
 * around medallion_run, which is then not refused other owners' models as
 * if a transaction were left open (its session still ends 2 s after such
 * a run if its transaction goes on).
 */
CREATE OR REPLACE FUNCTION medallion.note_outside_block()
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_note_outside_block'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.note_outside_block() IS
	'Whether the caller is outside a transaction block; if so, exception blocks of its transaction may run other owners'' models';

/*
 * The messages of the ledger a role may read: a step's message when
 * medallion wrote it (no SQLSTATE: skipped, up to date, why it built), when
 * its SQLSTATE's class cannot quote values (see RunVisibleText in
 * run_state.c for the list) or when the role acts for the model's owner; a test's message and observed
 * value when it acts for the owner.  The tables' message and observed
 * columns are not granted to admins (they may quote the owner's data).
 */
CREATE OR REPLACE VIEW medallion.run_messages WITH (security_barrier) AS
SELECT rm.run_id, rm.model, NULL::text AS test, rm.status, rm.sqlstate, rm.message,
	   NULL::text AS observed
  FROM medallion.run_models rm
  LEFT JOIN medallion.models m ON m.name OPERATOR(pg_catalog.=) rm.model
 WHERE rm.message IS NOT NULL
   AND (rm.sqlstate IS NULL
		OR pg_catalog."left"(rm.sqlstate, 2) OPERATOR(pg_catalog.<>) ALL
		   (ARRAY['22', '23', '2F', '38', '39', '44', 'HV', 'P0', 'XX'])
		OR pg_catalog.pg_has_role(m.owner, 'USAGE'))
UNION ALL
SELECT tr.run_id, tr.model, tr.test, tr.status, NULL, tr.message, tr.observed
  FROM medallion.test_results tr
  LEFT JOIN medallion.models m ON m.name OPERATOR(pg_catalog.=) tr.model
 WHERE (tr.message IS NOT NULL OR tr.observed IS NOT NULL)
   AND pg_catalog.pg_has_role(m.owner, 'USAGE');
COMMENT ON VIEW medallion.run_messages IS
	'The messages of run steps and tests (and tests'' observed values) that the current role may read: medallion''s own, and those of models whose owners it acts for';
GRANT SELECT ON medallion.run_messages TO medallion_admin;
