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
										'build_record', 'trim_changes', 'track_partitions',
										'private_copies_follow', 'follow_grants', 'try_run_lock',
										'track_rows', 'trim_lows', 'track_deltas', 'capture_deltas', 'delta_sql', 'delta_state',
										'snapshot_horizon',
										'stage_discard', 'stage_follow') AS internal
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
	/* help is for everyone, newcomers without a grant first */
	GRANT EXECUTE ON FUNCTION @extschema@.medallion_help(pg_catalog.text) TO PUBLIC;
END
$privileges$;
