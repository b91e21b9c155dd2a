/* ---------------------------------------------------------------------
 * Runs
 * --------------------------------------------------------------------- */

/*
 * The run ledger.  A run's start is written by a short-lived background
 * worker in a transaction of its own, so that a crash leaves a row; its
 * finish too when it failed, is cancelled or raises (strict => true), so
 * that it is recorded whatever its transaction does.  A run with nothing
 * to report records its finish in its caller's transaction, which also
 * publishes it.  See run_ledger.c.
 */
CREATE TABLE medallion.runs (
	run_id		bigserial PRIMARY KEY,
	selector	text NOT NULL,
	options		jsonb NOT NULL DEFAULT '{}',
	started_by	name NOT NULL,
	backend_pid	integer,
	started_at	timestamptz NOT NULL,
	finished_at	timestamptz,
	status		text NOT NULL DEFAULT 'running'
				CHECK (status IN ('running', 'success', 'partial', 'failed', 'cancelled', 'crashed', 'skipped')),
	models		integer NOT NULL DEFAULT 0,
	succeeded	integer NOT NULL DEFAULT 0,
	failed		integer NOT NULL DEFAULT 0,
	skipped		integer NOT NULL DEFAULT 0,
	published	integer NOT NULL DEFAULT 0,
	message		text,
	xact		xid8
);
COMMENT ON TABLE medallion.runs IS 'One row per medallion_run call: what was asked, by whom, and how it ended';
COMMENT ON COLUMN medallion.runs.run_id IS 'Run number';
COMMENT ON COLUMN medallion.runs.selector IS 'The selector the run was given';
COMMENT ON COLUMN medallion.runs.options IS 'The other arguments of medallion_run';
COMMENT ON COLUMN medallion.runs.started_by IS 'Role that called medallion_run';
COMMENT ON COLUMN medallion.runs.backend_pid IS 'Process that ran it';
COMMENT ON COLUMN medallion.runs.started_at IS 'Start of the run';
COMMENT ON COLUMN medallion.runs.finished_at IS 'End of the run (NULL while running)';
COMMENT ON COLUMN medallion.runs.status IS 'running, success, partial (some models failed or were skipped), failed, cancelled, crashed, or skipped (another run held every model, on_conflict => skip)';
COMMENT ON COLUMN medallion.runs.models IS 'Number of models the run selected';
COMMENT ON COLUMN medallion.runs.succeeded IS 'Models built';
COMMENT ON COLUMN medallion.runs.failed IS 'Models that failed';
COMMENT ON COLUMN medallion.runs.skipped IS 'Models skipped (upstream failed, or another run held them)';
COMMENT ON COLUMN medallion.runs.published IS 'Models published by the run';
COMMENT ON COLUMN medallion.runs.xact IS 'The transaction that called medallion_run: a run still marked running whose transaction ended did not publish (its caller rolled back)';
COMMENT ON COLUMN medallion.runs.message IS 'Why the run failed or was cancelled';

