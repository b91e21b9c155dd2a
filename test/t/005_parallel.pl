# Parallel runs (threads => n) when things go wrong: a committed worker
# candidate is unreadable by readers of the published table; cancelling the
# run stops its workers; a worker that dies is a failed step; a crash leaves
# committed worker candidates that the next run drops.  Runs against the
# cluster that test/run started.
use strict;
use warnings;
use Test::More;
use IPC::Run qw(finish);
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_parallel';

sub start_run
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $h = psql_start($db, $sql, out => \$out, err => \$err, timeout => 120);
	return ($h, \$out, \$err);
}

# build workers: all of them, or those building a model (a run keeps its
# workers until it ends; between models they are idle)
sub build_workers
{
	my ($building) = @_;
	return psql($db, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'medallion build worker'"
		. ($building ? " AND state = 'active'" : ''));
}

# workers' candidates (not the previous versions runs discard, d_<OID>)
my $in_build = "SELECT count(*) FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relkind = 'r' AND relname ~ '^r'";

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
# the models here build in milliseconds: give every one to a worker anyway
psql('postgres', "ALTER DATABASE $db SET medallion.worker_min_ms = 0");
psql($db, "CREATE EXTENSION medallion");
psql($db, "CREATE TABLE public.src AS SELECT g AS id FROM generate_series(1, 100) g");
psql($db, "SELECT medallion_create_model('par_fast', 'SELECT id FROM public.src', layer => 'silver')");
# 100 rows x 0.05 s: five seconds in a worker
psql($db, "SELECT medallion_create_model('par_slow', 'SELECT id, pg_sleep(0.05) IS NULL AS slept FROM public.src', layer => 'silver')");
psql($db, "GRANT SELECT ON silver.par_fast TO medallion_reader");

# 1. cancel: the fast candidate is committed in medallion_build while the
# slow one builds; a reader of silver.par_fast cannot read it
my ($run, $out, $err) = start_run("SELECT * FROM medallion_run('all', threads => 2)");
wait_for('a committed worker candidate', sub { psql($db, $in_build) eq '1' });
my $cand = psql($db, "SELECT 'medallion_build.' || relname FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relkind = 'r'");
my $denied = psql($db, "SET ROLE medallion_reader; SELECT count(*) FROM $cand", ok => \my $read);
like($denied, qr/permission denied for table/, 'a reader of the published table cannot read its candidate');
is(build_workers(1), '1', 'the slow model is building in a worker');
psql($db, "SELECT pg_cancel_backend(backend_pid) FROM medallion.runs WHERE status = 'running'");
eval { finish($run) };
like($$err, qr/canceling statement due to user request/, 'the run is cancelled');
is(build_workers(), '0', 'cancelling the run stopped its workers, the idle one too');
is(psql($db, "SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'cancelled', 'the ledger says cancelled');
is(psql($db, "SELECT count(*) FROM silver.par_fast"), '0', 'nothing was published');
is(psql($db, $in_build), '1', 'the committed candidate is still there ...');
psql($db, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('par_fast')");
is(psql($db, $in_build), '0', '... until the next run starts');

# 1b. while a model builds, readers of its published table are not blocked
# (the run locks it exclusively only to publish)
($run, $out, $err) = start_run("SELECT * FROM medallion_run('par_slow')");
wait_for('the serial build', sub {
	psql($db, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%medallion_run(''par_slow'')%' AND wait_event = 'PgSleep'") eq '1' });
is(psql($db, "SET lock_timeout = '200ms'; SELECT count(*) FROM silver.par_slow"), '0',
   'a reader of the table being built reads the published content at once');
psql($db, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%medallion_run(''par_slow'')%' AND pid <> pg_backend_pid()");
eval { finish($run) };

# 2. a worker that dies is a failed step; the rest of the run goes on
($run, $out, $err) = start_run("SELECT model, status, message FROM medallion_run('all', threads => 2, changed_only => false)");
wait_for('the slow worker', sub { build_workers(1) eq '1' });
psql($db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'medallion build worker'");
finish($run);
is(psql($db, "SELECT string_agg(model || ' ' || status || ' ' || worker || ' ' || coalesce(message, ''), '; ' ORDER BY model)
		 FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs)"),
   'par_fast success true ; par_slow failed true the build worker stopped before it finished',
   'the killed worker fails its step; the other model builds');
is(psql($db, "SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'partial', 'the run is partial');
is(psql($db, "SELECT count(*) FROM silver.par_fast"), '100', 'and publishes what built');

# 2b. the run's backend terminated while a worker builds: the worker stops
# too, writing nothing (it used to finish and leave its candidate after the
# next run had tidied)
psql($db, "SELECT medallion_run('par_fast', changed_only => false)");
($run, $out, $err) = start_run("SELECT * FROM medallion_run('all', threads => 2, changed_only => false)");
wait_for('the slow worker', sub { build_workers(1) eq '1' });
my $before = psql($db, $in_build);
psql($db, "SELECT pg_terminate_backend(backend_pid) FROM medallion.runs WHERE status = 'running'");
eval { finish($run) };
wait_for('the workers to stop', sub { build_workers() eq '0' });
pass('the terminated run\'s workers stopped');
sleep(6);	# longer than the slow model's build would have taken
is(psql($db, $in_build), $before, 'and its slow model\'s candidate was never written');
psql($db, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('par_fast', changed_only => false)");
is(psql($db, $in_build), '0', 'the next run drops what the terminated run committed');

# 3. a crash (kill -9 of the run's backend) with a committed worker candidate
psql($db, "TRUNCATE public.src; INSERT INTO public.src SELECT g FROM generate_series(1, 200) g");
($run, $out, $err) = start_run("SELECT * FROM medallion_run('all', threads => 2, changed_only => false)");
wait_for('a committed worker candidate', sub { psql($db, $in_build) eq '1' });
my $pid = psql($db, "SELECT backend_pid FROM medallion.runs WHERE status = 'running'");
# the worker's commit must be on disk to survive (synchronous_commit may be off)
psql($db, "CHECKPOINT");
ok(kill('KILL', $pid), "killed the running backend $pid");
eval { finish($run) };
wait_for('the server to come back', sub { psql('postgres', 'SELECT 1') eq '1' });
is(psql($db, $in_build), '1', 'after the crash the committed candidate is left');
is(psql($db, "SELECT count(*) FROM silver.par_fast"), '100', 'and nothing of the crashed run was published');
psql($db, "SELECT medallion_create_model('par_slow', 'SELECT id, true AS slept FROM public.src', layer => 'silver')");
is(psql($db, "SET client_min_messages = warning; SELECT string_agg(status, ',' ORDER BY model) FROM medallion_run('all', threads => 2, changed_only => false)"),
   'success,success', 'the next run builds everything');
is(psql($db, $in_build), '0', 'and has dropped the leftover candidate');
like(psql($db, "SELECT status FROM medallion.runs WHERE backend_pid = $pid"), qr/^crashed$/, 'the killed run is marked crashed');
is(psql($db, "SELECT count(*) FROM silver.par_fast"), '200', 'the pipeline is published');

psql('postgres', "DROP DATABASE $db");
done_testing();
