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
# publishes; a reader never sees a half-published table; code a model
# owner who is not a superuser attached to its table, or to its shards,
# never runs as a superuser on any node (distributing and undistributing
# such a table are refused; runs and rollbacks write it as its owner),
# and that owner's distributed model builds, publishes and rolls back.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use MedallionTAP;
use IPC::Run qw(finish);

my $root = $ENV{MEDALLION_ROOT} or die 'MEDALLION_ROOT is not set (test/run sets it)';
my @workers = split ' ', ($ENV{CITUS_WORKER_PORTS} || '');
my $ctl = $ENV{CITUS_CTL} or die 'CITUS_CTL is not set (test/run sets it)';

# every table and incremental model of a database, as one fingerprint
# per model (rows sorted as text)
sub fingerprints
{
	my ($db) = @_;
	my $models = psql($db, "SELECT string_agg(format('%I.%I', l.schema_name, m.name), ' ' ORDER BY m.name)
					   FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer
					  WHERE m.materialized IN ('table', 'incremental', 'snapshot')");
	my @out;
	for my $t (split ' ', $models)
	{
		# a snapshot's scd_id and validity depend on when it ran
		push @out, "$t " . psql($db, "SELECT count(*) || ' ' || md5(coalesce(string_agg(x, '|' ORDER BY x), ''))
								   FROM (SELECT (to_jsonb(x) - 'scd_id' - 'valid_from' - 'valid_to')::text AS x FROM $t x) x");
	}
	return join("\n", @out);
}

# run a selector; the models that did not build, with their messages
sub run_all_selected
{
	my ($selector, $changed_only) = @_;
	$changed_only //= 'true';
	return psql('postgres', "SET client_min_messages = warning;
				 SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ' ORDER BY model)
						FILTER (WHERE status NOT IN ('success', 'up_to_date'))
				   FROM medallion_run('$selector', changed_only => $changed_only)");
}

sub run_all
{
	my ($db) = @_;
	return psql($db, "SET client_min_messages = warning;
				 SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ' ORDER BY model)
						FILTER (WHERE status NOT IN ('success', 'up_to_date'))
				   FROM medallion_run('all')");
}

# the same pipeline twice: on one node, and distributed
psql('postgres', 'CREATE DATABASE single');
for my $db ('postgres', 'single')
{
	psql($db, 'CREATE EXTENSION medallion');
	psql_file($db, "$root/examples/adventureworks/generate.sql", vars => { sf => 1, seed => 42 });
	psql_file($db, "$root/examples/adventureworks/sources.sql");
	psql_file($db, "$root/examples/adventureworks/models.sql");
}
psql_file('postgres', "$root/examples/adventureworks/distribute.sql");
is(psql('postgres', "SELECT string_agg(logicalrelid::text || ' ' || CASE WHEN partmethod = 'h' THEN 'hash' ELSE 'reference' END, ', '
						  ORDER BY logicalrelid::text)
		   FROM pg_dist_partition WHERE logicalrelid::text ~ '^(silver|gold)[.]'"),
   'gold.dim_customers hash, gold.dim_date reference, gold.dim_products reference, gold.fact_order_items hash, gold.gld_customer_metrics hash, silver.slvr_customers hash, silver.slvr_products reference, silver.slvr_sales_orders hash',
   'the models are distributed or reference tables, as defined');
is(psql('postgres', "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partmethod = 'h' AND logicalrelid::text ~ '^(silver|gold)[.]'"),
   '1', 'the distributed ones colocated');
is(psql('postgres', "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'silver.slvr_sales_orders'::regclass"), '32',
   'with shards on the workers');

# the candidate of a distributed model is distributed too, colocated with
# it, its rows on the workers: its candidate copy, made when the model was
# defined, which a test of the model, run while the candidate exists,
# finds so
is(psql('postgres', "SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
		  WHERE c.relnamespace = 'medallion_history'::regnamespace
			AND p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'silver.slvr_sales_orders'::regclass)"),
   'fact_order_items, fact_order_items$candidate, gld_customer_metrics, gld_customer_metrics$candidate, slvr_customers, slvr_customers$candidate, slvr_sales_orders, slvr_sales_orders$candidate',
   'each distributed table and incremental model has a candidate copy and a previous version\'s, colocated with it (not the snapshot)');
psql('postgres', "SELECT medallion_add_test('gld_customer_metrics', 'sql', name => 'candidate_distributed',
		sql => 'SELECT ''no distributed candidate'' AS problem WHERE NOT EXISTS
				 (SELECT FROM pg_catalog.pg_dist_partition p
				   WHERE p.logicalrelid = pg_catalog.to_regclass(''medallion_history.\"gld_customer_metrics\$candidate\"'')
					 AND pg_catalog.pg_relation_size(p.logicalrelid) = 0
					 AND p.colocationid = (SELECT colocationid FROM pg_catalog.pg_dist_partition
											WHERE logicalrelid = ''gold.gld_customer_metrics''::regclass))')");
is(psql('postgres', "SELECT worker || ': ' || reason FROM medallion_plan('gld_customer_metrics', threads => 2)
		  WHERE model = 'gld_customer_metrics'"),
   'false: a distributed model\'s candidate is created on the workers in the run\'s transaction',
   'the plan says a distributed model is built by the run itself');

is(run_all('single'), '', 'one node: the first run builds everything');
is(run_all('postgres'), '', 'Citus: the first run builds everything');
is(psql('postgres', "SELECT status FROM medallion.test_results WHERE test = 'candidate_distributed' ORDER BY run_id DESC LIMIT 1"), 'pass',
   'the candidate of a distributed model was a distributed table, colocated, empty on the coordinator');
# what a run leaves of the candidates: their copies empty, and on no node
# another table made for a run
sub leftovers
{
	my @out;
	for my $port ($ENV{PGPORT}, @workers)
	{
		push @out, psql('postgres', "SELECT count(*) FROM pg_dist_partition
									 WHERE logicalrelid::text ~ 'medallion_(candidate|previous)_'", port => $port);
	}
	push @out, psql('postgres', "SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %s', logicalrelid),
																	   false, true, '')))[1]::text::bigint), 0)
					   FROM pg_dist_partition WHERE logicalrelid::text LIKE 'medallion_history.%\$candidate%'");
	return join(' ', @out);
}
is(leftovers(), '0 0 0 0', 'no candidate is left on any node, no row in a candidate copy');
my $single = fingerprints('single');
is(fingerprints('postgres'), $single, 'and publishes the same tables as one node');
cmp_ok(psql('postgres', "SELECT count(*) FROM gold.gld_customer_metrics"), '>', 0, 'with rows in the distributed gold table');
is(psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders"),
   psql('single', "SELECT count(*) FROM silver.slvr_sales_orders"), 'its order lines are all there');
is(psql('postgres', "SELECT pg_relation_size('silver.slvr_sales_orders')"), '0',
   'in the shards: the coordinator\'s table holds none of them');

# what users add to a published table survives runs
psql('postgres', "CREATE VIEW public.store_metrics AS SELECT customer_id, orders FROM gold.gld_customer_metrics WHERE is_store");
psql('postgres', "CREATE ROLE tap_citus_reader LOGIN IN ROLE medallion_reader");
psql('postgres', "GRANT SELECT ON gold.gld_customer_metrics TO tap_citus_reader");
psql('postgres', "ALTER TABLE gold.gld_customer_metrics ENABLE ROW LEVEL SECURITY");
psql('postgres', "CREATE POLICY stores_only ON gold.gld_customer_metrics FOR SELECT TO tap_citus_reader USING (is_store)");
my $oid = psql('postgres', "SELECT 'gold.gld_customer_metrics'::regclass::oid");
my $view = psql('postgres', "SELECT count(*) FROM public.store_metrics");

# new orders, customers and products changed: an incremental run, new
# versions in the snapshots (distributed and reference), the same on both
for my $db ('postgres', 'single')
{
	psql_file($db, "$root/examples/adventureworks/new_orders.sql");
	psql($db, "UPDATE \"Sales\".\"Customer\" SET \"TerritoryID\" = \"TerritoryID\" % 10 + 1 WHERE \"CustomerID\" % 50 = 0");
	psql($db, "UPDATE \"Production\".\"Product\" SET \"ListPrice\" = \"ListPrice\" + 1 WHERE \"ProductID\" % 10 = 0");
}
is(run_all('single'), '', 'one node: the incremental run');
is(run_all('postgres'), '', 'Citus: the incremental run');
$single = fingerprints('single');
is(fingerprints('postgres'), $single, 'publishes the same tables as one node');
cmp_ok(psql('postgres', "SELECT count(*) FROM gold.dim_customers WHERE NOT is_current"), '>', 0,
	   'the distributed snapshot closed the versions of changed customers');
cmp_ok(psql('postgres', "SELECT count(*) FROM gold.dim_products WHERE NOT is_current"), '>', 0,
	   'the reference snapshot those of changed products');
is(leftovers(), '0 0 0 0', 'no candidate or copy is left on any node');
is(psql('postgres', "SELECT 'gold.gld_customer_metrics'::regclass::oid"), $oid, 'the distributed table keeps its OID');
is(psql('postgres', "SELECT count(*) FROM public.store_metrics"), psql('postgres', "SELECT count(*) FROM gold.gld_customer_metrics WHERE is_store"),
   'the hand-made view reads the new rows');
is(psql('postgres', "SET ROLE tap_citus_reader; SELECT count(*) FILTER (WHERE NOT is_store) || ' ' || (count(*) > 0) FROM gold.gld_customer_metrics"),
   '0 true', 'the policy still limits the reader to stores');

# a failing blocking test publishes nothing of its model
my $before = psql('postgres', "SELECT count(*) || ' ' || sum(lifetime_value) FROM gold.gld_customer_metrics");
psql('postgres', "SELECT medallion_add_test('gld_customer_metrics', 'row_count', min_rows => 1000000000)");
like(run_all('postgres'), qr/^gld_customer_metrics failed: blocking test \S+ failed/, 'a failing blocking test fails the distributed model');
is(psql('postgres', "SELECT count(*) || ' ' || sum(lifetime_value) FROM gold.gld_customer_metrics"), $before, 'which publishes nothing');
is(leftovers(), '0 0 0 0', 'and leaves nothing on any node');
my $test = psql('postgres', "SELECT name FROM medallion.tests WHERE model = 'gld_customer_metrics' AND kind = 'row_count'");
psql('postgres', "SELECT medallion_drop_test('gld_customer_metrics', '$test')");
is(run_all('postgres'), '', 'without the test it builds again');

# relationships tests where Citus cannot plan a correlated NOT EXISTS:
# a distributed model run alone, tested against a published distributed
# snapshot; a local model tested against a distributed table
is(run_all_selected('fact_order_items', 'false'), '', 'the distributed fact table alone passes its relationships tests');
psql('postgres', "SELECT medallion_create_model('gld_store_customers',
		'SELECT customer_id, customer_name FROM dim_customers WHERE is_current AND is_store', layer => 'gold')");
psql('postgres', "SELECT medallion_add_test('gld_store_customers', 'relationships', column_name => 'customer_id',
		to_model => 'slvr_customers', to_column => 'customer_id')");
is(run_all_selected('gld_store_customers'), '', 'a local model tested against a distributed one passes');
psql('postgres', "SELECT medallion_create_model('gld_store_customers',
		'SELECT customer_id + 1000000 AS customer_id, customer_name FROM dim_customers WHERE is_current AND is_store',
		layer => 'gold')");
like(run_all_selected('gld_store_customers'), qr/^gld_store_customers failed: blocking test \S+ failed/,
	 'and fails when its keys are missing there');
psql('postgres', "SELECT medallion_drop_model('gld_store_customers')");

# rollback: the version kept is the one the last run replaced; make the
# last run change it (one order line fewer, on both), then roll back
my $now = psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders");
for my $db ('postgres', 'single')
{
	psql($db, "DELETE FROM \"Sales\".\"SalesOrderDetail\" WHERE \"SalesOrderDetailID\" = 121317 + 1260");
	is(run_all($db), '', "a run without one order line ($db)");
}
$single = fingerprints('single');
is(psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders"), $now - 1, 'publishes one order line fewer');
psql('postgres', "SET client_min_messages = warning; SELECT medallion_rollback('slvr_sales_orders')");
is(psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders"), $now, 'rollback brings the previous version back');
is(psql('postgres', "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'silver.slvr_sales_orders'::regclass"), '1',
   'and the table stays distributed');

# a worker down: the run fails naming it and publishes nothing
system($ctl, 'stop', $workers[0]) == 0 or die "could not stop the worker on port $workers[0]";
# (every model built: a change-aware run of unchanged inputs would read nothing)
my $out = psql('postgres', "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all', changed_only => false)",
			   ok => \my $ran);
ok(!$ran, 'with a worker down, the run fails');
like($out, qr/localhost:$workers[0]/, 'naming the node');
is(psql('postgres', "SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'failed', 'the ledger records the failed run');
system($ctl, 'start', $workers[0]) == 0 or die "could not start the worker on port $workers[0]";
psql('postgres', "SELECT recover_prepared_transactions()");
for my $port ($ENV{PGPORT}, @workers)
{
	is(psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts', port => $port),
	   '0', "no prepared transaction is left on the node on port $port");
}
is(psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders"), $now, 'nothing of the failed run was published');
is(run_all('postgres'), '', 'the next run builds everything');
is(fingerprints('postgres'), $single, 'and publishes the same tables as one node');

# a worker down while a model reads a distributed table: that model fails
# in its build, naming the node, and nothing is published
system($ctl, 'stop', $workers[1]) == 0 or die "could not stop the worker on port $workers[1]";
like(run_all_selected('gld_customer_metrics', 'false'), qr/^gld_customer_metrics failed: .*localhost:$workers[1]/,
	 'with a worker down, a model reading a distributed table fails, naming the node');
system($ctl, 'start', $workers[1]) == 0 or die "could not start the worker on port $workers[1]";
psql('postgres', "SELECT recover_prepared_transactions()");
is(fingerprints('postgres'), $single, 'nothing of it was published');

# a worker lost in the middle of the publish: a shard of the customer
# metrics on it is locked there, so that the run waits in its publish
# after the order lines and customers are copied in; the worker is then
# stopped.  The run fails naming it, nothing is published (Citus aborts
# its coordinated transaction), no prepared transaction is left once the
# node is back, and the next run publishes.
my $published = fingerprints('postgres');
psql('postgres', "DELETE FROM \"Sales\".\"SalesOrderDetail\" WHERE \"SalesOrderDetailID\" % 97 = 0");
my $shard = psql('postgres', "SELECT 'gold.gld_customer_metrics_' || s.shardid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
				   JOIN pg_dist_node n USING (groupid)
				  WHERE s.logicalrelid = 'gold.gld_customer_metrics'::regclass AND n.nodeport = $workers[0] LIMIT 1");
my $locker = psql_start('postgres', "SET citus.enable_manual_changes_to_shards = on; BEGIN; LOCK TABLE $shard IN ACCESS SHARE MODE; SELECT pg_sleep(600); COMMIT",
						port => $workers[0], timeout => 700);
my ($pout, $perr) = ('', '');
my $publishing = psql_start('postgres', "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')",
							out => \$pout, err => \$perr, timeout => 300);
wait_for('the run to wait for the shard in its publish', sub {
	psql('postgres', "SELECT count(*) FROM pg_locks
					  WHERE NOT granted AND relation = '$shard'::regclass AND mode = 'AccessExclusiveLock'",
		 port => $workers[0]) =~ /^1/ });
system($ctl, 'stop', $workers[0]) == 0 or die "could not stop the worker on port $workers[0]";
eval { finish($publishing) };
isnt($publishing->result(0), 0, 'a worker lost during the publish fails the run');
like($perr, qr/localhost:$workers[0]/, 'naming the node');
eval { finish($locker) };
is(psql('postgres', "SELECT status FROM medallion.runs ORDER BY run_id DESC LIMIT 1"), 'failed', 'the ledger records the failed run');
system($ctl, 'start', $workers[0]) == 0 or die "could not start the worker on port $workers[0]";
psql('postgres', "SELECT recover_prepared_transactions()");
is(join(' ', map { psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts', port => $_) } ($ENV{PGPORT}, @workers)),
   '0 0 0', 'no prepared transaction is left on any node');
is(fingerprints('postgres'), $published, 'nothing of that run was published, on any table');
is(leftovers(), '0 0 0 0', 'nothing of it is left on any node');
is(run_all('postgres'), '', 'the next run builds everything');
isnt(fingerprints('postgres'), $published, 'and publishes the order lines deleted');

# readers on the coordinator never see a half-published table: while runs
# publish the order lines (rows copied into the shards), a reader sees the
# old count or the new one, nothing else
my $full = psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders");
psql('postgres', "DELETE FROM \"Sales\".\"SalesOrderDetail\" WHERE \"SalesOrderDetailID\" % 100 = 0");
my $run = psql_start('postgres', "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('slvr_sales_orders')",
					 timeout => 300);
my %seen;
while ($run->pumpable)
{
	$seen{ psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders") } = 1;
	$run->pump_nb;
}
finish($run);
my $new = psql('postgres', "SELECT count(*) FROM silver.slvr_sales_orders");
cmp_ok($new, '<', $full, 'the run published fewer order lines');
is(join(',', grep { $_ ne $full && $_ ne $new } sort keys %seen), '',
   'a reader during the run saw only the old or the new count (' . join(',', sort keys %seen) . ')');

# No code a model owner who is not a superuser attached to its table, on
# any node, runs as a superuser.  The owner puts a CHECK constraint (or a
# default, a trigger, a domain) calling its own function on its published
# table; the function records, on the node where it runs, who ran it, and
# as a superuser it also writes a file (which only a superuser may).
# Distributing and undistributing the table (Citus copies its rows, and
# must run as the extension owner) are refused, naming the function and
# its owner, before any row is copied; so is undistributing it with a
# trigger on its shards only.  Runs and rollbacks write the table as its
# owner, by whoever they are started: the owner's hash-distributed model
# builds, publishes and rolls back, and the trigger on its shards (the
# attack a review found) runs as the owner.  No node ever ran the function
# as a superuser, and the owner is made a superuser on none.
my $marks = "/tmp/medallion-citus-marks-$$";
mkdir $marks or die "cannot create $marks: $!";
chmod 0777, $marks;
END { system('rm', '-rf', $marks) if defined $marks && -d $marks; }
my @nodes = ($ENV{PGPORT}, @workers);

# run sql as user on the node on port: (succeeded, output, errors)
sub sql_as
{
	my ($user, $port, $sql) = @_;
	my $err = '';
	my $out = psql('postgres', [ 'SET client_min_messages = warning', $sql ], user => $user, port => $port,
				   vars => { VERBOSITY => 'verbose' }, stdout => \my $stdout, stderr => \$err, ok => \my $ok);
	return ($ok, $out, $err);
}
sub as_alice
{
	my ($sql) = @_;
	my ($ok, $out, $err) = sql_as('tap_citus_alice', $ENV{PGPORT}, $sql);
	die "as tap_citus_alice: $sql\n$err" unless $ok;
	return $out;
}
# who ran the function on each node since the last call:
# "node: user/superuser count, ..."
sub calls
{
	my @out;
	for my $i (0 .. $#nodes)
	{
		my ($ok, $out, $err) = sql_as('postgres', $nodes[$i],
			"SELECT coalesce(string_agg(usr || '/' || su || ' ' || n, ', ' ORDER BY usr, su), 'none')
			   FROM (SELECT usr, su, count(*) AS n FROM public.tap_calls GROUP BY usr, su) c");
		die $err unless $ok;
		(sql_as('postgres', $nodes[$i], 'TRUNCATE public.tap_calls'))[0] or die "could not empty public.tap_calls";
		push @out, ($i == 0 ? 'coordinator' : "worker $i") . ": $out";
	}
	return join('; ', @out);
}
sub marks
{
	opendir(my $dh, $marks) or die "cannot read $marks: $!";
	my @files = sort grep { !/^\.\.?$/ } readdir $dh;
	closedir $dh;
	return join(' ', @files);
}

psql('postgres', "CREATE ROLE tap_citus_alice LOGIN IN ROLE medallion_admin");
psql('postgres', "CREATE SCHEMA tap_alice AUTHORIZATION tap_citus_alice");
for my $port (@nodes)
{
	my ($ok, $out, $err) = sql_as('postgres', $port,
		"CREATE TABLE public.tap_calls (port int, usr text, su text)");
	die $err unless $ok;
	(sql_as('postgres', $port, 'GRANT INSERT ON public.tap_calls TO PUBLIC'))[0] or die "could not grant on public.tap_calls";
}
as_alice(sprintf(q{CREATE FUNCTION tap_alice.checked(id bigint) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
	su boolean := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
BEGIN
	INSERT INTO public.tap_calls VALUES (pg_catalog.current_setting('port')::int, current_user, su::text);
	IF su THEN
		EXECUTE pg_catalog.format('COPY (SELECT %%L) TO %%L', current_user,
								  '%s/port-' || pg_catalog.current_setting('port'));
	END IF;
	RETURN true;
END
$f$}, $marks));
my $items = "SELECT g::bigint AS id FROM pg_catalog.generate_series(1, 100) g";
as_alice("SELECT medallion_create_model('sec_items', '$items', layer => 'silver')");
is(as_alice("SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ') FROM medallion_run('sec_items', changed_only => false)"),
   'sec_items success', 'a model of an owner who is not a superuser builds');
as_alice("ALTER TABLE silver.sec_items ADD CONSTRAINT sec_checked CHECK (tap_alice.checked(id))");
is(calls(), 'coordinator: tap_citus_alice/false 100; worker 1: none; worker 2: none',
   'its owner adds a CHECK constraint calling its own function, which runs as the owner');

# the error of a refusal to do $action on $table
sub refusal
{
	my ($action, $table) = @_;
	my $function = 'function tap_alice\.checked\(bigint\)';
	return qr/ERROR:  42501: cannot \Q$action\E: constraint "sec_checked" of table \Q$table\E uses $function, owned by role "tap_citus_alice"\nDETAIL:  That writes the table's rows as role "postgres", which would run $function with its rights; role "tap_citus_alice" is not a superuser and can change what it does\.\nHINT:  Drop the constraint "sec_checked" first and add it again afterwards, or have a superuser own $function\./;
}
my ($ok, $err);
($ok, $out, $err) = sql_as('tap_citus_alice', $ENV{PGPORT},
	"SELECT medallion_create_model('sec_items', '$items', layer => 'silver', distributed_by => 'id')");
ok(!$ok, 'distributing the table is refused');
like($err, refusal('distribute model "sec_items"', 'silver.sec_items'), 'naming the constraint, the function and its owner');
is(psql('postgres', "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'silver.sec_items'::regclass"), '0',
   'the table stays local');

# the same for the other code a table evaluates on the rows written: a
# default, a trigger, a column of a domain with a check (each in turn)
as_alice("ALTER TABLE silver.sec_items DROP CONSTRAINT sec_checked");
as_alice(q{CREATE FUNCTION tap_alice.kept() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$});
as_alice("CREATE DOMAIN tap_alice.checked_id AS bigint CHECK (tap_alice.checked(VALUE))");
for my $case (
	[ 'ALTER TABLE silver.sec_items ALTER COLUMN id SET DEFAULT (CASE WHEN tap_alice.checked(0) THEN 0 END)',
	  'ALTER TABLE silver.sec_items ALTER COLUMN id DROP DEFAULT',
	  'default of column "id" of table silver.sec_items uses function tap_alice.checked(bigint)' ],
	[ 'CREATE TRIGGER sec_kept BEFORE INSERT ON silver.sec_items FOR EACH ROW EXECUTE FUNCTION tap_alice.kept()',
	  'DROP TRIGGER sec_kept ON silver.sec_items',
	  'trigger "sec_kept" of table silver.sec_items uses function tap_alice.kept()' ],
	[ 'ALTER TABLE silver.sec_items ALTER COLUMN id TYPE tap_alice.checked_id',
	  'ALTER TABLE silver.sec_items ALTER COLUMN id TYPE bigint',
	  'column "id" of table silver.sec_items uses domain tap_alice.checked_id' ])
{
	my ($add, $drop, $what) = @$case;
	as_alice($add);
	($ok, $out, $err) = sql_as('tap_citus_alice', $ENV{PGPORT},
		"SELECT medallion_create_model('sec_items', '$items', layer => 'silver', distributed_by => 'id')");
	like($err, qr/ERROR:  42501: cannot distribute model "sec_items": \Q$what\E, owned by role "tap_citus_alice"\n/,
		 "distributing is refused: $what");
	as_alice($drop);
}
is(psql('postgres', "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'silver.sec_items'::regclass"), '0',
   'the table stays local');
calls();

# distributed without the constraint, which its owner then adds again:
# undistributing it is refused
as_alice("SELECT medallion_create_model('sec_items', '$items', layer => 'silver', distributed_by => 'id')");
as_alice("ALTER TABLE silver.sec_items ADD CONSTRAINT sec_checked CHECK (tap_alice.checked(id))");
like(calls(), qr/^coordinator: none; worker 1: tap_citus_alice\/false \d+; worker 2: tap_citus_alice\/false \d+$/,
	 'the owner adds the constraint to the distributed table, checked on the workers as the owner');
($ok, $out, $err) = sql_as('tap_citus_alice', $ENV{PGPORT},
	"SELECT medallion_create_model('sec_items', '$items', layer => 'silver')");
ok(!$ok, 'undistributing the table is refused');
like($err, refusal('undistribute model "sec_items"', 'silver.sec_items'), 'naming the constraint, the function and its owner');
is(psql('postgres', "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'silver.sec_items'::regclass"), '1',
   'the table stays distributed');

# Every statement that writes a model's Citus table in a run or a rollback
# runs as the model owner, on every node.  Its hash-distributed model
# builds, publishes and rolls back: its candidate and previous version are
# tables it owns, made when the model was defined (Citus lets one role
# write colocated shards in a transaction).
as_alice("ALTER TABLE silver.sec_items DROP CONSTRAINT sec_checked");
is(psql('postgres', "SELECT string_agg(c.relname || ' ' || pg_get_userbyid(c.relowner), ', ' ORDER BY c.relname)
		   FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
		  WHERE c.relnamespace = 'medallion_history'::regnamespace AND c.relname LIKE 'sec\_items%'
			AND p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'silver.sec_items'::regclass)"),
   'sec_items tap_citus_alice, sec_items$candidate tap_citus_alice',
   'the distributed model of an owner who is not a superuser has its candidate and previous version, colocated, the owner\'s');
is(as_alice("SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ') FROM medallion_run('sec_items', changed_only => false)"),
   'sec_items success', 'it builds and publishes');
as_alice("SELECT medallion_create_model('sec_items', 'SELECT g::bigint AS id FROM pg_catalog.generate_series(1, 50) g',
		  layer => 'silver', distributed_by => 'id')");
is(as_alice("SELECT string_agg(model || ' ' || status, ', ') FROM medallion_run('sec_items')"),
   'sec_items success', 'defined again with fewer rows, it builds and publishes');
is(psql('postgres', "SELECT count(*) FROM silver.sec_items"), '50', 'the new rows');
is(as_alice("SELECT medallion_rollback('sec_items')"), 'silver.sec_items rolled back: 100 rows', 'its owner rolls it back');
is(psql('postgres', "SELECT (SELECT count(*) FROM silver.sec_items) || ' ' || (SELECT count(*) FROM medallion_history.sec_items)"), '100 50',
   'the previous rows are published, the replaced ones kept');
is(leftovers(), '0 0 0 0', 'no candidate is left, its copy is empty');

# The attack a security review found: the owner adds a trigger to the
# shards of its table on the workers, calling a function that makes it a
# superuser when a superuser runs it (and, through tap_alice.checked,
# writes a file).  Another admin runs the model, a superuser rolls it
# back: the trigger runs as the owner on every worker, and makes nothing
# of it.  (Before, the publish and the rollback of a reference table ran
# it as the extension owner there.)
psql('postgres', "CREATE ROLE tap_citus_bob LOGIN IN ROLE medallion_admin");
as_alice(q{CREATE FUNCTION tap_alice.evil() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	IF tap_alice.checked(NEW.id) AND (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
		EXECUTE 'ALTER ROLE tap_citus_alice SUPERUSER';
	END IF;
	RETURN NEW;
END
$f$});
# the trigger on each placement of table on a worker (not the
# coordinator's, where medallion's guard ran before), as the owner, from
# the coordinator: "placements with it of all"
sub shard_trigger
{
	my ($table) = @_;
	as_alice("SELECT count(*) FROM run_command_on_placements('$table', \$c\$DO \$d\$ BEGIN
				IF pg_catalog.current_setting('port')::int <> $ENV{PGPORT} THEN
					PERFORM pg_catalog.set_config('citus.enable_manual_changes_to_shards', 'on', true);
					EXECUTE 'CREATE TRIGGER sec_evil BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION tap_alice.evil()';
				END IF;
			  END \$d\$ \$c\$)");
	my ($ok, $out, $err) = sql_as('postgres', $ENV{PGPORT},
		"SELECT count(*) FILTER (WHERE result = '1') || ' of ' || count(*) FROM run_command_on_placements('$table',
		 \$\$SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = %L::pg_catalog.regclass AND tgname = 'sec_evil'\$\$)");
	die $err unless $ok;
	return $out;
}
# is tap_citus_alice a superuser on each node?
sub superusers
{
	return join(' ', map { (sql_as('postgres', $_, "SELECT rolsuper FROM pg_roles WHERE rolname = 'tap_citus_alice'"))[1] } @nodes);
}
sub run_as
{
	my ($user, $selector) = @_;
	my ($ok, $out, $err) = sql_as($user, $ENV{PGPORT},
		"SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ' ORDER BY model)
		   FROM medallion_run('$selector', changed_only => false)");
	return $ok ? $out : $err;
}
is(shard_trigger('silver.sec_items'), '32 of 32', 'the owner puts the trigger on each shard of its distributed table');
is(run_as('tap_citus_bob', 'sec_items'), 'sec_items success', 'another admin runs the distributed model');
like(calls(), qr/^coordinator: none; worker 1: tap_citus_alice\/false \d+; worker 2: tap_citus_alice\/false \d+$/,
	 'the trigger ran on the workers as the owner');
is(superusers(), 'f f f', 'which is a superuser on no node');
psql('postgres', "SELECT medallion_rollback('sec_items')");
like(calls(), qr/^coordinator: none; worker 1: tap_citus_alice\/false \d+; worker 2: tap_citus_alice\/false \d+$/,
	 'a superuser rolls it back: the trigger ran as the owner');
is(superusers(), 'f f f', 'still no superuser on any node');

# undistributing reads the shards as the extension owner: refused, naming
# the trigger on a placement (the coordinator's table has none)
($ok, $out, $err) = sql_as('tap_citus_alice', $ENV{PGPORT},
	"SELECT medallion_create_model('sec_items', '$items', layer => 'silver')");
like($err, qr/ERROR:  42501: cannot undistribute model "sec_items": the placement of shard \d+ of table silver\.sec_items on localhost:\d+ has trigger sec_evil on table silver\.sec_items_\d+ using function tap_alice\.evil\(\), owned by role tap_citus_alice\n/,
	 'undistributing a table with the trigger on its shards is refused, naming it');
is(psql('postgres', "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'silver.sec_items'::regclass"), '1',
   'the table stays distributed');
is(calls(), 'coordinator: none; worker 1: none; worker 2: none', 'nothing ran');

# a reference model of the same owner, run twice (a previous version is
# kept), given the CHECK constraint, then the trigger on its placement on
# each worker: another admin's publish and a superuser's rollback copy
# rows into it on every node, as the owner
as_alice("SELECT medallion_create_model('sec_ref', '$items', layer => 'silver', distribution => 'reference')");
for my $n (1, 2)
{
	is(as_alice("SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ') FROM medallion_run('sec_ref', changed_only => false)"),
	   'sec_ref success', "the reference model of an owner who is not a superuser builds ($n)");
}
as_alice("ALTER TABLE silver.sec_ref ADD CONSTRAINT sec_checked CHECK (tap_alice.checked(id))");
my $everywhere = 'coordinator: tap_citus_alice/false 100; worker 1: tap_citus_alice/false 100; worker 2: tap_citus_alice/false 100';
is(calls(), $everywhere, 'the owner adds the constraint to the reference table, checked on every node as the owner');
is(run_as('tap_citus_bob', 'sec_ref'), 'sec_ref success', 'another admin publishes the reference table');
is(calls(), $everywhere, 'the constraint ran on every node as the owner');
as_alice("ALTER TABLE silver.sec_ref DROP CONSTRAINT sec_checked");
is(shard_trigger('silver.sec_ref'), '2 of 3', 'the owner puts the trigger on the placement on each worker');
my $workers_only = 'coordinator: none; worker 1: tap_citus_alice/false 100; worker 2: tap_citus_alice/false 100';
is(run_as('tap_citus_bob', 'sec_ref'), 'sec_ref success', 'another admin publishes the reference table again');
is(calls(), $workers_only, 'the trigger ran on each worker as the owner');
is(superusers(), 'f f f', 'which is a superuser on no node');
is(psql('postgres', "SELECT medallion_rollback('sec_ref')"), 'silver.sec_ref rolled back: 100 rows', 'a superuser rolls it back');
is(calls(), $workers_only, 'the trigger ran on each worker as the owner');
is(superusers(), 'f f f', 'still no superuser on any node');
is(psql('postgres', "SELECT count(*) FROM silver.sec_ref"), '100', 'the reference table has its rows');

# statistics with an expression calling the owner's lying immutable
# function: the planner folds it as the owner, who runs the publish
as_alice(q{CREATE FUNCTION tap_alice.folded() RETURNS bigint LANGUAGE sql IMMUTABLE AS $f$SELECT CASE WHEN tap_alice.checked(0) THEN 0 END$f$});
as_alice("CREATE STATISTICS tap_alice.sec_stats ON (id + tap_alice.folded()), id FROM silver.sec_ref");
is(run_as('tap_citus_bob', 'sec_ref'), 'sec_ref success', 'a statistics expression calling the owner\'s function: published');
unlike(calls(), qr/true/, 'the function ran as the owner only');
as_alice("DROP STATISTICS tap_alice.sec_stats");

# Citus lets one role write the shards of a colocation group in a
# transaction, and all reference tables are one group: a run of two
# owners' reference models builds one, and fails the other saying why
# (rather than failing its whole publish)
sql_as('tap_citus_bob', $ENV{PGPORT}, "SELECT medallion_create_model('sec_ref_bob', '$items', layer => 'silver', distribution => 'reference')");
is(run_as('tap_citus_bob', 'sec_ref_bob'), 'sec_ref_bob success', 'another owner\'s reference model builds in a run of its own');
like(run_as('postgres', 'sec_ref sec_ref_bob'),
	 qr/^sec_ref (success|failed: cannot write silver\.sec_ref as role "tap_citus_alice" in this transaction: model "sec_ref_bob" wrote its Citus colocation group as role "tap_citus_bob" \(.*\)), sec_ref_bob (success|failed: cannot write silver\.sec_ref_bob as role "tap_citus_bob" in this transaction: model "sec_ref" wrote its Citus colocation group as role "tap_citus_alice" \(.*\))$/,
	 'with the other\'s, in one run, one of them fails saying why');
like(run_as('postgres', 'sec_ref sec_ref_bob'), qr/success.*failed|failed.*success/, 'and only one');
calls();
is(superusers(), 'f f f', 'no superuser on any node');
(sql_as('tap_citus_bob', $ENV{PGPORT}, "SELECT medallion_drop_model('sec_ref_bob')"))[0] or die "could not drop sec_ref_bob";

# a superuser's distributed table with a constraint calling that function
# (added NOT VALID: nothing ran it): the run does not publish it
psql('postgres', "ALTER TABLE gold.gld_customer_metrics ADD CONSTRAINT sec_checked CHECK (tap_alice.checked(customer_id)) NOT VALID");
($ok, $out, $err) = sql_as('postgres', $ENV{PGPORT},
	"SELECT string_agg(model || ' ' || status || coalesce(': ' || message, ''), ', ') FROM medallion_run('gld_customer_metrics', changed_only => false)");
like("$out\n$err", qr/cannot copy rows into gold\.gld_customer_metrics: constraint "sec_checked" of table gold\.gld_customer_metrics uses function tap_alice\.checked\(bigint\), owned by role "tap_citus_alice"/,
	 'publishing a distributed table with the constraint is refused, whoever owns the table');
psql('postgres', "ALTER TABLE gold.gld_customer_metrics DROP CONSTRAINT sec_checked");

is(calls(), 'coordinator: none; worker 1: none; worker 2: none', 'no node ran the function for the refusals');
is(marks(), '', 'no node ever ran the function as a superuser (it wrote no file)');

as_alice("SELECT medallion_drop_model('sec_ref')");
as_alice("SELECT medallion_drop_model('sec_items')");
psql('postgres', "DROP SCHEMA tap_alice CASCADE");
for my $port (@nodes)
{
	my ($ok, $out, $err) = sql_as('postgres', $port, "DROP TABLE public.tap_calls");
	die $err unless $ok;
}
psql('postgres', "DROP ROLE tap_citus_alice");
psql('postgres', "DROP ROLE tap_citus_bob");

psql('postgres', "DROP VIEW public.store_metrics");
psql('postgres', "DROP POLICY stores_only ON gold.gld_customer_metrics");
psql('postgres', "REVOKE ALL ON gold.gld_customer_metrics FROM tap_citus_reader");
psql('postgres', "DROP ROLE tap_citus_reader");
done_testing();
