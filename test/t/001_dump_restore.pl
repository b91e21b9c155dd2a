# pg_dump of a database with models, restored into a new database, gives
# the same catalog and a working pipeline.  Runs against the cluster that
# test/run started (PGHOST, PGPORT, PGUSER, PGBIN in the environment).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $tmp = $ENV{TEST_TMP} || '/tmp';

for my $db (qw(tap_dump_src tap_dump_plain tap_dump_custom))
{
	psql('postgres', "DROP DATABASE IF EXISTS $db");
}
psql('postgres', 'CREATE DATABASE tap_dump_src');

psql_script('tap_dump_src', <<'SQL');
CREATE EXTENSION medallion;
SET client_min_messages = warning;
CREATE SCHEMA erp;
CREATE TABLE erp.customers (id int PRIMARY KEY, name text, country text);
CREATE TABLE erp.orders (id int PRIMARY KEY, customer_id int, amount numeric);
INSERT INTO erp.customers SELECT g, 'c' || g, (ARRAY['NL','DE'])[1 + g % 2] FROM generate_series(1, 50) g;
INSERT INTO erp.orders SELECT g, 1 + g % 50, g FROM generate_series(1, 500) g;
INSERT INTO medallion.layers (name, schema_name, ordinal, default_materialization, description)
VALUES ('platinum', 'platinum', 4, 'table', 'a layer of our own');
CREATE SCHEMA platinum;
SELECT medallion_create_source('erp', 'erp', tables => ARRAY['customers', 'orders']);
SELECT medallion_create_model('brnz_customers', 'SELECT id AS customer_id, name, country FROM erp.customers', layer => 'bronze');
SELECT medallion_create_model('brnz_orders', 'SELECT id AS order_id, customer_id, amount FROM erp.orders', layer => 'bronze');
SELECT medallion_create_model('slvr_sales', $$SELECT c.customer_id, c.country, sum(o.amount) AS revenue
  FROM brnz_customers c JOIN brnz_orders o USING (customer_id) GROUP BY 1, 2$$,
  layer => 'silver', tags => ARRAY['daily'], indexes => ARRAY['customer_id'],
  description => 'Sales per customer', column_descriptions => '{"revenue": "Sum of amounts"}');
SELECT medallion_create_model('gld_country', 'SELECT country, sum(revenue) AS revenue FROM slvr_sales GROUP BY 1', layer => 'gold');
SELECT medallion_create_model('plat_top', 'SELECT country FROM gld_country ORDER BY revenue DESC LIMIT 1', layer => 'platinum');
SELECT medallion_add_test('slvr_sales', 'unique', column_name => 'customer_id');
SELECT medallion_add_test('gld_country', 'accepted_values', column_name => 'country', accepted => ARRAY['NL', 'DE']);
SELECT count(*) FROM medallion_run('all');
SQL

# what must survive: the user-authored catalog, the derived one, the plan,
# the published data
my $catalog = <<'SQL';
SELECT string_agg(format('%s|%s|%s|%s', name, schema_name, ordinal, default_materialization), ',' ORDER BY name) FROM medallion.layers;
SELECT string_agg(format('%s|%s|%s|%s', name, kind, local_schema, tables), ',' ORDER BY name) FROM medallion.sources;
SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', name, layer, materialized, sql, owner,
                         search_path, tags, indexes, description, column_descriptions, version), ',' ORDER BY name)
  FROM medallion.models;
SELECT string_agg(format('%s|%s|%s|%s', model, name, kind, columns), ',' ORDER BY model, name) FROM medallion.tests;
SQL
my $derived = <<'SQL';
SELECT string_agg(format('%s|%s|%s|%s|%s', model, dep_schema, dep_name, kind, via), ',' ORDER BY 1) FROM medallion.model_dependencies;
SELECT string_agg(format('%s|%s|%s|%s|%s|%s', model, column_name, src_schema, src_relation, src_column, kind), ',' ORDER BY 1) FROM medallion.column_lineage;
SQL
my $plan = "SELECT string_agg(format('%s|%s|%s', step, wave, model), ',' ORDER BY step) FROM medallion_plan('all');\n";
my $data = <<'SQL';
SELECT string_agg(format('%s|%s', country, revenue), ',' ORDER BY country) FROM gold.gld_country;
SELECT count(*) FROM silver.slvr_sales;
SELECT obj_description('silver.slvr_sales'::regclass, 'pg_class');
SELECT has_table_privilege('medallion_reader', 'gold.gld_country', 'SELECT');
SELECT count(*) FROM pg_indexes WHERE schemaname = 'silver' AND tablename = 'slvr_sales';
SQL

my $src_catalog = psql_script('tap_dump_src', $catalog);
my $src_derived = psql_script('tap_dump_src', $derived);
my $src_plan = psql_script('tap_dump_src', $plan);
my $src_data = psql_script('tap_dump_src', $data);
like($src_catalog, qr/platinum/, 'the source database has a layer of its own');
like($src_derived, qr/slvr_sales\|bronze\|brnz_customers\|model/, 'and derived dependencies');

run_ok("$bin/pg_dump", '-d', 'tap_dump_src', '-f', "$tmp/tap_dump.sql");
run_ok("$bin/pg_dump", '-Fc', '-d', 'tap_dump_src', '-f', "$tmp/tap_dump.dump");

for my $case (['tap_dump_plain', 'plain'], ['tap_dump_custom', 'custom'])
{
	my ($db, $format) = @$case;
	psql('postgres', "CREATE DATABASE $db");
	if ($format eq 'plain')
	{
		psql_file($db, "$tmp/tap_dump.sql");
	}
	else
	{
		run_ok("$bin/pg_restore", '--exit-on-error', '-d', $db, "$tmp/tap_dump.dump");
	}

	is(psql_script($db, $catalog), $src_catalog, "$format restore: same layers, sources, models and tests");
	is(psql($db, 'SELECT count(*) FROM medallion.model_dependencies'), '0',
	   "$format restore: derived tables are not dumped");
	is(psql_script($db, $plan), $src_plan, "$format restore: the same plan (derived tables rebuilt on use)");
	is(psql_script($db, $derived), $src_derived, "$format restore: the same dependencies and column lineage");
	is(psql_script($db, $data), $src_data, "$format restore: the published data, comments, grants and indexes");

	# the pipeline works: new source data, a run, the new numbers in gold
	my $after = psql_script($db, <<'SQL');
SET client_min_messages = warning;
INSERT INTO erp.orders VALUES (1000, 1, 1000);
SELECT string_agg(status, ',') FROM medallion_run('gold');
SELECT revenue FROM gold.gld_country WHERE country = 'DE';
SQL
	like($after, qr/^success,success,success,success\n\d+/, "$format restore: a run succeeds");
	my ($before_de) = $src_data =~ /DE\|(\d+)/;
	my ($after_de) = $after =~ /\n(\d+)$/;
	is($after_de, $before_de + 1000, "$format restore: and publishes the new data");
	is(psql($db, "SELECT medallion_create_model('brnz_orders', 'SELECT id AS order_id, customer_id, amount FROM erp.orders WHERE amount > 0')"),
	   'updated', "$format restore: models can be redefined");
}

done_testing();
