# Failures and warnings are sent with NOTIFY medallion_alerts and a JSON
# payload (run id, model, status, SQLSTATE; no message: any role may
# LISTEN), also when the run raises
# (strict => true): the ledger writer sends them in its own transaction.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_alerts';

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql($db, "CREATE EXTENSION medallion");
psql($db, "CREATE TABLE public.src (id int, v int); INSERT INTO public.src VALUES (1, 0), (2, 1), (2, 2)");
psql($db, "SELECT medallion_create_model('alert_div', 'SELECT id, 10 / v AS x FROM public.src', layer => 'silver')");
psql($db, "SELECT medallion_create_model('alert_dup', 'SELECT id FROM public.src', layer => 'silver')");
psql($db, "SELECT medallion_add_test('alert_dup', 'unique', column_name => 'id', severity => 'warn')");

# one psql session: LISTEN, run, then a statement to receive what arrived
my $out = psql($db, [ 'LISTEN medallion_alerts', 'SET client_min_messages = warning',
					 "SELECT count(*) FROM medallion_run('all')", 'SELECT 1' ], on_error_stop => 0, ok => \my $ok);
like($out, qr/Asynchronous notification "medallion_alerts" with payload "\{.*"model": "alert_div".*"status": "failed"/,
	 'a failed model is alerted');
like($out, qr/"sqlstate": "22012"/, 'with its SQLSTATE');
unlike($out, qr/division by zero/, 'not its message: any role may LISTEN, and an error can quote the data');
like($out, qr/"test": "unique_id"[^}]*"status": "warn"/, 'a warning test is alerted');
like($out, qr/"run_id": \d+/, 'with the run id');

# strict => true raises: the alert still comes
$out = psql($db, [ 'LISTEN medallion_alerts', 'SET client_min_messages = warning',
				  "SELECT count(*) FROM medallion_run('alert_div', strict => true)", 'SELECT 1' ],
			on_error_stop => 0, ok => \$ok);
like($out, qr/ERROR:  run \d+ did not build every model/, 'the strict run raised');
like($out, qr/"model": "alert_div"[^}]*"status": "failed"/, 'and its failure was still alerted');

psql('postgres', "DROP DATABASE $db");
done_testing();
