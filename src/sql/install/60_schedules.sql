/* ---------------------------------------------------------------------
 * Schedules (pg_cron)
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.schedules (
	name		text PRIMARY KEY
				CHECK (name ~ '^[a-z_][a-z0-9_]*$' AND pg_catalog.length(name) <= 63),
	selector	text NOT NULL,
	cron		text NOT NULL,
	retries		integer NOT NULL DEFAULT 0 CHECK (retries BETWEEN 0 AND 100),
	retry_delay	interval NOT NULL DEFAULT '5 minutes' CHECK (retry_delay >= '0'),
	threads		integer NOT NULL DEFAULT 1 CHECK (threads >= 1),
	jobid		bigint,
	owner		name NOT NULL,
	last_run_id	bigint,
	last_status	text,
	last_attempts integer,
	last_finished_at timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	last_started_at timestamptz,
	last_job_failed_at timestamptz,
	last_job_message text
);
COMMENT ON TABLE medallion.schedules IS 'Scheduled runs: a pg_cron job each, with retries';
COMMENT ON COLUMN medallion.schedules.name IS 'Schedule name (the pg_cron job is named "medallion <name>")';
COMMENT ON COLUMN medallion.schedules.selector IS 'What the scheduled run builds';
COMMENT ON COLUMN medallion.schedules.cron IS 'When, in cron syntax (pg_cron: minutes, GMT)';
COMMENT ON COLUMN medallion.schedules.retries IS 'How many times a failed run is tried again';
COMMENT ON COLUMN medallion.schedules.retry_delay IS 'The wait before each new try';
COMMENT ON COLUMN medallion.schedules.threads IS 'Models the scheduled run builds at once (medallion_run threads)';
COMMENT ON COLUMN medallion.schedules.jobid IS 'The pg_cron job (cron.job.jobid)';
/* one schedule per job: pg_cron's failures are told to the schedule of their job */
ALTER TABLE medallion.schedules ADD CONSTRAINT schedules_jobid_key UNIQUE (jobid);
COMMENT ON COLUMN medallion.schedules.owner IS 'Role the job runs as';
COMMENT ON COLUMN medallion.schedules.last_run_id IS 'The last run of the schedule (its last attempt)';
COMMENT ON COLUMN medallion.schedules.last_status IS 'How it ended: success, or the status of its last attempt';
COMMENT ON COLUMN medallion.schedules.last_attempts IS 'Attempts the last scheduled run took';
COMMENT ON COLUMN medallion.schedules.last_finished_at IS 'When the last scheduled run ended (its last attempt''s run, as in medallion.runs)';
COMMENT ON COLUMN medallion.schedules.last_started_at IS 'When the last scheduled run started (its first attempt''s run, as in medallion.runs)';
COMMENT ON COLUMN medallion.schedules.created_at IS 'When the schedule was made';
COMMENT ON COLUMN medallion.schedules.last_job_failed_at IS 'When pg_cron last failed to run the schedule''s job (it could not connect, or the job raised), from cron.job_run_details';
COMMENT ON COLUMN medallion.schedules.last_job_message IS 'pg_cron''s message for that failure (connection failed, or the error)';
GRANT SELECT ON medallion.schedules TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.schedules', '');

/*
 * Failures of pg_cron jobs that medallion.cron_job_failed could not write
 * into medallion.schedules at once: pg_cron's launcher fires it, and must
 * never wait for a schedule's row that its owner holds in an open
 * transaction (every job of every user would wait too).  The next failure
 * recorded on the row takes them in; medallion.schedule_failures reads
 * both.  Not dumped: cron.job_run_details keeps them too.
 */
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
