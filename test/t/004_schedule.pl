# Schedules are pg_cron jobs: medallion_schedule creates or updates one with
# the right schedule and command, a failing scheduled run is tried again up
# to "retries" times (each attempt in the ledger), medallion_unschedule
# removes it, and without pg_cron the error says what to do.  pg_cron lives
# in database "postgres" (cron.database_name in test/run); minute-level
# timing is not waited for: the tests call the job's command directly.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

psql('postgres', 'CREATE EXTENSION medallion');
psql('postgres', 'CREATE TABLE public.sched_src (id int, v int); INSERT INTO public.sched_src VALUES (1, 0), (2, 1)');
psql('postgres', "SELECT medallion_create_model('sched_m', 'SELECT id, 10 / v AS x FROM public.sched_src', layer => 'silver')");

my $job = psql('postgres', "SELECT medallion_schedule('nightly', 'sched_m', '0 1 * * *', retries => 2, retry_delay => '0')");
like($job, qr/^\d+$/, 'medallion_schedule returns the pg_cron job id');
is(psql('postgres', "SELECT jobname || ' | ' || schedule || ' | ' || command || ' | ' || username FROM cron.job WHERE jobid = $job"),
   "medallion nightly | 0 1 * * * | CALL public.medallion_run_scheduled('nightly') | postgres",
   'the pg_cron job has the schedule, the command and the caller as its user');
is(psql('postgres', "SELECT selector || ' ' || retries || ' ' || jobid FROM medallion.schedules WHERE name = 'nightly'"),
   "sched_m 2 $job", 'medallion.schedules lists it with its job id');

# calling it again updates the same job
is(psql('postgres', "SELECT medallion_schedule('nightly', 'sched_m', '30 2 * * *', retries => 2, retry_delay => '0', threads => 2)"),
   $job, 'rescheduling keeps the job');
is(psql('postgres', "SELECT threads FROM medallion.schedules WHERE name = 'nightly'"), '2', 'and stores its threads');
is(psql('postgres', "SELECT schedule FROM cron.job WHERE jobid = $job"), '30 2 * * *', 'with the new schedule');

# the job's command: the model fails, so 1 + 2 attempts, each a run in the ledger
psql('postgres', "CALL public.medallion_run_scheduled('nightly')");
is(psql('postgres', "SELECT count(*) FROM medallion.runs WHERE options->>'label' LIKE 'schedule nightly, attempt %'"),
   '3', 'a failing scheduled run is tried 1 + retries times');
is(psql('postgres', "SELECT string_agg(options->>'label' || ': ' || status, '; ' ORDER BY run_id) FROM medallion.runs"),
   'schedule nightly, attempt 1 of 3: failed; schedule nightly, attempt 2 of 3: failed; schedule nightly, attempt 3 of 3: failed',
   'every attempt is in the ledger, labelled')
	or diag(psql('postgres', "SELECT string_agg(status, ',') FROM medallion.runs"));
is(psql('postgres', "SELECT last_status || ' after ' || last_attempts FROM medallion.schedules WHERE name = 'nightly'"),
   'failed after 3', 'the schedule shows its last outcome');

# fixed data: one attempt
psql('postgres', 'UPDATE public.sched_src SET v = 5');
psql('postgres', "CALL public.medallion_run_scheduled('nightly')");
is(psql('postgres', "SELECT last_status || ' after ' || last_attempts FROM medallion.schedules WHERE name = 'nightly'"),
   'success after 1', 'a succeeding scheduled run is tried once');
