# medallion-dbt and tests that read downstream models (issue 29):
# test/dbt/order_items has a relationships test of order_items referring to
# orders, which reads order_items.  dbt runs it after both are built; so
# does medallion: imported as it is, the plan says it runs after orders,
# a run publishes both when it passes and neither when it fails (the
# published rows stay as they were), with results worked out by hand.
# Runs against the cluster that test/run started, with the installed tool.
use strict;
use warnings;
use Test::More;
use IPC::Run ();
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_dbt_deferred';
my $root = "$FindBin::Bin/../..";
my $tool = -x "$bin/medallion-dbt" ? "$bin/medallion-dbt" : "$root/tools/medallion-dbt";
my $project = "$root/test/dbt/order_items";

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql($db, "CREATE EXTENSION medallion");
psql_file($db, "$project/setup.sql");

my ($out, $err) = ('', '');
IPC::Run::run([ $tool, 'import', $project, '--dsn', "dbname=$db" ], '<', \undef, '>', \$out, '2>', \$err);
is($? >> 8, 0, 'import: exit 0') or diag($out, $err);
like($out, qr/^test\s+order_items\.order_id: relationships\s+created/m,
	'the relationships test is imported')
  or diag($out);
is(psql($db, "SELECT to_model || '.' || to_column FROM medallion.tests WHERE model = 'order_items' AND kind = 'relationships'"),
	'orders.order_id', 'as a relationships test referring to the model orders');

# The published relation of a model, quoted.
sub rel
{
	my ($model) = @_;
	return psql($db, "SELECT format('%I.%I', l.schema_name, m.name) FROM medallion.models m "
		  . "JOIN medallion.layers l ON l.name = m.layer WHERE m.name = '$model'");
}
my ($items, $orders) = (rel('order_items'), rel('orders'));

is(psql($db, "SELECT string_agg(model || ' ' || array_to_string(tests, ', '), '; ' ORDER BY step) "
	  . "FROM medallion_plan('order_items+')"),
	'order_items order_items_order_id_not_null: with the model, order_items_order_id_relationships: after orders, '
	. 'order_items_order_item_id_not_null: with the model, order_items_order_item_id_unique: with the model; '
	. 'orders orders_order_id_unique: with the model',
	'the plan says the relationships test runs after orders');

my $run = "SET client_min_messages = warning; SELECT string_agg(model || ' ' || status, ', ' ORDER BY model) FROM medallion_run('order_items+', changed_only => false)";
my $shown = "SELECT string_agg(order_id || ':' || lines || ':' || amount, ' ' ORDER BY order_id) FROM";

# first run: the test reads both candidates, passes, both publish
is(psql($db, $run), 'order_items success, orders success', 'first run: both build and publish');
is(psql($db, "$shown $orders"), '100:2:20.00 101:1:7.50 102:1:40.00', 'orders worked out by hand');
is(psql($db, "SELECT status FROM medallion.test_results WHERE run_id = (SELECT max(run_id) FROM medallion.runs) "
	  . "AND test LIKE '%relationships'"), 'pass', 'the relationships test passed');

# a line without quantity: its order is no order; the test fails after
# orders is built, and neither model publishes
psql($db, "INSERT INTO raw_oi.order_items VALUES (5, 103, 0, 9.99)");
is(psql($db, $run), 'order_items failed, orders skipped', 'failing test: neither publishes');
like(psql($db, "SELECT message FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs) "
		. "AND model = 'orders'"),
	qr/^held back with model order_items: blocking test order_items_order_id_relationships, run after orders, failed$/,
	'orders says which test held it back');
is(psql($db, "SELECT count(*) FROM $items"), '4', 'order_items keeps its published rows');
is(psql($db, "$shown $orders"), '100:2:20.00 101:1:7.50 102:1:40.00', 'and orders its own');

# fixed: both publish again, with the new line
psql($db, "DELETE FROM raw_oi.order_items WHERE order_item_id = 5; INSERT INTO raw_oi.order_items VALUES (6, 101, 2, 1.25)");
is(psql($db, $run), 'order_items success, orders success', 'fixed: both publish');
is(psql($db, "$shown $orders"), '100:2:20.00 101:2:10.00 102:1:40.00', 'orders with the new line, by hand');
is(psql($db, "SELECT count(*) || ' ' || sum(amount) FROM $items"), '5 70.00', 'order_items with it');

psql('postgres', "DROP DATABASE $db");
done_testing();
