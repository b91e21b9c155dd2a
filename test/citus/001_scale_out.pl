# Scale-out on Citus, against the coordinator and two workers that
# test/run starts (PGPORT is the coordinator's).  The AdventureWorks
# pipeline with its order lines, customers, customer metrics and
# incremental fact table hash-distributed by customer_id (colocated) and
# products and calendar as
# reference tables (examples/adventureworks/distribute.sql) publishes,
# run after run, the same tables as the same pipeline on one node (a
# database of the coordinator without Citus); a failing blocking test
# publishes nothing of its model; a hand-made view and a row-level
# security policy on a distributed table survive runs; rollback; and with
# a worker down the run fails naming it, nothing is published, no
# prepared transaction is left once the node is back, and the next run
# publishes; a reader never sees a half-published table.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use MedallionTAP qw(psql run_ok $bin);
use IPC::Run qw(start finish timeout);

my $root = $ENV{MEDALLION_ROOT} or die 'MEDALLION_ROOT is not set (test/run sets it)';
my @workers = split ' ', ($ENV{CITUS_WORKER_PORTS} || '');
my $ctl = $ENV{CITUS_CTL} or die 'CITUS_CTL is not set (test/run sets it)';
$MedallionTAP::db = 'postgres';

sub psql_script
{
	my ($db, @args) = @_;
	return run_ok("$bin/psql", '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db, @args);
}

# every table and incremental model of a database, as one fingerprint
# per model (rows sorted as text)
sub fingerprints
{
	my ($db) = @_;
	my $models = psql("SELECT string_agg(format('%I.%I', l.schema_name, m.name), ' ' ORDER BY m.name)
					   FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer
					  WHERE m.materialized IN ('table', 'incremental')", $db);
	my @out;
	for my $t (split ' ', $models)
	{
		push @out, "$t " . psql("SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $t x", $db);
	}
	return join("\n", @out);
}

# run a selector; the models that did not build, with their messages
sub run_all_selected
{
	my ($selector) = @_;
	return psql("SET client_min_messages = warning;
				 SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ' ORDER BY model)
						FILTER (WHERE status NOT IN ('success', 'up_to_date'))
				   FROM medallion_run('$selector')");
}

sub run_all
{
	my ($db) = @_;
	return psql("SET client_min_messages = warning;
				 SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ' ORDER BY model)
						FILTER (WHERE status NOT IN ('success', 'up_to_date'))
				   FROM medallion_run('all')", $db);
}

# the same pipeline twice: on one node, and distributed
psql('CREATE DATABASE single');
for my $db ('postgres', 'single')
{
	psql('CREATE EXTENSION medallion', $db);
	psql_script($db, '-v', 'sf=1', '-v', 'seed=42', '-f', "$root/examples/adventureworks/generate.sql");
	psql_script($db, '-f', "$root/examples/adventureworks/sources.sql");
	psql_script($db, '-f', "$root/examples/adventureworks/models.sql");
}
psql_script('postgres', '-f', "$root/examples/adventureworks/distribute.sql");
is(psql("SELECT string_agg(logicalrelid::text || ' ' || CASE WHEN partmethod = 'h' THEN 'hash' ELSE 'reference' END, ', '
						  ORDER BY logicalrelid::text)
		   FROM pg_dist_partition WHERE logicalrelid::text ~ '^(silver|gold)[.]'"),
   'gold.dim_date reference, gold.fact_order_items hash, gold.gld_customer_metrics hash, silver.slvr_customers hash, silver.slvr_products reference, silver.slvr_sales_orders hash',
   'the models are distributed or reference tables, as defined');
is(psql("SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h' AND logicalrelid::text ~ '^(silver|gold)[.]'"),
   '1', 'the distributed ones colocated');
is(psql("SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'silver.slvr_sales_orders'::regclass"), '32',
   'with shards on the workers');

is(run_all('single'), '', 'one node: the first run builds everything');
is(run_all('postgres'), '', 'Citus: the first run builds everything');
my $single = fingerprints('single');
is(fingerprints('postgres'), $single, 'and publishes the same tables as one node');
cmp_ok(psql("SELECT count(*) FROM gold.gld_customer_metrics"), '>', 0, 'with rows in the distributed gold table');
is(psql("SELECT count(*) FROM silver.slvr_sales_orders"),
   psql("SELECT count(*) FROM silver.slvr_sales_orders", 'single'), 'its order lines are all there');
is(psql("SELECT pg_relation_size('silver.slvr_sales_orders')"), '0',
   'in the shards: the coordinator\'s table holds none of them');

# what users add to a published table survives runs
psql("CREATE VIEW public.store_metrics AS SELECT customer_id, orders FROM gold.gld_customer_metrics WHERE is_store");
psql("CREATE ROLE tap_citus_reader LOGIN IN ROLE medallion_reader");
psql("GRANT SELECT ON gold.gld_customer_metrics TO tap_citus_reader");
psql("ALTER TABLE gold.gld_customer_metrics ENABLE ROW LEVEL SECURITY");
psql("CREATE POLICY stores_only ON gold.gld_customer_metrics FOR SELECT TO tap_citus_reader USING (is_store)");
my $oid = psql("SELECT 'gold.gld_customer_metrics'::regclass::oid");
my $view = psql("SELECT count(*) FROM public.store_metrics");

# new orders: an incremental run, the same on both
psql_script($_, '-f', "$root/examples/adventureworks/new_orders.sql") for ('postgres', 'single');
is(run_all('single'), '', 'one node: the incremental run');
is(run_all('postgres'), '', 'Citus: the incremental run');
$single = fingerprints('single');
is(fingerprints('postgres'), $single, 'publishes the same tables as one node');
is(psql("SELECT 'gold.gld_customer_metrics'::regclass::oid"), $oid, 'the distributed table keeps its OID');
is(psql("SELECT count(*) FROM public.store_metrics"), psql("SELECT count(*) FROM gold.gld_customer_metrics WHERE is_store"),
   'the hand-made view reads the new rows');
is(psql("SET ROLE tap_citus_reader; SELECT count(*) FILTER (WHERE NOT is_store) || ' ' || (count(*) > 0) FROM gold.gld_customer_metrics"),
   '0 true', 'the policy still limits the reader to stores');

# a failing blocking test publishes nothing of its model
my $before = psql("SELECT count(*) || ' ' || sum(lifetime_value) FROM gold.gld_customer_metrics");
psql("SELECT medallion_add_test('gld_customer_metrics', 'row_count', min_rows => 1000000000)");
like(run_all('postgres'), qr/^gld_customer_metrics failed: blocking test \S+ failed/, 'a failing blocking test fails the distributed model');
is(psql("SELECT count(*) || ' ' || sum(lifetime_value) FROM gold.gld_customer_metrics"), $before, 'which publishes nothing');
my $test = psql("SELECT name FROM medallion.tests WHERE model = 'gld_customer_metrics' AND kind = 'row_count'");
psql("SELECT medallion_drop_test('gld_customer_metrics', '$test')");
is(run_all('postgres'), '', 'without the test it builds again');

# rollback: the version kept is the one the last run replaced; make the
# last run change it (one order line fewer, on both), then roll back
my $now = psql("SELECT count(*) FROM silver.slvr_sales_orders");
for my $db ('postgres', 'single')
{
	psql("DELETE FROM \\\"Sales\\\".\\\"SalesOrderDetail\\\" WHERE \\\"SalesOrderDetailID\\\" = 121317 + 1260", $db);
	is(run_all($db), '', "a run without one order line ($db)");
}
$single = fingerprints('single');
is(psql("SELECT count(*) FROM silver.slvr_sales_orders"), $now - 1, 'publishes one order line fewer');
psql("SET client_min_messages = warning; SELECT medallion_rollback('slvr_sales_orders')");
is(psql("SELECT count(*) FROM silver.slvr_sales_orders"), $now, 'rollback brings the previous version back');
is(psql("SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'silver.slvr_sales_orders'::regclass"), '1',
   'and the table stays distributed');

# a worker down: the run fails naming it and publishes nothing
system($ctl, 'stop', $workers[0]) == 0 or die "could not stop the worker on port $workers[0]";
my $out = `$bin/psql -X -q -At -d postgres -c "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')" 2>&1`;
isnt($?, 0, 'with a worker down, the run fails');
like($out, qr/localhost:$workers[0]/, 'naming the node');
is(psql("SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'failed', 'the ledger records the failed run');
system($ctl, 'start', $workers[0]) == 0 or die "could not start the worker on port $workers[0]";
psql("SELECT recover_prepared_transactions()");
for my $port ($ENV{PGPORT}, @workers)
{
	is(run_ok("$bin/psql -X -q -At -p $port -d postgres -c 'SELECT count(*) FROM pg_prepared_xacts'") =~ s/\s+$//r,
	   '0', "no prepared transaction is left on the node on port $port");
}
is(psql("SELECT count(*) FROM silver.slvr_sales_orders"), $now, 'nothing of the failed run was published');
is(run_all('postgres'), '', 'the next run builds everything');
is(fingerprints('postgres'), $single, 'and publishes the same tables as one node');

# a worker down while a model reads a distributed table: that model fails
# in its build, naming the node, and nothing is published
system($ctl, 'stop', $workers[1]) == 0 or die "could not stop the worker on port $workers[1]";
like(run_all_selected('gld_customer_metrics'), qr/^gld_customer_metrics failed: .*localhost:$workers[1]/,
	 'with a worker down, a model reading a distributed table fails, naming the node');
system($ctl, 'start', $workers[1]) == 0 or die "could not start the worker on port $workers[1]";
psql("SELECT recover_prepared_transactions()");
is(fingerprints('postgres'), $single, 'nothing of it was published');

# readers on the coordinator never see a half-published table: while runs
# publish the order lines (rows copied into the shards), a reader sees the
# old count or the new one, nothing else
my $full = psql("SELECT count(*) FROM silver.slvr_sales_orders");
psql("DELETE FROM \\\"Sales\\\".\\\"SalesOrderDetail\\\" WHERE \\\"SalesOrderDetailID\\\" % 100 = 0");
my ($in, $runout, $runerr) = ('', '', '');
my $run = start([ "$bin/psql", '-X', '-q', '-At', '-d', 'postgres', '-c',
				  "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('slvr_sales_orders')" ],
				\$in, \$runout, \$runerr, timeout(300));
my %seen;
while ($run->pumpable)
{
	$seen{ psql("SELECT count(*) FROM silver.slvr_sales_orders") } = 1;
	$run->pump_nb;
}
finish($run);
my $new = psql("SELECT count(*) FROM silver.slvr_sales_orders");
cmp_ok($new, '<', $full, 'the run published fewer order lines');
is(join(',', grep { $_ ne $full && $_ ne $new } sort keys %seen), '',
   'a reader during the run saw only the old or the new count (' . join(',', sort keys %seen) . ')');

psql("DROP VIEW public.store_metrics");
psql("DROP POLICY stores_only ON gold.gld_customer_metrics");
psql("REVOKE ALL ON gold.gld_customer_metrics FROM tap_citus_reader");
psql("DROP ROLE tap_citus_reader");
done_testing();
