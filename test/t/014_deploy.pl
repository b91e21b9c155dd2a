# medallion deploy: the flow of docs/deploy.md, command for command, with
# test/dbt/shop.  Prod gets the project; a pull request is deployed into a
# scratch database and planned (with a data diff) against prod, which it
# leaves unchanged; prod gets it.  A breaking change, a failing test and a
# bind error are refused with exit 1 and leave prod as it was (its catalog
# and a gold table's rows); a missing project and an unreachable database
# exit 2; --prune drops what left the project.  A staged deploy keeps its
# candidates (through a crash restart) until promote publishes them, after
# building what an input change in between affected; discard drops them, and
# a definition it reads changing discards it.  medallion run, test, plan
# and docs.  medallion export of the AdventureWorks pipeline deployed into a
# database with only its sources gives the same pipeline: the same models,
# tests and sources, and the same rows in every table.  Runs against the
# cluster that test/run started, with the installed tool.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IPC::Run ();
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $root = "$FindBin::Bin/../..";
my $tool = -x "$bin/medallion" ? "$bin/medallion" : "$root/tools/medallion";
my $tmp = tempdir('medallion-deploy-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $shop = "$root/test/dbt/shop";

# Run the tool (its arguments as a list, no shell): (exit status, stdout, stderr).
sub medallion
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $tool, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# A database with the extension and the shop's sources.
sub fresh_db
{
	my ($db) = @_;
	psql('postgres', "DROP DATABASE IF EXISTS $db");
	psql('postgres', "CREATE DATABASE $db");
	psql($db, 'CREATE EXTENSION medallion');
	psql_file($db, "$shop/setup.sql");
}

sub write_file
{
	my ($path, $text) = @_;
	open my $f, '>', $path or die "$path: $!";
	print $f $text;
	close $f;
}

# A copy of the shop project as a pull request would change it.
sub project
{
	my ($name, $change) = @_;
	my $dir = "$tmp/$name";
	IPC::Run::run([ 'cp', '-r', $shop, $dir ]) or die "cp failed";
	$change->($dir);
	return $dir;
}

# What prod publishes and defines, to show it did not change.
sub prod_state
{
	my ($db) = @_;
	return psql($db,
		"SELECT (SELECT string_agg(name || ' ' || version, ',' ORDER BY name) FROM medallion.models) || ' / ' "
		  . "|| (SELECT count(*) FROM medallion.tests) || ' / ' "
		  . "|| (SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM gold.fct_orders x)");
}

# Does a published table equal its model's query (its binding)?
sub equals_query
{
	my ($db, $model, $relation) = @_;
	return psql($db, "SELECT count(*) FROM ((TABLE $relation EXCEPT ALL TABLE medallion_bind.$model) "
		  . "UNION ALL (TABLE medallion_bind.$model EXCEPT ALL TABLE $relation)) d");
}

my $prod = 'tap_deploy_prod';
fresh_db($prod);

# the first deploy into prod
my ($rc, $out, $err) = medallion('deploy', $shop, '--dsn', "dbname=$prod");
is($rc, 0, 'the first deploy into prod') or diag("$out\n$err");
like($err, qr/deployed: 20 added, 0 changed, 0 removed, 20 built/, 'it says what it did');
is(equals_query($prod, 'fct_orders', 'gold.fct_orders'), 0, 'a gold table equals its query');
($rc, $out, $err) = medallion('deploy', $shop, '--dsn', "dbname=$prod");
is($rc, 0, 'deploying the same project again');
like($err, qr/deployed: 0 added, 0 changed, 0 removed, 0 built/, '... changes and builds nothing');

# 1. a pull request: stg_orders gains a column in the middle
my $pr = project('pr', sub {
	write_file("$_[0]/models/staging/stg_orders.sql",
		"select id as order_id, customer_id, upper(status) as status_code, status, ordered_at, loaded_at\n"
		  . "from {{ source('shop_raw', 'orders') }}\n");
});
my $ci = 'tap_deploy_ci_pr';
fresh_db($ci);
($rc, $out, $err) = medallion('deploy', $pr, '--dsn', "dbname=$ci");
is($rc, 0, 'CI: the pull request deploys into a scratch database') or diag("$out\n$err");
my $before = prod_state($prod);
($rc, $out, $err) = medallion('deploy', $pr, '--plan', '--diff', '--dsn', "dbname=$prod");
is($rc, 0, 'CI: the plan against prod finds nothing breaking') or diag("$out\n$err");
like($out, qr/^changed  stg_orders \(version 1 -> 2\)$/m, 'the plan names the changed definition');
like($out, qr/^\+select id as order_id, customer_id, upper\(status\) as status_code/m, '... with a SQL diff');
like($out, qr/^stg_orders\s+view\s+True\s+definition changed/m, '... what builds and why');
like($out, qr/^int_order_totals\s+table\s+True\s+input model stg_orders was redefined/m, '... the readers too');
like($out, qr/^stg_orders\s+column\s+status_code\s+added\s/m, '... the impact: the new column');
like($out, qr/^stg_orders\s+model\s+int_order_totals\s+unaffected\s/m, '... and the readers it leaves alone');
like($out, qr/== data\n.*\nstg_orders\s+0\s+0\s/, '... and the data diff: the same rows');
like($err, qr/a plan: nothing was changed/, 'the plan says it changed nothing');
is(prod_state($prod), $before, '... and prod is as it was');
is(psql($prod, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'bronze.stg_orders'::regclass AND attname = 'status_code'"),
	0, '... its view too');
psql('postgres', "DROP DATABASE $ci");

# 2. merged: dev
my $dev = 'tap_deploy_dev';
fresh_db($dev);
($rc, $out, $err) = medallion('deploy', $pr, '--dsn', "dbname=$dev");
is($rc, 0, 'dev: deployed');
($rc, $out, $err) = medallion('test', '--dsn', "dbname=$dev");
is($rc, 0, 'dev: its tests pass') or diag("$out\n$err");
psql('postgres', "DROP DATABASE $dev");

# 3. prod, then the health check
($rc, $out, $err) = medallion('deploy', $pr, '--prune', '--dsn', "dbname=$prod");
is($rc, 0, 'prod: deployed') or diag("$out\n$err");
like($err, qr/deployed: 0 added, 1 changed, 0 removed/, '... one definition changed');
is(psql($prod, "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'bronze.stg_orders'::regclass AND attnum > 0"),
	'order_id,customer_id,status,ordered_at,loaded_at,status_code', '... the view keeps its columns in place, the new one at the end');
is(equals_query($prod, 'fct_orders', 'gold.fct_orders'), 0, '... and what it publishes equals its query');
($rc, $out, $err) = medallion('test', '--dsn', "dbname=$prod");
is($rc, 0, 'prod: the health check passes');

# 4. a staged deploy to prod: built and tested now, published later in one
# commit without computing it again; what changed in between is built first
my $staged = project('staged', sub {
	write_file("$_[0]/models/staging/stg_orders.sql",
		"select id as order_id, customer_id, upper(status) as status_code, status, ordered_at, loaded_at\n"
		  . "from {{ source('shop_raw', 'orders') }}\nwhere status <> 'cancelled'\n");
});
$before = prod_state($prod);
($rc, $out, $err) = medallion('deploy', $staged, '--stage', '--dsn', "dbname=$prod");
is($rc, 0, 'staged: deploy --stage') or diag("$out\n$err");
my ($stage) = $out =~ /^staged (\d+)$/m;
ok(defined $stage, '... it names the stage');
like($out, qr/^int_order_totals\s+success\s+input model stg_orders was redefined/m, '... built what reads the change');
like($out, qr/== data\n(.*\n)*int_order_totals\s+1\s+0\s/, '... and shows the data diff: a row goes');
like($out, qr/== built when promoted [^\n]*\n(\w+\n)*int_orders_enriched\n/,
	'... and what its promote builds (an incremental model reading the change)');
like($err, qr/staged $stage: \d+ candidate\(s\) kept, nothing published; publish them with "medallion promote $stage"/,
	'... and how to publish it');
is(prod_state($prod), $before, '... prod publishes what it did');
unlike(psql($prod, "SELECT sql FROM medallion.models WHERE name = 'stg_orders'"), qr/cancelled/,
	'... and keeps its definitions: the new ones are pending');
is(psql($prod, "SELECT count(*) FROM medallion.stage_tables WHERE stage_id = $stage") > 0 ? 1 : 0, 1,
	'... the candidates are kept');
# a crash restarts the server: the stage is still there (test/run's cluster
# commits asynchronously: a checkpoint first writes what was committed)
psql('postgres', 'CHECKPOINT');
my $idle = psql_start($prod, 'SELECT pg_sleep(60)', timeout => 120);
my $idle_pid;
wait_for('an idle session', sub {
	$idle_pid = psql($prod, "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'");
	return $idle_pid =~ /^\d+$/;
});
ok(kill('KILL', $idle_pid), 'a backend killed: the server restarts');
eval { IPC::Run::finish($idle) };
wait_for('the server to come back', sub { (eval { psql('postgres', 'SELECT 1') } // '') eq '1' });
is(psql($prod, "SELECT state || ' ' || (SELECT count(*) FROM medallion.stage_tables t JOIN pg_class c ON c.oid = t.relid "
	  . "WHERE t.stage_id = $stage) FROM medallion.stages WHERE stage_id = $stage"),
	'staged ' . psql($prod, "SELECT count(*) FROM medallion.stage_tables WHERE stage_id = $stage"),
	'... the stage and its candidates survive it');
# an order comes in before the promote
psql($prod, ["INSERT INTO shop_raw.orders (id, customer_id, status, ordered_at) VALUES (9, 1, 'completed', '2026-01-06')",
	"INSERT INTO shop_raw.order_items VALUES (13, 9, 2, 3)"]);
($rc, $out, $err) = medallion('promote', $stage, '--dsn', "dbname=$prod");
is($rc, 0, 'promote') or diag("$out\n$err");
like($out, qr/^stage $stage promoted: \d+ published as staged, [1-9]\d* built again$/m,
	'... published the candidates, and built again what the new order changed');
like(psql($prod, "SELECT sql FROM medallion.models WHERE name = 'stg_orders'"), qr/cancelled/, '... the definitions are applied');
is(equals_query($prod, 'fct_orders', 'gold.fct_orders'), 0, '... a gold table equals its query, the new order included');
is(equals_query($prod, 'int_order_totals', 'silver.int_order_totals'), 0, '... and so does a silver one');
($rc, $out, $err) = medallion('promote', $stage, '--dsn', "dbname=$prod");
is($rc, 1, 'promoting it again: exit 1');
like($err, qr/stage $stage was promoted: it cannot be promoted/, '... saying why');
($rc, $out, $err) = medallion('promote', '9999', '--dsn', "dbname=$prod");
is($rc, 1, 'an unknown stage: exit 1');
($rc, $out, $err) = medallion('promote', $stage, '--dsn', 'dbname=tap_deploy_nosuch');
is($rc, 2, 'promote with an unreachable database: exit 2');

# staged, then discarded: nothing changes
my $discarded = project('discarded', sub {
	write_file("$_[0]/models/staging/stg_orders.sql",
		"select id as order_id, customer_id, upper(status) as status_code, status, ordered_at, loaded_at\n"
		  . "from {{ source('shop_raw', 'orders') }}\nwhere status <> 'returned'\n");
});
$before = prod_state($prod);
($rc, $out, $err) = medallion('deploy', $discarded, '--stage', '--dsn', "dbname=$prod");
is($rc, 0, 'another stage') or diag("$out\n$err");
($stage) = $out =~ /^staged (\d+)$/m;
($rc, $out, $err) = medallion('discard', $stage, '--dsn', "dbname=$prod");
is($rc, 0, 'discard');
like($out, qr/^stage $stage discarded: \d+ candidates? dropped$/m, '... drops its candidates');
is(prod_state($prod), $before, '... prod is as it was');
is(psql($prod, "SELECT count(*) FROM pg_class WHERE relnamespace = 'medallion_stage'::regnamespace"), 0,
	'... nothing is left in medallion_stage');

# staged, then a definition it reads changes: the stage is discarded
($rc, $out, $err) = medallion('deploy', $discarded, '--stage', '--dsn', "dbname=$prod");
is($rc, 0, 'a third stage') or diag("$out\n$err");
($stage) = $out =~ /^staged (\d+)$/m;
($rc, $out, $err) = medallion('deploy', $pr, '--dsn', "dbname=$prod");
is($rc, 0, '... then a deploy redefines stg_orders') or diag("$out\n$err");
is(psql($prod, "SELECT state || ': ' || reason FROM medallion.stages WHERE stage_id = $stage"),
	'discarded: model stg_orders was redefined after it was staged', '... which discards the stage');
($rc, $out, $err) = medallion('promote', $stage, '--dsn', "dbname=$prod");
is($rc, 1, '... its promote exits 1');
like($err, qr/stage $stage was discarded: it cannot be promoted\nDETAIL: model stg_orders was redefined after it was staged/,
	'... saying which definition changed');
psql($prod, ["DELETE FROM shop_raw.order_items WHERE id = 13", "DELETE FROM shop_raw.orders WHERE id = 9"]);
($rc, $out, $err) = medallion('deploy', $pr, '--dsn', "dbname=$prod");
is($rc, 0, 'prod is back to the pull request') or diag("$out\n$err");

# refused: a breaking change (a column the silver models read goes)
my $breaking = project('breaking', sub {
	write_file("$_[0]/models/staging/stg_orders.sql",
		"select id as order_id, customer_id, upper(status) as status_code, status, loaded_at\n"
		  . "from {{ source('shop_raw', 'orders') }}\n");
});
$before = prod_state($prod);
($rc, $out, $err) = medallion('deploy', $breaking, '--plan', '--dsn', "dbname=$prod");
is($rc, 1, 'a breaking change: the plan exits 1');
like($out, qr/^stg_orders\s+column\s+ordered_at\s+removed\s+BREAKING\s/m, '... the column, breaking');
like($out, qr/^stg_orders\s+model\s+int_order_totals\s+reads a removed column\s+BREAKING\s+reads ordered_at/m,
	'... and the model that reads it');
($rc, $out, $err) = medallion('deploy', $breaking, '--dsn', "dbname=$prod");
is($rc, 1, '... the deploy exits 1');
like($out, qr/stg_orders\s+skipped\s+model "\w+", which reads model "stg_orders", no longer binds: column \S*ordered_at\S* does not exist/,
	'... naming the reader and the column');
like($err, qr/refused, so nothing was deployed/, '... and says nothing was deployed');
is(prod_state($prod), $before, '... prod is as it was');

# a contract changed or dropped is breaking (#29): the plan says so, naming
# what the promise loses
my $contracted = sub {
	my ($type, $not_null, $enforced) = @_;
	return sub {
		write_file("$_[0]/models/marts/fct_contracted.sql",
			"{{ config(materialized='table') }}\nselect order_id, amount_euros from {{ ref('fct_orders') }}\n");
		write_file("$_[0]/models/marts/contracted.yml", "version: 2\nmodels:\n  - name: fct_contracted\n"
			  . "    config:\n      contract: {enforced: $enforced}\n    columns:\n"
			  . "      - name: order_id\n        data_type: integer\n"
			  . ($not_null ? "        constraints: [{type: not_null}]\n" : '')
			  . "      - name: amount_euros\n        data_type: $type\n");
	};
};
my $contract_db = 'tap_deploy_contract';
fresh_db($contract_db);
($rc, $out, $err) = medallion('deploy', project('contract_a', $contracted->('numeric', 1, 'true')), '--dsn', "dbname=$contract_db");
is($rc, 0, 'a model with a contract deployed') or diag("$out\n$err");
($rc, $out, $err) = medallion('deploy', project('contract_b', $contracted->('numeric', 0, 'true')), '--plan', '--dsn', "dbname=$contract_db");
is($rc, 1, 'a constraint of the contract dropped: the plan exits 1') or diag("$out\n$err");
like($out, qr/^fct_contracted\s+contract\s+order_id\s+weakened or retyped\s+BREAKING\s+drops not_null/m,
	'... naming the column and the constraint');
($rc, $out, $err) = medallion('deploy', project('contract_c', $contracted->('numeric', 1, 'false')), '--plan', '--dsn', "dbname=$contract_db");
is($rc, 1, 'the contract dropped: the plan exits 1') or diag("$out\n$err");
like($out, qr/^fct_contracted\s+contract\s+fct_contracted\s+dropped\s+BREAKING\s+the model no longer promises/m,
	'... and says so');
($rc, $out, $err) = medallion('deploy', project('contract_d', $contracted->('numeric', 1, 'true')), '--plan', '--dsn', "dbname=$contract_db");
is($rc, 0, 'the same contract: nothing breaking') or diag("$out\n$err");
psql('postgres', "DROP DATABASE $contract_db");

# refused: a failing blocking test
my $failing = project('failing', sub {
	write_file("$_[0]/tests/no_orders_at_all.sql", "select order_id from {{ ref('fct_orders') }}\n");
});
($rc, $out, $err) = medallion('deploy', $failing, '--dsn', "dbname=$prod");
is($rc, 1, 'a failing test: the deploy exits 1') or diag("$out\n$err");
like($out, qr/^fct_orders\s+failed\s/m, '... the run names the model');
like($err, qr/did not build or pass their tests, so nothing was deployed/, '... nothing was deployed');
is(prod_state($prod), $before, '... prod is as it was, its tests too');

# refused: a bind error
my $bad = project('bad', sub {
	write_file("$_[0]/models/marts/mart_top_products.sql", "select nosuch from {{ ref('stg_products') }}\n");
});
($rc, $out, $err) = medallion('deploy', $bad, '--dsn', "dbname=$prod");
is($rc, 1, 'a bind error: the deploy exits 1');
like($out, qr/mart_top_products\s+skipped\s+column "nosuch" does not exist/, '... naming the model and the error');
is(prod_state($prod), $before, '... prod is as it was');

# problems with the project or the connection: 2
($rc, $out, $err) = medallion('deploy', "$tmp/nosuch", '--dsn', "dbname=$prod");
is($rc, 2, 'a missing project: exit 2');
($rc, $out, $err) = medallion('deploy', $pr, '--dsn', 'dbname=tap_deploy_nosuch');
is($rc, 2, 'an unreachable database: exit 2');
like($err, qr/tap_deploy_nosuch.*\n.*nothing was changed/s, '... said plainly');

# --prune: a mart leaves the project
my $pruned = project('pruned', sub {
	write_file("$_[0]/models/staging/stg_orders.sql",
		"select id as order_id, customer_id, upper(status) as status_code, status, ordered_at, loaded_at\n"
		  . "from {{ source('shop_raw', 'orders') }}\n");
	unlink "$_[0]/models/marts/mart_top_products.sql" or die;
});
my $had = psql($prod, "SELECT count(*) FROM medallion.models WHERE name = 'mart_top_products'");
($rc, $out, $err) = medallion('deploy', $pruned, '--prune', '--dsn', "dbname=$prod");
is($rc, 0, '--prune: deployed') or diag("$out\n$err");
is(psql($prod, "SELECT count(*) FROM medallion.models WHERE name = 'mart_top_products'") . ' '
	  . psql($prod, "SELECT to_regclass('gold.mart_top_products') IS NULL"), '0 t',
	"... the model that left the project is dropped (it had $had)");

# run, test, plan, docs
($rc, $out, $err) = medallion('run', 'fct_orders', '--dsn', "dbname=$prod");
is($rc, 0, 'medallion run');
like($out, qr/^fct_orders\s+(success|up_to_date)\s/m, '... a line per model');
like($err, qr/\[1\/1\] (OK|UP TO DATE) gold\.fct_orders/, '... with the progress lines');
($rc, $out, $err) = medallion('plan', '--dsn', "dbname=$prod");
is($rc, 0, 'medallion plan');
like($out, qr/^\d+\s+\d+\s+fct_orders\s+table\s/m, '... the steps');
like($out, qr/^step\s+wave\s+model\s+materialized\s+build\s+why\s+tests\s+maintain$/m,
	'... with when each test runs and how each table model is brought up to date');
like($out, qr/^\d+\s+\d+\s+fct_orders\s+table\s.*\b(incremental|full):/m,
	'... fct_orders says how');
($rc, $out, $err) = medallion('docs', '--dsn', "dbname=$prod");
like($out, qr/^<!DOCTYPE html>/, 'medallion docs: the page');
($rc, $out, $err) = medallion('run', 'nosuch_model', '--dsn', "dbname=$prod");
is($rc, 2, 'medallion run of a selector that names nothing: exit 2');
psql($prod, "UPDATE shop_raw.customers SET country = 'XX' WHERE id = 1");
($rc, $out, $err) = medallion('test', 'stg_customers', '--dsn', "dbname=$prod");
is($rc, 1, 'medallion test with a failing test: exit 1');
like($out, qr/^stg_customers\s+\S*country_code\S*\s+accepted_values\s+fail\s/m, '... naming it');
psql('postgres', "DROP DATABASE $prod");

# export: the AdventureWorks pipeline, deployed where only its sources are,
# is the same pipeline
my ($aw1, $aw2) = ('tap_deploy_aw1', 'tap_deploy_aw2');
for my $db ($aw1, $aw2)
{
	psql('postgres', "DROP DATABASE IF EXISTS $db");
	psql('postgres', "CREATE DATABASE $db");
	psql($db, 'CREATE EXTENSION medallion');
	psql_file($db, "$root/examples/adventureworks/generate.sql", vars => { sf => 1, seed => 42 });
}
psql_file($aw1, "$root/examples/adventureworks/sources.sql");
psql_file($aw1, "$root/examples/adventureworks/models.sql");
psql($aw1, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')");
# a unit test of a model reading a source's table, and one reading a model
my ($unit_model, $unit_input) = split /\|/, psql($aw1, "SELECT m.name, d.dep_name FROM medallion.models m "
	. "JOIN medallion.model_dependencies d ON d.model = m.name AND d.via = '' AND d.kind = 'model' "
	. "WHERE m.materialized = 'table' ORDER BY 1, 2 LIMIT 1");
psql($aw1, "SELECT medallion_add_unit_test('$unit_model', 'nothing_in_nothing_out', "
	. "given => jsonb_build_object('$unit_input', '[]'::jsonb), expect => '[]', description => 'no rows, no rows')");
($rc, $out, $err) = medallion('export', "$tmp/aw", '--dsn', "dbname=$aw1");
is($rc, 0, 'export') or diag("$out\n$err");
like($err, qr/13 models, 73 tests, 3 sources, 1 unit tests written/, '... every model, test, source and unit test');
($rc, $out, $err) = medallion('deploy', "$tmp/aw", '--dsn', "dbname=$aw2");
is($rc, 0, '... deployed into a database with only the sources') or diag("$out\n$err");
my %catalog = (
	models => "SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', name, layer, materialized, "
	  . "btrim(sql, E' \\n'), unique_key, indexes, array(SELECT t FROM unnest(tags) t WHERE t NOT LIKE 'dbt_project_%' ORDER BY 1), "
	  . "description, column_descriptions, on_schema_change, statement_timeout, strategy, watermark, lookback, "
	  . "snapshot_strategy, updated_at_column, check_columns, hard_deletes), E'\\n' ORDER BY name) FROM medallion.models",
	tests => "SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', model, name, kind, columns, "
	  . "accepted, to_model, to_relation, to_column, expression, min_rows, max_rows, extract(epoch FROM max_age), btrim(sql, E' \\n'), severity, "
	  . "warn_if, error_if, store_failures), E'\\n' ORDER BY model, name) FROM medallion.tests",
	sources => "SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', name, kind, local_schema, tables, freshness_column, "
	  . "warn_after, error_after, description), E'\\n' ORDER BY name) FROM medallion.sources",
	unit_tests => "SELECT string_agg(format('%s|%s|%s|%s|%s|%s', model, name, given, expect, incremental, "
	  . "regexp_replace(description, '^dbt project \\w+: ', '')), "
	  . "E'\\n' ORDER BY model, name) FROM medallion.unit_tests");
for my $what (sort keys %catalog)
{
	is(psql($aw2, $catalog{$what}), psql($aw1, $catalog{$what}), "... the same $what");
}
# every table model's rows (a snapshot's: its query's columns and is_current;
# valid_from is when it was taken)
for my $row (split /\n/, psql($aw1, "SELECT format('%I.%I', l.schema_name, m.name) || ' ' || m.materialized "
	  . "FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer "
	  . "WHERE m.materialized IN ('table', 'incremental', 'snapshot') ORDER BY 1"))
{
	my ($relation, $kind) = split / /, $row;
	my $rows = $kind eq 'snapshot'
	  ? "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM (SELECT (to_jsonb(x) - 'scd_id' - 'valid_from' - 'valid_to') AS r FROM $relation x) y"
	  : "SELECT count(*) || ' ' || md5(string_agg(x::text, ',' ORDER BY x::text)) FROM $relation x";
	is(psql($aw2, $rows), psql($aw1, $rows), "... the same rows in $relation");
}
psql('postgres', "DROP DATABASE $_") for ($aw1, $aw2);

done_testing();