CREATE TABLE medallion.run_models (
	run_id		bigint NOT NULL REFERENCES medallion.runs ON DELETE CASCADE,
	model		text NOT NULL,
	step		integer NOT NULL,
	wave		integer NOT NULL,
	layer		text NOT NULL,
	materialized text NOT NULL,
	status		text NOT NULL
				CHECK (status IN ('success', 'up_to_date', 'failed', 'skipped', 'cancelled')),
	published	boolean NOT NULL DEFAULT false,
	rows		bigint,
	started_at	timestamptz,
	finished_at	timestamptz,
	ms			numeric,
	attempt		integer NOT NULL DEFAULT 1,
	worker		boolean NOT NULL DEFAULT false,
	sqlstate	text,
	message		text,
	tests_passed integer NOT NULL DEFAULT 0,
	tests_warned integer NOT NULL DEFAULT 0,
	tests_failed integer NOT NULL DEFAULT 0,
	test_queries integer NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, model)
);
COMMENT ON TABLE medallion.run_models IS 'One row per model step of a run';
COMMENT ON COLUMN medallion.run_models.run_id IS 'The run';
COMMENT ON COLUMN medallion.run_models.model IS 'The model';
COMMENT ON COLUMN medallion.run_models.step IS 'Position of the step in the run';
COMMENT ON COLUMN medallion.run_models.wave IS 'Wave of the step (steps of one wave are independent)';
COMMENT ON COLUMN medallion.run_models.layer IS 'Layer of the model at the time';
COMMENT ON COLUMN medallion.run_models.materialized IS 'Materialization of the model at the time';
COMMENT ON COLUMN medallion.run_models.status IS 'success, up_to_date (an incremental model with no new rows), failed, skipped or cancelled';
COMMENT ON COLUMN medallion.run_models.published IS 'Whether the run published what this step built';
COMMENT ON COLUMN medallion.run_models.rows IS 'Rows built (table models)';
COMMENT ON COLUMN medallion.run_models.started_at IS 'Start of the step';
COMMENT ON COLUMN medallion.run_models.finished_at IS 'End of the step';
COMMENT ON COLUMN medallion.run_models.ms IS 'Duration of the build in milliseconds';
COMMENT ON COLUMN medallion.run_models.attempt IS 'Attempt number (retries)';
COMMENT ON COLUMN medallion.run_models.worker IS 'Whether a background worker built the candidate (threads > 1); the run tested and published it';
COMMENT ON COLUMN medallion.run_models.sqlstate IS 'SQLSTATE of the error, when the step failed';
COMMENT ON COLUMN medallion.run_models.message IS 'Error message, or why the step was skipped';
COMMENT ON COLUMN medallion.run_models.tests_passed IS 'Tests of the model that passed';
COMMENT ON COLUMN medallion.run_models.tests_warned IS 'Tests of the model that warned';
COMMENT ON COLUMN medallion.run_models.tests_failed IS 'Tests of the model that failed or errored';
COMMENT ON COLUMN medallion.run_models.test_queries IS 'Queries issued to run the model''s tests (column tests share one)';
CREATE INDEX ON medallion.run_models (model, run_id);
/* a model's last successful build (a run's start in the ledger, its choice
   of workers): one probe however many up_to_date steps came after it */
CREATE INDEX run_models_success ON medallion.run_models (model, run_id) WHERE status = 'success';
/* what each run start reads: runs still marked running, old runs to trim;
   and a session's newest run (medallion_run_scheduled) */
CREATE INDEX runs_running ON medallion.runs (run_id) WHERE status = 'running';
CREATE INDEX runs_started_at ON medallion.runs (started_at);
CREATE INDEX runs_backend ON medallion.runs (backend_pid, run_id);

GRANT SELECT ON medallion.runs TO medallion_admin;
/* a step's message may quote what the owner's query read: medallion.run_messages */
GRANT SELECT (run_id, model, step, wave, layer, materialized, status, published, rows, started_at, finished_at, ms, attempt, worker, sqlstate, tests_passed, tests_warned, tests_failed, test_queries) ON medallion.run_models TO medallion_admin;

/* medallion.status, the last build of each model at a glance, is made with the schedules (60). */

/* Previous versions of table models, kept for medallion_rollback. */
CREATE SCHEMA medallion_history;
COMMENT ON SCHEMA medallion_history IS
	'medallion: the previous content of each table model, swapped back by medallion_rollback';
GRANT USAGE ON SCHEMA medallion_history TO medallion_admin;

/*
 * Candidates that build workers commit (medallion_run threads => n), named
 * r<run>_<published table OID>.  USAGE lets model owners read the ones
 * they are granted (only the run's model owners are); ledger_apply drops
 * what a run that did not finish left here.
 */
CREATE SCHEMA medallion_build;
COMMENT ON SCHEMA medallion_build IS
	'medallion: candidates built by background workers of runs in progress, readable by the run''s model owners only';
GRANT USAGE ON SCHEMA medallion_build TO PUBLIC;
