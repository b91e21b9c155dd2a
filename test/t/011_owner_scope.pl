# The owner scope pins which messages reach the caller: another admin who
# runs an owner's model reading a SQL Server source, with
# client_min_messages = debug3 in its session, sees none of tds_fdw's debug
# output, which names the owner's user-mapping password.  The same query run
# by the owner itself at debug3 shows that line (so the check can fail).
# Uses the TDS test server that test/run starts (TDS_PORT).
use strict;
use warnings;
use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $port = $ENV{TDS_PORT} or plan skip_all => 'the TDS test server is not running (test/run starts it)';
my $db = 'tap_owner_scope';

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql_script($db, <<"SQL");
CREATE EXTENSION medallion;
CREATE EXTENSION tds_fdw;
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tap_scope_alice') THEN
		CREATE ROLE tap_scope_alice LOGIN IN ROLE medallion_admin;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tap_scope_mallory') THEN
		CREATE ROLE tap_scope_mallory LOGIN IN ROLE medallion_admin;
	END IF;
END \$\$;
CREATE SERVER aw FOREIGN DATA WRAPPER tds_fdw OPTIONS (servername '127.0.0.1', port '$port',
  database 'AdventureWorks', tds_version '7.2', character_set 'UTF-8', msg_handler 'notice');
GRANT USAGE ON FOREIGN SERVER aw TO tap_scope_alice;
GRANT CREATE ON DATABASE $db TO tap_scope_alice;
CREATE USER MAPPING FOR tap_scope_alice SERVER aw OPTIONS (username 'medallion', password 'medallion');
SET ROLE tap_scope_alice;
SELECT medallion_create_source('aw', 'aw_sales', kind => 'tds', server_name => 'aw', remote_schema => 'Sales',
  tables => ARRAY['SalesOrderHeader']);
SELECT medallion_create_model('brnz_scope_orders',
  'SELECT "SalesOrderID" AS id FROM aw_sales."SalesOrderHeader"', layer => 'silver');
SQL

# Run SQL as a role in a session at debug3; returns everything psql printed.
sub debug_session
{
	my ($role, $sql) = @_;
	return psql_script($db, "SET ROLE $role;\nSET client_min_messages = debug3;\n$sql\n", notices => 1);
}

my $direct = debug_session('tap_scope_alice', 'SELECT count(*) FROM aw_sales."SalesOrderHeader";');
like($direct, qr/login password/i,
	 'control: tds_fdw names the login password at debug3 in a session of the owner');

my $run = debug_session('tap_scope_mallory',
						"SELECT model || ' ' || status FROM medallion_run('brnz_scope_orders', changed_only => false);");
like($run, qr/brnz_scope_orders success/, 'another admin runs the owner\'s model');
unlike($run, qr/login password|password to/i, 'and sees no debug output of the owner\'s foreign connection');
unlike($run, qr/\bmedallion\b.*password|password.*\bmedallion\b/i, 'nor the password');

my $threads = debug_session('tap_scope_mallory',
							"SET medallion.worker_min_ms = 0; SELECT model || ' ' || status FROM medallion_run('brnz_scope_orders', threads => 2, changed_only => false);");
like($threads, qr/brnz_scope_orders success/, 'with threads too');
unlike($threads, qr/login password/i, 'a background worker passes none on either');

# One statement that goes on after publishing another owner's models (or
# catches the cancel) holds their tables: its session ends two seconds
# after the run, and the publish goes with it.
psql_script($db, q{SET ROLE tap_scope_alice;
SELECT medallion_create_model('scope_local', 'SELECT g AS id FROM generate_series(1, 10) g', layer => 'silver');});
for my $hold ("SELECT (SELECT count(*) FROM medallion_run('scope_local', changed_only => false)), pg_sleep(60);",
			  # runs again and again in one statement do not push the deadline back
			  "SELECT count(*) FROM generate_series(1, 5000) g, LATERAL medallion_run('scope_local', changed_only => false, full_refresh => (g > 0)) r;",
			  q{DO $d$ BEGIN PERFORM count(*) FROM medallion_run('scope_local', changed_only => false);
				  LOOP BEGIN PERFORM pg_sleep(60); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $d$;})
{
	my $started = time();
	my $out = psql_script($db, "SET ROLE tap_scope_mallory;\n$hold\n", on_error_stop => 0, ok => \my $held);
	my $took = time() - $started;
	like($out, qr/terminating connection|server closed the connection/, 'the holding session is ended');
	cmp_ok($took, '<', 20, "well before the statement would have ended ($took s)");
}
is(psql($db, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'scope_local'"),
   '0', 'and holds no lock on the owner\'s table');

psql('postgres', "DROP DATABASE $db");
done_testing();
