# A run interrupted by a crash (kill -9 of its backend) is marked crashed at
# the next run, nothing it built is published or left behind, and the next
# run works.  Runs against the cluster that test/run started; the crash
# restarts that cluster's backends (restart_after_crash).
use strict;
use warnings;
use Test::More;
use IPC::Run qw(finish);
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_crash';

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql($db, "CREATE EXTENSION medallion");
psql($db, "CREATE TABLE public.src AS SELECT g AS id FROM generate_series(1, 100) g");
psql($db, "SELECT medallion_create_model('crash_fast', 'SELECT id FROM public.src', layer => 'silver')");
psql($db, "SELECT medallion_create_model('crash_slow', 'SELECT id, pg_sleep(0.3) IS NULL AS slept FROM crash_fast', layer => 'gold')");

# a run that will be killed while it builds crash_slow (100 x 0.3 s)
my $run = psql_start($db, "SELECT * FROM medallion_run('all')", timeout => 120);
my $pid;
wait_for('the run to start', sub {
	$pid = psql($db, "SELECT backend_pid FROM medallion.runs WHERE status = 'running'");
	return $pid =~ /^\d+$/;
});
wait_for('the run to build', sub {
	return psql($db, "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND query LIKE '%medallion_run%'") eq '1';
});
usleep(500_000);
ok(kill('KILL', $pid), "killed the running backend $pid");
eval { finish($run) };
wait_for('the server to come back', sub { psql('postgres', 'SELECT 1') eq '1' });

is(psql($db, "SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'running',
   'the ledger still says running: nothing has looked yet');
is(psql($db, "SELECT count(*) FROM silver.crash_fast"), '0', 'nothing of the killed run was published');
is(psql($db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname IN ('bronze', 'silver', 'gold', 'medallion_history') AND c.relname LIKE 'pg\\_temp\\_%'"),
   '0', 'no candidate is left behind');

# the next run marks it crashed, and works
psql($db, "SELECT medallion_create_model('crash_slow', 'SELECT id FROM crash_fast', layer => 'gold')");
is(psql($db, "SET client_min_messages = warning; SELECT string_agg(status, ',' ORDER BY model) FROM medallion_run('all')"),
   'success,success', 'the next run builds everything');
# (a run too short to record its start tidies in a worker it does not wait for)
wait_for('the killed run to be marked', sub {
	return psql($db, "SELECT status FROM medallion.runs ORDER BY run_id LIMIT 1") ne 'running';
});
like(psql($db, "SELECT status || ': ' || message FROM medallion.runs ORDER BY run_id LIMIT 1"),
	 qr/^crashed: the run was interrupted/, 'the killed run is marked crashed');
is(psql($db, "SELECT count(*) FROM gold.crash_slow"), '100', 'and the pipeline is published');

psql('postgres', "DROP DATABASE $db");
done_testing();
