# A run interrupted by a crash (kill -9 of its backend) is marked crashed at
# the next run, nothing it built is published or left behind, and the next
# run works.  Runs against the cluster that test/run started; the crash
# restarts that cluster's backends (restart_after_crash).
use strict;
use warnings;
use Test::More;
use IPC::Run qw(start finish timeout);
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = $MedallionTAP::db = 'tap_crash';

psql("DROP DATABASE IF EXISTS $db", 'postgres');
psql("CREATE DATABASE $db", 'postgres');
psql("CREATE EXTENSION medallion");
psql("CREATE TABLE public.src AS SELECT g AS id FROM generate_series(1, 100) g");
psql("SELECT medallion_create_model('crash_fast', 'SELECT id FROM public.src', layer => 'silver')");
psql("SELECT medallion_create_model('crash_slow', 'SELECT id, pg_sleep(0.3) IS NULL AS slept FROM crash_fast', layer => 'gold')");

# a run that will be killed while it builds crash_slow (100 x 0.3 s)
my ($in, $out, $err) = ('', '', '');
my $run = start([ "$bin/psql", '-X', '-d', $db, '-c', "SELECT * FROM medallion_run('all')" ],
				\$in, \$out, \$err, timeout(120));
my $pid;
wait_for('the run to start', sub {
	$pid = psql("SELECT backend_pid FROM medallion.runs WHERE status = 'running'");
	return $pid =~ /^\d+$/;
});
wait_for('the run to build', sub {
	return psql("SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND query LIKE '%medallion_run%'") eq '1';
});
usleep(500_000);
ok(kill('KILL', $pid), "killed the running backend $pid");
eval { finish($run) };
wait_for('the server to come back', sub { psql('SELECT 1', 'postgres') eq '1' });

is(psql("SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'running',
   'the ledger still says running: nothing has looked yet');
is(psql("SELECT count(*) FROM silver.crash_fast"), '0', 'nothing of the killed run was published');
is(psql("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname IN ('bronze', 'silver', 'gold', 'medallion_history') AND c.relname LIKE 'pg\\_temp\\_%'"),
   '0', 'no candidate is left behind');

# the next run marks it crashed, and works
psql("SELECT medallion_create_model('crash_slow', 'SELECT id FROM crash_fast', layer => 'gold')");
is(psql("SET client_min_messages = warning; SELECT string_agg(status, ',' ORDER BY model) FROM medallion_run('all')"),
   'success,success', 'the next run builds everything');
# (a run too short to record its start tidies in a worker it does not wait for)
wait_for('the killed run to be marked', sub {
	return psql("SELECT status FROM medallion.runs ORDER BY run_id LIMIT 1") ne 'running';
});
like(psql("SELECT status || ': ' || message FROM medallion.runs ORDER BY run_id LIMIT 1"),
	 qr/^crashed: the run was interrupted/, 'the killed run is marked crashed');
is(psql("SELECT count(*) FROM gold.crash_slow"), '100', 'and the pipeline is published');

psql("DROP DATABASE $db", 'postgres');
done_testing();