is(psql('postgres', 'SELECT count(*) FROM silver.sched_m'), '2', 'and publishes');
is(psql('postgres', "SELECT s.last_started_at = r.started_at AND s.last_finished_at = r.finished_at
					 FROM medallion.schedules s JOIN medallion.runs r ON r.run_id = s.last_run_id WHERE s.name = 'nightly'"),
   't', 'its times are those of its run, not of the job\'s transaction');

# pg_cron's log of the job keeps the ledger's retention
psql('postgres', "INSERT INTO cron.job_run_details (jobid, database, username, command, status, start_time, end_time)
				  SELECT jobid, database, username, command, 'succeeded', now() - d, now() - d
					FROM cron.job, (VALUES (interval '40 days'), (interval '1 day')) AS v (d)
				   WHERE jobname = 'medallion nightly'");
{
	# (its model builds in milliseconds: given to a worker anyway; and
	# built though it is up to date)
	local $ENV{PGOPTIONS} = '-c medallion.worker_min_ms=0 -c medallion.changed_only=off';
	psql('postgres', "CALL public.medallion_run_scheduled('nightly')");
}
is(psql('postgres', "SELECT string_agg(extract(day FROM now() - end_time)::text, ',') FROM cron.job_run_details
					 WHERE jobid = (SELECT jobid FROM medallion.schedules WHERE name = 'nightly')"),
   '1', 'a scheduled run deletes its job\'s pg_cron log rows older than medallion.ledger_retention');
is(psql('postgres', "SELECT r.options->>'threads' || ' ' || m.worker FROM medallion.runs r JOIN medallion.run_models m USING (run_id)
					 ORDER BY run_id DESC LIMIT 1"), '2 true', 'with the schedule\'s threads, in a build worker');

# a job pg_cron cannot run: its launcher cannot connect (here: the job's
# role may not log in) and writes "connection failed" into
# cron.job_run_details.  The schedule, medallion.status and an alert say
# so.  This one is real: a schedule due every minute (up to a minute's wait).
psql('postgres', 'CREATE ROLE tap_cron_nologin NOLOGIN');
my $every = psql('postgres', "SELECT medallion_schedule('every_minute', 'sched_m', '* * * * *')");
is(psql('postgres', "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'cron.job_run_details'::regclass AND tgname = 'medallion_job_failed'"),
   '1', 'scheduling watches pg_cron\'s log of its jobs');
psql('postgres', "UPDATE cron.job SET username = 'tap_cron_nologin' WHERE jobid = $every");
my $waited = psql('postgres', [ 'LISTEN medallion_alerts', "DO \$\$ BEGIN
	FOR i IN 1 .. 150 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM medallion.schedules WHERE name = 'every_minute' AND last_job_failed_at IS NOT NULL);
		PERFORM pg_sleep(0.5);
	END LOOP; END \$\$", 'SELECT 1' ], on_error_stop => 0, ok => \my $listened);
is(psql('postgres', "SELECT status || ': ' || return_message FROM cron.job_run_details WHERE jobid = $every ORDER BY runid DESC LIMIT 1"),
   'failed: connection failed', 'pg_cron could not connect for the job');
is(psql('postgres', "SELECT last_job_message FROM medallion.schedules WHERE name = 'every_minute' AND last_job_failed_at IS NOT NULL"),
   'connection failed', 'the schedule records the failed job');
like(psql('postgres', "SELECT schedule_failure FROM medallion.status WHERE model = 'sched_m'"),
	 qr/^pg_cron could not run the job of schedule every_minute at .*: connection failed$/,
	 'medallion.status shows it on the schedule\'s models');
like($waited, qr/Asynchronous notification "medallion_alerts" with payload "\{.*"status": "job failed".*"schedule": "every_minute"/,
	 'and it is alerted on medallion_alerts');
# pg_cron's launcher records that failure through medallion's trigger, in
# its own transaction: it must not wait for the schedule's row, which its
# owner can hold in an open transaction (medallion_schedule or, as here,
# the outcome writer), or no job of any user would start.  While the row
# is held, the job fails again, and another job due the minute after still
# runs; the failure is noted beside the row.
my $other = psql('postgres', "SELECT cron.schedule('tap other job', '* * * * *', 'SELECT 1')");
my $holder = psql_start('postgres',
						"BEGIN; SELECT medallion.schedule_write('outcome', 'every_minute', last_status => 'held'); SELECT pg_sleep(600)",
						merged => \my $held_out, env => { PGAPPNAME => 'tap_holder' });
psql('postgres', "DO \$\$ BEGIN
	FOR i IN 1 .. 100 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'tap_holder' AND wait_event = 'PgSleep');
		PERFORM pg_sleep(0.1);
	END LOOP; END \$\$");
my $held_from = psql('postgres', 'SELECT now()');
my $runs_before = psql('postgres', 'SELECT coalesce(max(runid), 0) FROM cron.job_run_details');
psql('postgres', "DO \$\$ BEGIN
	FOR i IN 1 .. 400 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM cron.job_run_details f, cron.job_run_details o
						   WHERE f.jobid = $every AND f.status = 'failed' AND f.runid > $runs_before
							 AND o.jobid = $other AND o.status = 'succeeded'
							 AND o.start_time >= date_trunc('minute', '$held_from'::timestamptz) + interval '2 minutes');
		PERFORM pg_sleep(0.5);
	END LOOP; END \$\$");
is(psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tap_holder' AND wait_event = 'PgSleep'"),
   '1', 'the schedule\'s row is still held');
is(psql('postgres', "SELECT count(*) > 0 FROM cron.job_run_details f, cron.job_run_details o
					 WHERE f.jobid = $every AND f.status = 'failed' AND f.runid > $runs_before
					   AND o.jobid = $other AND o.status = 'succeeded'
					   AND o.start_time >= date_trunc('minute', '$held_from'::timestamptz) + interval '2 minutes'"),
   't', 'a job failing while its schedule\'s row is held does not stop pg_cron: another job runs after it')
	or diag(psql('postgres', "SELECT string_agg(concat_ws(' ', runid, jobid, status, start_time, end_time), '; ' ORDER BY runid) FROM cron.job_run_details"));
is(psql('postgres', "SELECT count(*) > 0 AND bool_and(message = 'connection failed') FROM medallion.schedule_job_failures
					 WHERE jobid = $every AND failed_at >= '$held_from'"),
   't', 'the failure is noted beside the held row');
is(psql('postgres', "SELECT failed_at >= '$held_from' FROM medallion.schedule_failures() WHERE schedule = 'every_minute'"),
   't', 'and medallion.status shows that newest failure');
psql('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tap_holder'");
$holder->finish;
psql('postgres', "SELECT cron.unschedule($other)");
psql('postgres', "SELECT medallion_unschedule('every_minute')");
is(psql('postgres', "SELECT count(*) FROM medallion.status WHERE schedule_failure IS NOT NULL"), '0',
   'unscheduled, it is no longer shown');
psql('postgres', 'DROP ROLE tap_cron_nologin');

# bad input
my $out = psql('postgres', "SELECT medallion_schedule('weekly', 'sched_m', 'every tuesday')", ok => \my $ok);
ok(!$ok, 'an invalid cron schedule is refused');
like($out, qr/invalid schedule/, 'by pg_cron, saying so');
$out = psql('postgres', "SELECT medallion_schedule('weekly', 'nosuch', '0 1 * * 1')", ok => \$ok);
like($out, qr/selector "nosuch" names no model or layer/, 'an unknown selector is refused');
$out = psql('postgres', "SELECT medallion_schedule('weekly', 'sched_m', '0 1 * * 1', threads => 0)", ok => \$ok);
like($out, qr/threads must be at least 1/, 'threads below 1 are refused');
is(psql('postgres', "SELECT count(*) FROM medallion.schedules WHERE name = 'weekly'"), '0', 'and nothing was stored');

# can pg_cron connect here?  This cluster listens on localhost: yes.  The
# rules, with the settings given as arguments:
is(psql('postgres', "SELECT coalesce(medallion.cron_unreachable(), 'reachable')"), 'reachable',
   'pg_cron reaches this cluster over TCP on localhost');
is(psql('postgres', "SELECT medallion.cron_unreachable('off', 'localhost', '', '/tmp')"),
   'cron.host is localhost, reached over TCP, but the server does not listen on TCP (listen_addresses is empty).',
   'a socket-only server with the default cron.host is unreachable, and says why');
is(psql('postgres', "SELECT coalesce(medallion.cron_unreachable('on', 'localhost', '', '/tmp'), 'reachable')"), 'reachable',
   'background worker jobs need no connection');
is(psql('postgres', "SELECT coalesce(medallion.cron_unreachable('off', '/tmp', '', '/var/run/postgresql, /tmp'), 'reachable')"),
   'reachable', 'cron.host may be one of the socket directories');
like(psql('postgres', "SELECT medallion.cron_unreachable('off', '/srv/pg', '', '/tmp')"),
	 qr/socket directory \/srv\/pg, which is not one of unix_socket_directories/, 'but not another directory');

# unschedule
psql('postgres', "SELECT medallion_unschedule('nightly')");
is(psql('postgres', "SELECT count(*) FROM cron.job WHERE jobid = $job"), '0', 'medallion_unschedule removes the pg_cron job');
is(psql('postgres', 'SELECT count(*) FROM medallion.schedules'), '0', 'and the schedule');

# an admin who is not a superuser (who may log in: pg_cron starts her jobs
# as her sessions) schedules too (pg_cron's database is read
# for it), and owns the schedule: another admin cannot record its outcome
# or remove it
psql('postgres', "DROP ROLE IF EXISTS tap_sched_alice; DROP ROLE IF EXISTS tap_sched_bob;
				  CREATE ROLE tap_sched_alice LOGIN IN ROLE medallion_admin; CREATE ROLE tap_sched_bob LOGIN IN ROLE medallion_admin;
				  GRANT USAGE ON SCHEMA cron TO tap_sched_alice, tap_sched_bob;
				  GRANT SELECT ON public.sched_src TO tap_sched_alice");
psql('postgres', "SET ROLE tap_sched_alice; SELECT medallion_create_model('sched_alice', 'SELECT id FROM public.sched_src', layer => 'silver')");
my $alice_job = psql('postgres', "SET ROLE tap_sched_alice; SELECT medallion_schedule('alice_daily', 'sched_alice', '0 3 * * *')");
like($alice_job, qr/^\d+$/, 'an admin who is not a superuser can schedule');
is(psql('postgres', "SELECT owner || ' ' || (SELECT username FROM cron.job WHERE jobid = $alice_job) FROM medallion.schedules WHERE name = 'alice_daily'"),
   'tap_sched_alice tap_sched_alice', 'the schedule and its job are hers');
$out = psql('postgres', "SET ROLE tap_sched_bob; SELECT medallion_unschedule('alice_daily')", ok => \$ok);
like($out, qr/must be owner of schedule "alice_daily"/, 'another admin cannot unschedule it');
$out = psql('postgres', "SET ROLE tap_sched_bob; SELECT medallion.schedule_write('outcome', 'alice_daily', last_status => 'success')", ok => \$ok);
like($out, qr/must be owner of schedule "alice_daily"/, 'nor write its outcome');
# a procedure that commits: its own psql command, after SET ROLE
psql('postgres', [ 'SET ROLE tap_sched_alice', "CALL public.medallion_run_scheduled('alice_daily')" ]);
is(psql('postgres', "SELECT last_status FROM medallion.schedules WHERE name = 'alice_daily'"), 'success',
   'her scheduled run records its outcome');
# another admin's schedule of her model runs it: pg_cron calls the procedure
# outside any transaction block (its exception block around the run is not one)
psql('postgres', "SET ROLE tap_sched_bob; SELECT medallion_schedule('bob_runs_alice', 'sched_alice', '0 4 * * *')");
psql('postgres', [ 'SET ROLE tap_sched_bob', "CALL public.medallion_run_scheduled('bob_runs_alice')" ]);
is(psql('postgres', "SELECT last_status FROM medallion.schedules WHERE name = 'bob_runs_alice'"), 'success',
   'a schedule of another owner\'s model runs it');
psql('postgres', "SET ROLE tap_sched_bob; SELECT medallion_unschedule('bob_runs_alice')");
$out = psql('postgres', "SET ROLE tap_sched_alice; SELECT medallion_schedule('alice_daily', 'sched_alice', '0 3 * * *', retries => 101)", ok => \$ok);
like($out, qr/retries must be from 0 to 100/, 'retries out of range are refused');
$out = psql('postgres', "SET ROLE tap_sched_alice; SELECT medallion_schedule('alice_daily', 'sched_alice', '0 3 * * *', retry_delay => '-1 minute')", ok => \$ok);
like($out, qr/retry_delay must not be negative/, 'so is a negative retry_delay');
psql('postgres', "SET ROLE tap_sched_alice; SELECT medallion_unschedule('alice_daily')");
is(psql('postgres', "SELECT count(*) FROM cron.job WHERE jobid = $alice_job"), '0', 'she unschedules it');
psql('postgres', "SET ROLE tap_sched_alice; SELECT medallion_drop_model('sched_alice')");
psql('postgres', "REVOKE USAGE ON SCHEMA cron FROM tap_sched_alice, tap_sched_bob;
				  REVOKE SELECT ON public.sched_src FROM tap_sched_alice;
				  DROP ROLE tap_sched_alice; DROP ROLE tap_sched_bob");

# a schedule in another database than pg_cron's: its job is made in
# pg_cron's database (cron.schedule_in_database, by a worker connected
# there as the caller), runs in this one, and logs no progress notices.
# This one is real: a schedule due every minute (up to a minute's wait).
psql('postgres', 'DROP DATABASE IF EXISTS tap_second');
psql('postgres', 'CREATE DATABASE tap_second');
psql('tap_second', 'CREATE EXTENSION medallion');
psql('tap_second', "CREATE TABLE public.second_src AS SELECT 1 AS id UNION ALL SELECT 2");
psql('tap_second', "SELECT medallion_create_model('second_m', 'SELECT id FROM public.second_src', layer => 'silver')");
my $second = psql('tap_second', "SELECT medallion_schedule('second_minutely', 'second_m', '* * * * *')");
like($second, qr/^\d+$/, 'a database without pg_cron schedules too');
is(psql('postgres', "SELECT jobname || ' | ' || database || ' | ' || command || ' | ' || username FROM cron.job WHERE jobid = $second"),
   "medallion second_minutely in tap_second | tap_second | CALL public.medallion_run_scheduled('second_minutely') | postgres",
   'its job is in pg_cron\'s database and runs in the schedule\'s');
is(psql('tap_second', "SELECT medallion_schedule('second_minutely', 'second_m', '* * * * *', retries => 1)"), $second,
   'rescheduling there keeps the job');
is(psql('tap_second', "SELECT jobid || ' ' || retries FROM medallion.schedules WHERE name = 'second_minutely'"), "$second 1",
   'and medallion.schedules there has it');
psql('tap_second', "DO \$\$ BEGIN
	FOR i IN 1 .. 300 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM medallion.schedules WHERE name = 'second_minutely' AND last_status IS NOT NULL);
		PERFORM pg_sleep(0.5);
	END LOOP; END \$\$");
is(psql('tap_second', "SELECT last_status || ' after ' || last_attempts FROM medallion.schedules WHERE name = 'second_minutely'"),
   'success after 1', 'pg_cron ran the schedule in the second database')
	or diag(psql('postgres', "SELECT string_agg(concat_ws(' ', runid, status, return_message), '; ') FROM cron.job_run_details WHERE jobid = $second"));
is(psql('tap_second', 'SELECT count(*) FROM silver.second_m'), '2', 'and it published');
is(psql('tap_second', "SELECT options->>'label' FROM medallion.runs ORDER BY run_id LIMIT 1"),
   'schedule second_minutely, attempt 1 of 2', 'its run is in that database\'s ledger');
is(psql('tap_second', [ 'SET client_min_messages = notice', "CALL public.medallion_run_scheduled('second_minutely')",
						'SHOW client_min_messages', 'SELECT count(*) FROM medallion.runs WHERE backend_pid = pg_backend_pid()' ]),
   "notice\n1", 'a scheduled run sends no notices, only warnings and errors, and leaves the session\'s setting as it was');
psql('tap_second', "SELECT medallion_unschedule('second_minutely')");
is(psql('postgres', "SELECT count(*) FROM cron.job WHERE jobid = $second"), '0', 'unscheduled there, its job is gone');

# pg_cron cannot start a job: with cron.use_background_workers off (here)
# its launcher logs in over TCP as the job's role, with no password; a
# role pg_hba.conf asks a password of would fail every minute.  Refused,
# saying what to change.
my $hba = psql('postgres', "SELECT pg_read_file(current_setting('hba_file'))");
# (the file is written by the server: lo_export; a large object is seen
# by the statement after the one that made it)
sub write_hba
{
	my ($content) = @_;
	my $lo = psql('postgres', "SELECT lo_from_bytea(0, convert_to(\$hba\$$content\$hba\$, 'UTF8'))");
	psql('postgres', "SELECT lo_export($lo, current_setting('hba_file')); SELECT lo_unlink($lo); SELECT pg_reload_conf()");
}
write_hba("host all tap_cron_pw 127.0.0.1/32 scram-sha-256\nhost all tap_cron_pw ::1/128 scram-sha-256\n$hba\n");
psql('tap_second', "CREATE ROLE tap_cron_pw LOGIN PASSWORD 'secret' IN ROLE medallion_admin;
					GRANT SELECT ON public.second_src TO tap_cron_pw");
$out = psql('tap_second', "SET ROLE tap_cron_pw; SELECT medallion_schedule('pw_daily', 'second_m', '0 1 * * *')", ok => \$ok);
ok(!$ok, 'a schedule pg_cron could not log in for is refused');
like($out, qr/ERROR:  pg_cron could not start the job of schedule "pw_daily"\nDETAIL:  pg_cron starts each job by logging in as role "tap_cron_pw" to database "tap_second" at cron.host \(localhost\), port \d+, with no password \(cron.use_background_workers is off\), and that login fails: .*password.*\nHINT:  Set cron.use_background_workers = on in postgresql.conf and restart/s,
	 'saying why and which setting to change');
is(psql('tap_second', "SELECT count(*) FROM medallion.schedules WHERE name = 'pw_daily'"), '0', 'and nothing was stored');
is(psql('postgres', "SELECT count(*) FROM cron.job WHERE jobname LIKE 'medallion pw_daily%'"), '0', 'nor a job made');
write_hba("$hba\n");
# a role that may not log in: neither as a worker nor over TCP
psql('tap_second', "CREATE ROLE tap_cron_nologin2 NOLOGIN IN ROLE medallion_admin; GRANT SELECT ON public.second_src TO tap_cron_nologin2");
$out = psql('tap_second', "SET ROLE tap_cron_nologin2; SELECT medallion_schedule('nologin_daily', 'second_m', '0 1 * * *')", ok => \$ok);
like($out, qr/pg_cron could not start the job of schedule "nologin_daily"\nDETAIL:  Role "tap_cron_nologin2" may not log in \(NOLOGIN\).*\nHINT:  Schedule as a role that may log in, or ALTER ROLE tap_cron_nologin2 LOGIN\./s,
	 'a role that may not log in is refused');
# a role that may not connect to this database (its jobs could not either)
psql('tap_second', "CREATE ROLE tap_cron_noconnect LOGIN IN ROLE medallion_admin; GRANT SELECT ON public.second_src TO tap_cron_noconnect;
					REVOKE CONNECT ON DATABASE tap_second FROM PUBLIC");
$out = psql('tap_second', "SET ROLE tap_cron_noconnect; SELECT medallion_schedule('noconnect_daily', 'second_m', '0 1 * * *')", ok => \$ok);
like($out, qr/pg_cron could not start the job of schedule "noconnect_daily"\nDETAIL:  Role "tap_cron_noconnect" may not connect to database "tap_second"\.\nHINT:  GRANT CONNECT ON DATABASE tap_second TO tap_cron_noconnect\./,
	 'a role that may not connect here is refused');
psql('tap_second', 'GRANT CONNECT ON DATABASE tap_second TO PUBLIC');

# an admin who is not a superuser, from another database than pg_cron's:
# pg_cron takes cron.schedule_in_database from PUBLIC; the error says what
# to grant there, and with it the schedule is made
psql('tap_second', "CREATE ROLE tap_cron_admin LOGIN IN ROLE medallion_admin; GRANT SELECT ON public.second_src TO tap_cron_admin");
$out = psql('tap_second', "SET ROLE tap_cron_admin; SELECT medallion_schedule('admin_daily', 'second_m', '0 1 * * *')", ok => \$ok);
ok(!$ok, 'without the grants in pg_cron\'s database, an admin\'s schedule elsewhere is refused');
like($out, qr/ERROR:  permission denied for .* \(in pg_cron's database "postgres"\).*\nHINT:  A schedule in another database than pg_cron's is made with cron.schedule_in_database: in database "postgres", GRANT USAGE ON SCHEMA cron and GRANT EXECUTE ON FUNCTION cron.schedule_in_database/s,
	 'saying what to grant there');
is(psql('tap_second', "SELECT count(*) FROM medallion.schedules WHERE name = 'admin_daily'"), '0', 'and nothing is stored');
psql('postgres', 'GRANT USAGE ON SCHEMA cron TO tap_cron_admin;
				  GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO tap_cron_admin');
my $admin_job = psql('tap_second', "SET ROLE tap_cron_admin; SELECT medallion_schedule('admin_daily', 'second_m', '0 1 * * *')");
is(psql('postgres', "SELECT username || ' ' || database FROM cron.job WHERE jobid = $admin_job"), 'tap_cron_admin tap_second',
   'with them, the job is hers, in her database');
psql('tap_second', "SET ROLE tap_cron_admin; SELECT medallion_unschedule('admin_daily')");
is(psql('postgres', "SELECT count(*) FROM cron.job WHERE jobid = $admin_job"), '0', 'and she removes it');
psql('postgres', 'REVOKE USAGE ON SCHEMA cron FROM tap_cron_admin;
				  REVOKE EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) FROM tap_cron_admin');
$out = psql('tap_second', "SELECT medallion.cron_job('reschedule')", ok => \$ok);
like($out, qr/unknown pg_cron call "reschedule"/, 'an unknown pg_cron call is refused');
psql('tap_second', "REVOKE SELECT ON public.second_src FROM tap_cron_pw, tap_cron_nologin2, tap_cron_noconnect, tap_cron_admin;
					DROP ROLE tap_cron_pw; DROP ROLE tap_cron_nologin2; DROP ROLE tap_cron_noconnect");
psql('postgres', 'DROP DATABASE tap_second');
psql('postgres', 'DROP ROLE tap_cron_admin');
is(psql('postgres', "SELECT count(*) FROM pg_trigger WHERE tgname = 'medallion_job_failed'"), '0',
   'with the last schedule gone, pg_cron\'s log is no longer watched');
psql('postgres', "SELECT medallion_drop_model('sched_m')");
psql('postgres', 'DROP TABLE public.sched_src');
psql('postgres', 'DROP EXTENSION medallion');

# pg_cron loaded but not installed in its database: a schedule from any
# database says where to install it (pg_cron is installed again after)
psql('postgres', 'DROP DATABASE IF EXISTS tap_nocron');
psql('postgres', 'CREATE DATABASE tap_nocron');
psql('tap_nocron', "CREATE EXTENSION medallion; SELECT medallion_create_model('m', 'SELECT 1 AS one', layer => 'silver')");
psql('postgres', 'DROP EXTENSION pg_cron');
$out = psql('tap_nocron', "SELECT medallion_schedule('nightly', 'm', '0 1 * * *')", ok => \$ok);
psql('postgres', 'CREATE EXTENSION pg_cron');
ok(!$ok, 'without pg_cron in its database, scheduling fails');
like($out, qr/ERROR:  pg_cron is not installed in its database "postgres".*\nHINT:  CREATE EXTENSION pg_cron in database "postgres": schedules of every database are pg_cron jobs there\./s,
	 'saying where to install it');
is(psql('tap_nocron', 'SELECT count(*) FROM medallion.schedules'), '0', 'and nothing is stored');
psql('postgres', 'DROP DATABASE tap_nocron');
done_testing();
