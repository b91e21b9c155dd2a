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
 * Selectors (#30): the functions that take a selector take an exclude
 * selector too; their 0.2.0 signatures go (the functions section makes
 * the new ones).
 * --------------------------------------------------------------------- */
DROP FUNCTION @extschema@.medallion_run(text, boolean, boolean, text, integer, boolean);
DROP FUNCTION @extschema@.medallion_plan(text, integer);
DROP FUNCTION @extschema@.medallion_test(text);
DROP FUNCTION @extschema@.medallion_graph(text, text);
/* medallion_lineage follows a column too (#30): a parameter and a column more */
DROP FUNCTION @extschema@.medallion_lineage(text, text, integer);

/* ---------------------------------------------------------------------
 * Change capture: a change found before the log rows showing it were
 * trimmed is noted with the build; tables tracked by 0.2.0 get the row
 * trigger (enabled REPLICA) that logs a subscription's writes.
 * --------------------------------------------------------------------- */
ALTER TABLE medallion.build_state ADD COLUMN changed text;
COMMENT ON COLUMN medallion.build_state.changed IS 'An input change found since the build, kept here when the change log rows showing it were trimmed (NULL: none noted)';
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


/* ---------------------------------------------------------------------
 * One schedule per pg_cron job: another admin's schedule written with
 * someone's job id took in that job's failures.
 * --------------------------------------------------------------------- */
ALTER TABLE medallion.schedules ADD CONSTRAINT schedules_jobid_key UNIQUE (jobid);

/*
 * What a model owner's reads found (the largest watermark, the key where an
 * extraction stopped) is shown only to roles acting for that owner: the
 * values come from data other admins may not read.  medallion's own
 * writes and reads run as the extension owner.
 */
ALTER TABLE medallion.model_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_state_owner ON medallion.model_state FOR SELECT TO medallion_admin
	USING (EXISTS (SELECT FROM medallion.models m
					WHERE m.name OPERATOR(pg_catalog.=) model_state.model
					  AND pg_catalog.pg_has_role(m.owner, 'USAGE')));
ALTER TABLE medallion.extract_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY extract_state_owner ON medallion.extract_state FOR SELECT TO medallion_admin
	USING (EXISTS (SELECT FROM medallion.models m
					WHERE m.name OPERATOR(pg_catalog.=) extract_state.model
					  AND pg_catalog.pg_has_role(m.owner, 'USAGE')));

/*
 * Row-level deltas of the tables maintained models read (issue 31,
 * src/changes_deltas.c): a log per table, medallion_delta.d<OID>, made
 * when a model needs it, member of the extension (derived: not dumped).
 * The owners' rows: no grants.
 */
CREATE SCHEMA medallion_delta;
COMMENT ON SCHEMA medallion_delta IS
	'medallion: the rows written to and deleted from the tables maintained models read, one log per table, readable by the extension owner only';

/* ---------------------------------------------------------------------
 * Row capture of incremental models (#26): the snapshot and capture
 * state of each model's last build, and the lowest values written.
 * Models defined before capture read all their rows once at their next
 * build (no stored capture state); defining them again adds the capture
 * triggers.
 * --------------------------------------------------------------------- */
ALTER TABLE medallion.model_state ADD COLUMN snapshot pg_snapshot, ADD COLUMN capture text;
COMMENT ON COLUMN medallion.model_state.watermark IS 'The largest watermark value published so far; for a watermark from a foreign table, the next run reads rows past it (minus the lookback)';
COMMENT ON COLUMN medallion.model_state.snapshot IS 'The snapshot the last build read with: the next one reads again every row written by a transaction it does not see (row capture, medallion.written_lows)';
COMMENT ON COLUMN medallion.model_state.capture IS 'The state of row capture the last build relied on (storage and capture triggers of the watermark''s tables); when it differs, the next build reads all rows again';
CREATE TABLE medallion.written_lows (
	relid		oid NOT NULL,
	xid			xid8 NOT NULL,
	attname		name NOT NULL,
	low			text
);
COMMENT ON TABLE medallion.written_lows IS
	'The lowest value each transaction wrote to a captured column: a row per table, column and transaction (another when a later statement writes lower), appended by the triggers medallion_rows_*; trimmed by runs; readable by the extension owner only';
COMMENT ON COLUMN medallion.written_lows.relid IS 'The table written (the one the statement named, or a partition a subscription wrote)';
COMMENT ON COLUMN medallion.written_lows.xid IS 'The writing transaction (top level)';
COMMENT ON COLUMN medallion.written_lows.attname IS 'The column captured';
COMMENT ON COLUMN medallion.written_lows.low IS 'The lowest value written (ISO 8601 for dates and timestamps), or NULL: a NULL was written';

/* ---------------------------------------------------------------------
 * Messages and observed values may quote what an owner's query read:
 * every admin reads the ledger, but those columns only through
 * medallion.run_messages, for the models whose owners they act for.
 * --------------------------------------------------------------------- */
REVOKE SELECT ON medallion.run_models, medallion.test_results FROM medallion_admin;
GRANT SELECT (run_id, model, step, wave, layer, materialized, status, published, rows, started_at, finished_at, ms, attempt, worker, sqlstate, tests_passed, tests_warned, tests_failed, test_queries) ON medallion.run_models TO medallion_admin;
GRANT SELECT (run_id, model, test, kind, status, blocking, failures, ms) ON medallion.test_results TO medallion_admin;

/*
 * A model's last successful build (a run's start in the ledger, its choice
 * of workers) is one index probe, however many up_to_date steps of
 * change-aware runs came after it.
 */
CREATE INDEX run_models_success ON medallion.run_models (model, run_id) WHERE status = 'success';

/*
 * on_schema_change takes dbt's 'ignore' too; a table rebuilt whole (a table
 * model, a full refresh) takes the query's columns whatever it says.
 */
ALTER TABLE medallion.models DROP CONSTRAINT models_on_schema_change_check;
ALTER TABLE medallion.models ADD CONSTRAINT models_on_schema_change_check
	CHECK (on_schema_change IN ('fail', 'ignore', 'append_new_columns', 'sync_all_columns'));
COMMENT ON COLUMN medallion.models.on_schema_change IS 'What an incremental run does when the query''s columns change: fail, ignore, append_new_columns, sync_all_columns (a table rebuilt whole takes the new columns)';

/*
 * Contracts: the columns a model promises, and the constraints its table
 * enforces; medallion_create_model takes one (a new argument, so the old
 * signature goes; the functions section makes the new one).
 */
ALTER TABLE medallion.models ADD COLUMN contract jsonb;
COMMENT ON COLUMN medallion.models.contract IS 'The columns (names, types) the query must give, and the constraints (not_null, unique, primary_key, check) its published table enforces; NULL: none';
DROP FUNCTION @extschema@.medallion_create_model(text, text, text, text, text[], text, text[], text[], jsonb, text, interval, boolean, text, text, interval, real, text, text, text[], text, text, text, text, boolean);

/*
 * Maintained table models (issue 31): how a table model is brought up to
 * date, medallion_create_model's maintain (a new argument: the signature
 * the functions section made before, with contract, never existed in a
 * released 0.2.0, so nothing else goes).
 */
ALTER TABLE medallion.build_state ADD COLUMN deltas text;
COMMENT ON COLUMN medallion.build_state.deltas IS 'A maintained table model: the state of the delta capture of the table it reads (log, storage, triggers) when it was built; its next build starts from the delta since snapshot only when the state is the same (NULL: rebuilt whole); ending in " | reread" when the build''s transaction had written its tables, so that the next build, which reads those rows again, recomputes their keys and adds nothing twice; then " | tested <digest>" when every test of the model passed after the build, with the digest of its tests, so that the next maintained build tests only the rows it writes while the tests are the same';
ALTER TABLE medallion.models ADD COLUMN maintain text NOT NULL DEFAULT 'auto'
	CONSTRAINT models_maintain_check CHECK (maintain IN ('auto', 'incremental', 'full'));
COMMENT ON COLUMN medallion.models.maintain IS 'Table models: auto (maintained from its inputs'' row deltas when its query allows it, else rebuilt whole), incremental (maintained, or the build fails) or full (always rebuilt whole; no row capture)';

/* ---------------------------------------------------------------------
 * medallion_docs(selector, run_id): the page shows the Gantt chart of
 * any run.  0.2.0's medallion_docs(selector) goes; the functions section
 * makes the new one.
 * --------------------------------------------------------------------- */

DROP FUNCTION @extschema@.medallion_docs(text);
