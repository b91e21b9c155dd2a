# Failures and warnings are sent with NOTIFY medallion_alerts and a JSON
# payload (run id, model, status, SQLSTATE; no message: any role may
# LISTEN), also when the run raises
# (strict => true): the ledger writer sends them in its own transaction.
use strict;
use warnings;
use Test::More;

my $bin = $ENV{PGBIN} || '/usr/lib/postgresql/15/bin';
my $db = 'tap_alerts';

sub psql
{
	my ($sql, $dbname) = @_;
	my $out = `$bin/psql -X -q -v ON_ERROR_STOP=1 -d @{[ $dbname || $db ]} -c "$sql" 2>&1`;
	die "psql failed: $sql\n$out" if $? != 0;
	return $out;
}

psql("DROP DATABASE IF EXISTS $db", 'postgres');
psql("CREATE DATABASE $db", 'postgres');
psql("CREATE EXTENSION medallion");
psql("CREATE TABLE public.src (id int, v int); INSERT INTO public.src VALUES (1, 0), (2, 1), (2, 2)");
psql("SELECT medallion_create_model('alert_div', 'SELECT id, 10 / v AS x FROM public.src', layer => 'silver')");
psql("SELECT medallion_create_model('alert_dup', 'SELECT id FROM public.src', layer => 'silver')");
psql("SELECT medallion_add_test('alert_dup', 'unique', column_name => 'id', severity => 'warn')");

# one psql session: LISTEN, run, then a statement to receive what arrived
my $out = `$bin/psql -X -d $db -c 'LISTEN medallion_alerts' -c "SET client_min_messages = warning" -c "SELECT count(*) FROM medallion_run('all')" -c 'SELECT 1' 2>&1`;
like($out, qr/Asynchronous notification "medallion_alerts" with payload "\{.*"model": "alert_div".*"status": "failed"/,
	 'a failed model is alerted');
like($out, qr/"sqlstate": "22012"/, 'with its SQLSTATE');
unlike($out, qr/division by zero/, 'not its message: any role may LISTEN, and an error can quote the data');
like($out, qr/"test": "unique_id"[^}]*"status": "warn"/, 'a warning test is alerted');
like($out, qr/"run_id": \d+/, 'with the run id');

# strict => true raises: the alert still comes
$out = `$bin/psql -X -d $db -c 'LISTEN medallion_alerts' -c "SET client_min_messages = warning" -c "SELECT count(*) FROM medallion_run('alert_div', strict => true)" -c 'SELECT 1' 2>&1`;
like($out, qr/ERROR:  run \d+ did not build every model/, 'the strict run raised');
like($out, qr/"model": "alert_div"[^}]*"status": "failed"/, 'and its failure was still alerted');

psql("DROP DATABASE $db", 'postgres');
done_testing();
