# Logical replication: a table kept current by a subscription is tracked
# (its apply worker fires row triggers only: medallion_changes_row, enabled
# REPLICA, logs each applied transaction).  Two databases of the cluster
# (test/run starts it with wal_level = logical): the publisher's insert,
# update, delete and truncate each make the subscriber's model build, and
# what it publishes equals its query after each.
use strict;
use warnings;
use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my ($pub, $sub) = ('tap_repl_pub', 'tap_repl_sub');
my $wal_level = psql('postgres', 'SHOW wal_level');
plan skip_all => "wal_level is $wal_level: logical replication needs logical" if $wal_level ne 'logical';

for my $db ($sub, $pub)
{
	psql('postgres', "DROP DATABASE IF EXISTS $db");
	psql('postgres', "CREATE DATABASE $db");
}
psql_script($pub, <<'SQL');
CREATE TABLE public.orders (id int PRIMARY KEY, region text, amount numeric);
INSERT INTO public.orders SELECT g, CASE WHEN g % 2 = 0 THEN 'n' ELSE 's' END, g FROM generate_series(1, 10) g;
CREATE PUBLICATION orders_pub FOR TABLE public.orders;
SELECT pg_create_logical_replication_slot('tap_repl_slot', 'pgoutput');
SQL
my $host = $ENV{PGHOST};
my $port = $ENV{PGPORT};
my $user = $ENV{PGUSER} || 'postgres';
psql_script($sub, <<"SQL");
CREATE EXTENSION medallion;
CREATE TABLE public.orders (id int PRIMARY KEY, region text, amount numeric);
SELECT medallion_create_model('repl_by_region',
  'SELECT region, sum(amount) AS amount, count(*) AS orders FROM public.orders GROUP BY region', layer => 'gold');
CREATE SUBSCRIPTION orders_sub CONNECTION 'host=$host port=$port dbname=$pub user=$user'
  PUBLICATION orders_pub WITH (create_slot = false, slot_name = 'tap_repl_slot');
SQL

is(psql_script($sub, "SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger
					WHERE tgrelid = 'public.orders'::regclass AND tgname LIKE 'medallion_changes%'"),
   'medallion_changes=A,medallion_changes_row=R', 'the subscribed table has both triggers');
wait_for('the initial copy', sub { psql_script($sub, 'SELECT count(*) FROM public.orders') eq '10' });

my $exact = q{SELECT count(*) FROM (
	(SELECT region, amount, orders FROM gold.repl_by_region
	 EXCEPT ALL SELECT region, sum(amount), count(*) FROM public.orders GROUP BY region)
	UNION ALL
	(SELECT region, sum(amount), count(*) FROM public.orders GROUP BY region
	 EXCEPT ALL SELECT region, amount, orders FROM gold.repl_by_region)) d};
my $run = q{SELECT status FROM medallion_run('repl_by_region')};

is(psql_script($sub, $run), 'success', 'first run builds');
is(psql_script($sub, $run), 'up_to_date', 'a second run finds nothing new');

# each kind of write on the publisher, applied on the subscriber
my @writes = (
	['insert', 'INSERT INTO public.orders VALUES (11, \'n\', 1100)', '11'],
	['update', 'UPDATE public.orders SET amount = amount * 2 WHERE id <= 3', '11'],
	['delete', 'DELETE FROM public.orders WHERE id IN (4, 5)', '9'],
	['truncate', 'TRUNCATE public.orders', '0'],
	['insert after truncate', 'INSERT INTO public.orders VALUES (20, \'w\', 5)', '1'],
);
for my $w (@writes)
{
	my ($what, $sql, $rows) = @$w;
	my $sum = psql_script($pub, "$sql; SELECT coalesce(sum(amount), 0) FROM public.orders");
	wait_for("the $what to be applied",
			 sub { psql_script($sub, 'SELECT count(*) || \'/\' || coalesce(sum(amount), 0) FROM public.orders') eq "$rows/$sum" });
	is(psql_script($sub, $run), 'success', "a replicated $what makes the model build");
	is(psql_script($sub, $exact), '0', "and what it publishes equals its query after the $what");
	is(psql_script($sub, $run), 'up_to_date', "then it is up to date");
}

psql_script($sub, 'ALTER SUBSCRIPTION orders_sub DISABLE; ALTER SUBSCRIPTION orders_sub SET (slot_name = NONE); DROP SUBSCRIPTION orders_sub');
psql_script($pub, "SELECT pg_drop_replication_slot('tap_repl_slot')");
for my $db ($sub, $pub)
{
	psql('postgres', "DROP DATABASE $db");
}
done_testing();
