# Months of runs against autovacuum at its most aggressive: 300 parallel
# runs (threads => 2) of a pipeline with tests, while a writer changes the
# sources and autovacuum wakes every second with every threshold at 0.
# No run may fail, none may deadlock, and what is published at the end is
# what the same SQL gives by hand.  Candidates, staging tables and kept
# versions are created with autovacuum_enabled = false for this reason: an
# autovacuum worker analyzing a committed worker candidate could wait on the
# run's transaction while the run waited for it (issue 14).
use strict;
use warnings;
use Test::More;
use IPC::Run qw(finish);
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_autovacuum';
my $runs = 300;

my @aggressive = (
	"autovacuum_naptime = '1s'",
	'autovacuum_vacuum_threshold = 0',
	'autovacuum_analyze_threshold = 0',
	'autovacuum_vacuum_scale_factor = 0',
	'autovacuum_analyze_scale_factor = 0',
	'autovacuum_vacuum_insert_threshold = 0',
	'autovacuum_vacuum_insert_scale_factor = 0',
	'autovacuum_vacuum_cost_delay = 0');

sub restore_settings
{
	for my $setting (@aggressive)
	{
		my ($name) = split / = /, $setting;
		eval { psql('postgres', "ALTER SYSTEM RESET $name") };
	}
	eval { psql('postgres', 'SELECT pg_reload_conf()') };
}

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql_script($db, <<'SQL');
CREATE EXTENSION medallion;
CREATE TABLE public.customers (id int PRIMARY KEY, country text NOT NULL);
CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric NOT NULL);
INSERT INTO public.customers SELECT g, 'c' || (g % 7) FROM generate_series(1, 500) g;
INSERT INTO public.orders SELECT g, 1 + g % 500, g % 100 FROM generate_series(1, 5000) g;
SELECT medallion_create_model('av_customers', 'SELECT id AS customer_id, country FROM public.customers', layer => 'bronze');
SELECT medallion_create_model('av_orders', 'SELECT id AS order_id, customer_id, amount FROM public.orders', layer => 'bronze');
SELECT medallion_create_model('av_customer_sales',
	'SELECT c.customer_id, c.country, count(o.order_id) AS orders, coalesce(sum(o.amount), 0) AS revenue
	   FROM av_customers c LEFT JOIN av_orders o USING (customer_id) GROUP BY 1, 2', layer => 'silver');
SELECT medallion_create_model('av_big_orders',
	'SELECT order_id, customer_id, amount FROM av_orders WHERE amount > 50', layer => 'silver');
SELECT medallion_create_model('av_country_sales',
	'SELECT country, sum(revenue) AS revenue, sum(orders) AS orders FROM av_customer_sales GROUP BY 1', layer => 'gold');
SELECT medallion_create_model('av_top_customers',
	'SELECT customer_id, count(*) AS big_orders FROM av_big_orders GROUP BY 1', layer => 'gold');
SELECT medallion_add_test('av_customer_sales', 'unique', column_name => 'customer_id');
SELECT medallion_add_test('av_customer_sales', 'not_null', column_name => 'country');
SELECT medallion_add_test('av_big_orders', 'relationships', column_name => 'customer_id',
	to_model => 'av_customer_sales', to_column => 'customer_id');
SELECT medallion_add_test('av_country_sales', 'row_count', min_rows => 7, max_rows => 7);
SELECT medallion_add_test('av_top_customers', 'expression', expression => 'big_orders > 0');
SQL

psql('postgres', "ALTER SYSTEM SET $_") for @aggressive;
psql('postgres', 'SELECT pg_reload_conf()');
END { restore_settings() if defined $db; }

my $vacuums_before = psql($db, "SELECT sum(autovacuum_count + autoanalyze_count) FROM pg_stat_all_tables");

# the writer: a source row changes every 20 ms, each change committed
my $writer = psql_start($db,
	"DO \$\$ BEGIN FOR i IN 1..1000000 LOOP
		UPDATE public.orders SET amount = (amount + 1) % 100 WHERE id = 1 + (random() * 4999)::int;
		UPDATE public.customers SET country = 'c' || ((random() * 6)::int) WHERE id = 1 + (random() * 499)::int;
		COMMIT; PERFORM pg_sleep(0.02); END LOOP; END \$\$", timeout => 900);

# the runs: one session, each run its own transaction
my $script = "SELECT count(*) FROM medallion_run('all', threads => 2, changed_only => false);\n" x $runs;
my $output = psql_script($db, $script, on_error_stop => 0, ok => \my $ran);

psql($db, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE 'DO %'");
eval { finish($writer) };
my $vacuums_after = psql($db, "SELECT sum(autovacuum_count + autoanalyze_count) FROM pg_stat_all_tables");

my $errors = join("\n", grep { /ERROR|DETAIL/ } split /\n/, $output);
unlike($errors, qr/deadlock/, 'no run met a deadlock');
is($errors, '', 'no run raised an error');
is(psql($db, "SELECT count(*) FROM medallion.runs"), $runs, "$runs runs are in the ledger");
is(psql($db, "SELECT count(*) FROM medallion.runs WHERE status <> 'success'"), '0', 'every run succeeded')
	or diag(psql($db, "SELECT string_agg(run_id || ' ' || status || ' ' || coalesce(message, ''), '; ') FROM medallion.runs WHERE status <> 'success'"));
is(psql($db, "SELECT count(*) FROM medallion.run_models WHERE status <> 'success'"), '0', 'every step succeeded')
	or diag(psql($db, "SELECT string_agg(model || ' ' || status || ' ' || coalesce(message, ''), '; ') FROM medallion.run_models WHERE status <> 'success'"));
cmp_ok(psql($db, "SELECT count(*) FROM medallion.run_models WHERE worker"), '>', 0, 'steps were built in workers');
cmp_ok($vacuums_after - $vacuums_before, '>', 50, 'autovacuum worked all along ('
	  . ($vacuums_after - $vacuums_before) . ' vacuums and analyzes)');

# the last run's tables are the same SQL by hand, on the sources as they are
# now that the writer has stopped
psql($db, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')");
is(psql($db, "SELECT count(*) FROM (TABLE silver.av_customer_sales EXCEPT
		   SELECT c.id, c.country, count(o.id), coalesce(sum(o.amount), 0)
			 FROM public.customers c LEFT JOIN public.orders o ON o.customer_id = c.id GROUP BY 1, 2) d"),
   '0', 'the published silver table is its SQL by hand');
is(psql($db, "SELECT count(*) FROM (TABLE gold.av_country_sales EXCEPT
		   SELECT c.country, sum(o.amount), count(o.id)
			 FROM public.customers c LEFT JOIN public.orders o ON o.customer_id = c.id GROUP BY 1) d"),
   '0', 'and so is the gold one');
# (the previous versions runs discarded, d_<OID>, wait there for the next tidy)
is(psql($db, "SELECT count(*) FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace AND relname !~ '^d_'"), '0',
   'no candidate is left behind');

restore_settings();
psql('postgres', "DROP DATABASE $db");
undef $db;
done_testing();
