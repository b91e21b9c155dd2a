# medallion-dbt: importing dbt projects as they are.  test/dbt/shop (16
# models over three layers, sources with freshness, a seed, a snapshot, an
# incremental model, macros, vars, loops, 55 tests) is imported, run and
# checked against results worked out by hand; a dry run changes nothing;
# re-importing changes nothing; a changed model is the one update; --prune
# drops what left the project.  test/dbt/tsql_sales (T-SQL) imports what
# translates and reports the rest.  Bad projects import nothing, and
# neither do projects whose templates reach for Python's internals
# (test/dbt/escape: each payload refused with its file and line), nor
# projects that reach for files outside them (a seed linked out, seed-paths
# absolute or with '..').  A role that may not create schemas in the
# database loads seeds into a schema that is there.  Runs against the
# cluster that test/run started, with the installed tool.
use strict;
use warnings;
use Test::More;
use File::Path qw(remove_tree);
use IPC::Run ();
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_dbt';
my $root = "$FindBin::Bin/../..";
my $tmp = $ENV{TEST_TMP} || '/tmp';
my $tool = -x "$bin/medallion-dbt" ? "$bin/medallion-dbt" : "$root/tools/medallion-dbt";
my $dsn = "dbname=$db";

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql($db, "CREATE EXTENSION medallion");
psql_file($db, "$root/test/dbt/shop/setup.sql");
# the T-SQL project in a database of its own (both projects have a stg_orders)
my $tsql_db = 'tap_dbt_tsql';
psql('postgres', "DROP DATABASE IF EXISTS $tsql_db");
psql('postgres', "CREATE DATABASE $tsql_db");
psql($tsql_db, "CREATE EXTENSION medallion");
psql_file($tsql_db, "$root/test/dbt/tsql_sales/setup.sql");

# Run the tool (its arguments as a list, no shell); returns (exit status,
# stdout, stderr).
sub dbt
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $tool, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# The report's lines of one kind and status, as "name" strings.
sub report
{
	my ($out, $kind, $status) = @_;
	return [ map { /^\Q$kind\E\s+(.*?)\s+\Q$status\E\b/ ? $1 : () } split /\n/, $out ];
}

my $shop = "$root/test/dbt/shop";

# A test of a model by the start of its name (long names end in a hash).
my %tests;
sub test_of
{
	my ($model, $start) = @_;
	my @found = grep { /^\Q$model.$start\E/ } sort keys %tests;
	return @found == 1 ? $tests{ $found[0] } : "found @found";
}
my $models = "SELECT count(*) FROM medallion.models";

# --- a dry run prints the SQL and changes nothing ---------------------------
my ($status, $out, $err) = dbt('import', $shop, '--dsn', $dsn, '--dry-run');
is($status, 0, 'dry run: exit 0') or diag($err);
like($out, qr/SELECT medallion_create_model\(name => 'fct_orders'/, 'dry run: prints medallion_create_model');
like($out, qr/SELECT medallion_add_test\(/, 'dry run: prints medallion_add_test');
like($out, qr/SELECT medallion_create_source\('shop_raw'/, 'dry run: prints medallion_create_source');
like($out, qr/COPY seeds\.country_codes FROM STDIN/, 'dry run: prints the COPY of the seed');
like($err, qr/a dry run: what it ran was rolled back/, 'dry run: says it rolled back');
is(psql($db, $models), 0, 'dry run: no model was created');
is(psql($db, "SELECT to_regclass('seeds.country_codes') IS NULL"), 't', 'dry run: no seed table');

# --- the import ----------------------------------------------------------------
($status, $out, $err) = dbt('import', $shop, '--dsn', $dsn);
is($status, 0, 'import: exit 0') or diag($out, $err);
is(scalar @{ report($out, 'model', 'created') }, 19, '19 models created');
is_deeply(report($out, 'snapshot', 'created'), ['snap_customers'], 'the snapshot created');
is(scalar @{ report($out, 'test', 'created') }, 55, '55 tests created');
is_deeply(report($out, 'seed', 'created'), ['country_codes'], 'the seed created');
is_deeply([ sort @{ report($out, 'source', 'created') } ], [ 'shop_raw', 'shop_seeds' ], 'two sources');
is_deeply(report($out, 'model', 'disabled'), ['mart_status_overview'], 'a disabled model is reported, not imported');
is_deeply(report($out, 'test', 'disabled'), ['stg_order_items.item_id: not_null'], 'a disabled test too');
is(psql($db, $models), 20, '20 models in medallion (and the snapshot)');

# the mappings, as medallion recorded them
is(psql($db, "SELECT layer || ' ' || materialized FROM medallion.models WHERE name = 'stg_orders'"), 'bronze view',
	'staging is bronze, views');
is(psql($db, "SELECT layer || ' ' || materialized FROM medallion.models WHERE name = 'int_order_totals'"), 'silver table',
	'intermediate is silver, tables');
is(psql($db, "SELECT layer || ' ' || materialized || ' ' || on_schema_change FROM medallion.models WHERE name = 'fct_orders'"),
	'gold table append_new_columns', 'marts are gold, with the folder configs');
is(psql($db, "SELECT materialized || ' ' || watermark || ' ' || lookback || ' ' || strategy || ' ' || unique_key::text "
	  . "FROM medallion.models WHERE name = 'int_orders_enriched'"),
	'incremental loaded_at 01:00:00 merge {order_id}', 'the incremental model: watermark and lookback from its is_incremental() block');
is(psql($db, "SELECT on_schema_change FROM medallion.models WHERE name = 'int_orders_enriched'"),
	'ignore', 'an incremental model that does not say gets dbt\'s on_schema_change, ignore');
is(psql($db, "SELECT layer || ' ' || materialized || ' ' || snapshot_strategy || ' ' || updated_at_column || ' ' || hard_deletes "
	  . "FROM medallion.models WHERE name = 'snap_customers'"),
	'silver snapshot timestamp updated_at invalidate', 'the snapshot');
is(psql($db, "SELECT tags::text FROM medallion.models WHERE name = 'mart_top_products'"), '{dbt_project_shop,marts,top}',
	'tags: the folder, the config() call and the project');
is(psql($db, "SELECT description FROM medallion.models WHERE name = 'fct_orders'"),
	'One row per order that earned revenue (completed or shipped), with its amount in euros.', 'a doc() description');
is(psql($db, "SELECT column_descriptions->>'amount_euros' FROM medallion.models WHERE name = 'fct_orders'"),
	'What the customer paid, in euros', 'column descriptions');
like(psql($db, "SELECT sql FROM medallion.models WHERE name = 'int_order_status_counts'"),
	qr/count\(\*\) filter \(where status = 'returned'\) as returned_orders/, 'a macro with a loop over a var');
like(psql($db, "SELECT sql FROM medallion.models WHERE name = 'fct_orders'"),
	qr/round\(amount_cents \/ 100\.0, 2\) as amount_euros.*status in \('completed', 'shipped'\)/s, 'a macro and a var');
like($out, qr/^model\s+int_items_log\s+created\s+incremental without a watermark.*imported as a table$/m,
	'an incremental model without a watermark: a table, and the report says so');
is(psql($db, "SELECT materialized || ' ' || watermark || ' ' || lookback FROM medallion.models WHERE name = 'int_orders_by_day'"),
	'incremental ordered_at 2 days', 'a watermark from meta.medallion');
like(psql($db, "SELECT sql FROM medallion.models WHERE name = 'int_items_log'"),
	qr/\(i\.quantity \* p\.price_cents\)::bigint as amount_cents.*join bronze\.stg_products p/s,
	'adapter.dispatch and return(), ref(package, model)');
like(psql($db, "SELECT sql FROM medallion.models WHERE name = 'stg_order_statuses'"),
	qr/'EUR' as currency,\s+'dev' as target_name\s+from \(values \('cancelled'\), \('completed'\), \('returned'\), \('shipped'\)\)/,
	'run_query, env_var with its default, target');
is(psql($db, "SELECT freshness_column || ' ' || warn_after || ' ' || error_after FROM medallion.sources WHERE name = 'shop_raw'"),
	'loaded_at 12:00:00 1 day', 'source freshness');
is(psql($db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'seeds.country_codes'::regclass AND attname = 'code'"),
	'character(2)', 'the seed column_types');
%tests = map { my ($k, $v) = split /\|/, $_, 2; ($k => $v) } split /\n/, psql($db,
	"SELECT model || '.' || name, kind || ' ' || coalesce(array_to_string(columns, ','), '') || ' ' || severity "
  . "|| coalesce(' to ' || to_model || '.' || to_column, '') || coalesce(' accepted ' || array_to_string(accepted, ','), '') "
  . "|| coalesce(' expr ' || expression, '') || coalesce(' rows ' || min_rows || '-' || max_rows, '') "
  . "|| coalesce(' age ' || max_age, '') || CASE WHEN store_failures THEN ' stored' ELSE '' END "
  . "|| CASE WHEN warn_if <> '> 0' THEN ' warn_if ' || warn_if ELSE '' END FROM medallion.tests");
is(test_of('stg_order_items', 'stg_order_items_dbt_utils_unique_combin'), 'unique order_id,product_id error',
	'dbt_utils.unique_combination_of_columns: unique on both');
is(test_of('stg_orders', 'stg_orders_status_accepted_values'), 'accepted_values status warn accepted completed,shipped,cancelled,returned',
	'accepted_values with severity warn');
is(test_of('stg_orders', 'stg_orders_dbt_utils_recency'), 'freshness loaded_at error age 2 days', 'dbt_utils.recency: freshness');
is(test_of('stg_orders', 'stg_orders_dbt_expectations_expect_tabl'),
	'row_count  error rows 1-1000', 'expect_table_row_count_to_be_between: row_count');
is(test_of('stg_customers', 'stg_customers_country_code_relationship'), 'relationships country_code error to stg_countries.country_code',
	'relationships to a model');
is(test_of('stg_customers', 'stg_customers_country_code_accepted_val'), 'accepted_values country_code error accepted NL,DE,FR,BE',
	'accepted_values from a Jinja list');
is(test_of('fct_orders', 'fct_orders_amount_euros_dbt_utils_expre'), 'expression  warn expr amount_euros < 1000 warn_if > 1',
	'dbt_utils.expression_is_true on a column, with severity and warn_if');
is(test_of('int_product_sales', 'int_product_sales_units_sold_positive'), 'sql  error stored', 'a custom generic test with store_failures: sql');
is(test_of('int_orders_enriched', 'int_orders_enriched_country_code_not_nu'), 'sql  error', 'not_null with where: sql');
like(psql($db, "SELECT sql FROM medallion.tests WHERE model = 'stg_orders' AND name = 'stg_orders_order_id_positive'"),
	qr/^select \* from \(SELECT \* FROM bronze\.stg_orders WHERE status <> 'cancelled'\) dbt_subquery where order_id <= 0$/,
	'a custom generic test with where reads the rows the where selects');
is(test_of('fct_daily_revenue', 'assert_daily_revenue_matches_orders'), 'sql  error', 'a singular test on the model it reads');
is(test_of('stg_products', 'stg_products_price_cents_dbt_utils_acce'), 'expression  error expr ("price_cents" IS NULL OR ("price_cents" >= 1 AND "price_cents" <= 100000))'
	=~ s/"//gr, 'dbt_utils.accepted_range: expression');

# --- the run, and what it published ------------------------------------------
is(psql($db, "SET client_min_messages = warning; SELECT string_agg(DISTINCT status, ',') FROM medallion_run('all')"),
	'success', 'every model builds');
is(psql($db, "SELECT sum(tests_failed + tests_warned) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs)"),
	0, 'every test passes');
is(psql($db, "SELECT string_agg(country_code || '=' || revenue_euros, ' ' ORDER BY country_code) FROM gold.mart_country_revenue"),
	'BE=0 DE=149.00 FR=0.00 NL=103.50', 'revenue by country');
is(psql($db, "SELECT string_agg(product_name || '=' || revenue_euros, ' ' ORDER BY rank) FROM gold.mart_top_products"),
	'Desk=120.00 Lamp=75.00 Mug=32.00', 'the top 3 products');
is(psql($db, "SELECT string_agg(customer_name || '=' || orders || '/' || lifetime_euros, ' ' ORDER BY customer_id) FROM gold.dim_customers"),
	'Ann=2/36.00 Bob=1/126.00 Cas=2/67.50 Dee=0/0.00 Eve=1/23.00', 'customers');
is(psql($db, "SELECT string_agg(day || '=' || revenue_euros, ' ' ORDER BY day) FROM gold.fct_daily_revenue"),
	'2026-01-01=11.00 2026-01-02=151.00 2026-01-03=16.00 2026-01-04=23.00 2026-01-05=51.50', 'daily revenue');
is(psql($db, "SELECT string_agg(customer_id || ':' || completed_orders || shipped_orders || cancelled_orders || returned_orders, ' ' "
	  . "ORDER BY customer_id) FROM silver.int_order_status_counts"),
	'1:2000 2:0101 3:1100 4:0010 5:1000', 'order counts per status');
is(psql($db, "SELECT count(*) FROM silver.snap_customers"), 5, 'the snapshot holds every customer');

# --- again: nothing changes --------------------------------------------------
($status, $out, $err) = dbt('import', $shop, '--dsn', $dsn);
is($status, 0, 're-import: exit 0');
like($out, qr/^2 disabled, 78 unchanged$/m, 're-import: everything unchanged');

# --- --vars, and a seed that changed --------------------------------------------------
($status, $out, $err) = dbt('import', $shop, '--dsn', $dsn, '--vars', '{top_n: 2}');
is_deeply(report($out, 'model', 'updated'), ['mart_top_products'], '--vars: the model using the var is updated');
is(psql($db, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('mart_top_products'); "
	  . "SELECT count(*) FROM gold.mart_top_products"), "1\n2", '--vars: two products');
($status, $out, $err) = dbt('import', $shop, '--dsn', $dsn);
is_deeply(report($out, 'model', 'updated'), ['mart_top_products'], 'without --vars: the project\'s value again');

# --- a changed model, and a model that left the project ----------------------
my $copy = "$tmp/dbt_shop_copy";
remove_tree($copy);
system('cp', '-r', $shop, $copy) == 0 or die "cannot copy $shop";
open my $fh, '>>', "$copy/models/marts/fct_daily_revenue.sql" or die;
print $fh "having count(*) > 0\n";
close $fh;
($status, $out, $err) = dbt('import', $copy, '--dsn', $dsn);
is($status, 0, 'a change: exit 0');
like($out, qr/^2 disabled, 77 unchanged, 1 updated$/m, 'a change: one update');
is_deeply(report($out, 'model', 'updated'), ['fct_daily_revenue'], 'the changed model');

open $fh, '>>', "$copy/seeds/country_codes.csv" or die;
print $fh "LU,Luxembourg,west\n";
close $fh;
($status, $out, $err) = dbt('import', $copy, '--dsn', $dsn);
is_deeply(report($out, 'seed', 'updated'), ['country_codes'], 'a changed seed is loaded again');
is(psql($db, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('mart_country_revenue'); "
	  . "SELECT count(*) FROM gold.mart_country_revenue"), "1\n5", 'in place: the models reading it see the new row');

unlink "$copy/models/marts/mart_top_products.sql";
my $yml = do { local (@ARGV, $/) = ("$copy/models/marts/marts.yml"); <> };
$yml =~ s/  - name: mart_top_products.*//s;
open $fh, '>', "$copy/models/marts/marts.yml" or die;
print $fh $yml;
close $fh;
($status, $out, $err) = dbt('import', $copy, '--dsn', $dsn, '--prune');
is($status, 0, 'prune: exit 0') or diag($out, $err);
is_deeply(report($out, 'model', 'dropped'), ['mart_top_products'], 'prune: the model that left is dropped');
is(psql($db, "SELECT to_regclass('gold.mart_top_products') IS NULL AND NOT EXISTS (SELECT FROM medallion.models WHERE name = 'mart_top_products')"),
	't', 'prune: its table and catalog row are gone');
is(psql($db, "SELECT count(*) FROM medallion.tests WHERE model = 'mart_top_products'"), 0, 'prune: its tests too');

# --- T-SQL --------------------------------------------------------------------------
my $tsql_dsn = "dbname=$tsql_db";
my $before = psql($tsql_db, $models);
($status, $out, $err) = dbt('import', "$root/test/dbt/tsql_sales", '--dsn', $tsql_dsn);
is($status, 1, 'T-SQL with skips: exit 1');
like($out, qr/^model\s+region_pivot\s+skipped\s+T-SQL could not be translated/m, 'PIVOT is reported as not translated');
like($out, qr/^model\s+customer_codes\s+skipped\s+function str\(integer\) does not exist/m,
	'a translation PostgreSQL refuses is reported with its error');
like($err, qr/rolled back: nothing was imported/, 'the import was rolled back');
is(psql($tsql_db, $models), $before, 'nothing was imported');
($status, $out, $err) = dbt('import', "$root/test/dbt/tsql_sales", '--dsn', $tsql_dsn, '--allow-partial');
is($status, 0, 'T-SQL with --allow-partial: exit 0');
is(psql($tsql_db, "SELECT string_agg(name, ',' ORDER BY name) FROM medallion.models WHERE 'dbt_project_tsql_sales' = ANY (tags)"),
	'customer_labels,region_sales,stg_customers,stg_orders,top_customers', 'what translates is imported');
is(psql($tsql_db, "SET client_min_messages = warning; SELECT string_agg(DISTINCT status, ',') FROM medallion_run('all')"),
	'success', 'and runs');
is(psql($tsql_db, "SELECT string_agg(region || '=' || round(net, 2) || '/' || orders, ' ' ORDER BY region) FROM gold.region_sales"),
	'north=145.13/2 south=70.00/1 unknown=20.50/1', 'ISNULL, CONVERT, GETDATE translated');
is(psql($tsql_db, "SELECT string_agg(name || '=' || total, ' ' ORDER BY total DESC) FROM gold.top_customers"),
	'Acme=150.13 Bolt=80.00', 'TOP 2 translated');
is(psql($tsql_db, "SELECT string_agg(label || '/' || code, ' ' ORDER BY customer_id) FROM gold.customer_labels"),
	'north-Acme/101 south-Bolt/102 unknown-Crux/103', 'string + string is ||, number + number +');

# --- T-SQL over tables with SQL Server's names and case (test/dbt/tsql_case) --------
my $case_db = 'tap_dbt_tsql_case';
psql('postgres', "DROP DATABASE IF EXISTS $case_db");
psql('postgres', "CREATE DATABASE $case_db");
psql($case_db, "CREATE EXTENSION medallion");
psql_file($case_db, "$root/test/dbt/tsql_case/setup.sql");
my $tsql_case = "$root/test/dbt/tsql_case";
($status, $out, $err) = dbt('import', $tsql_case, '--dsn', "dbname=$case_db", '--dialect', 'postgres');
is($status, 1, 'tsql_case read as PostgreSQL: exit 1');
like($out, qr/^model\s+stg_orders\s+skipped\s+syntax error at or near "\[" \(this is T-SQL: --dialect tsql translates it\)$/m,
	'tsql_case read as PostgreSQL: the error names --dialect tsql');
like($out, qr/^model\s+biggest_order\s+skipped\s+syntax error at or near "APPLY" \(this is T-SQL: --dialect tsql translates it\)$/m,
	'tsql_case read as PostgreSQL: CROSS APPLY too');
like($out, qr/^model\s+person_orders\s+skipped\s+relation "sales\.customer" does not exist \(the database has "Sales"\."Customer": SQL Server's names\? --dialect tsql matches names without case\)$/m,
	'tsql_case read as PostgreSQL: a name the database has in another case is said');
($status, $out, $err) = dbt('import', $tsql_case, '--dsn', "dbname=$case_db");
is($status, 1, 'tsql_case: one model is ambiguous, exit 1');
like($out, qr/^project\s+tsql_case\s+note\s+T-SQL, translated to PostgreSQL: requirements\.txt installs dbt-sqlserver/m,
	'tsql_case: T-SQL found in the requirements, and said');
like($out, qr/^model\s+person_orders\s+skipped\s+column personid is ambiguous: it matches "PersonID" and "PersonId"/m,
	'tsql_case: a name matching two spellings is skipped naming both');
($status, $out, $err) = dbt('import', $tsql_case, '--dsn', "dbname=$case_db", '--allow-partial');
is($status, 0, 'tsql_case: --allow-partial, exit 0') or diag($out, $err);
is(psql($case_db, "SELECT string_agg(name, ',' ORDER BY name) FROM medallion.models"),
	'biggest_order,customer_orders,date_math,online_customers,stg_customers,stg_orders,stg_people', 'tsql_case: the rest is imported');
is(psql($case_db, "SELECT string_agg(model || ' ' || kind || ' ' || array_to_string(columns, ',') || coalesce(expression, ''), '; ' "
	  . "ORDER BY model, name) FROM medallion.tests"),
	'customer_orders accepted_values online_orders; customer_orders unique personid; '
	. 'stg_orders expression COALESCE(total_due, 0) > 0 OR online_order_flag = TRUE; '
	. 'stg_people not_null PersonId; stg_people unique PersonId',
	'tsql_case: tests name the columns as the models spell them; a T-SQL expression is translated');
is(psql($case_db, "SELECT local_schema || ' ' || array_to_string(tables, ',') || ' ' || freshness_column FROM medallion.sources "
	  . "WHERE name = 'sales'"), 'Sales Customer,SalesOrderHeader ModifiedDate',
	'tsql_case: the source names schema, tables and loaded_at_field as the catalog spells them');
like(psql($case_db, "SELECT sql FROM medallion.models WHERE name = 'stg_customers'"),
	qr/SELECT "CustomerID" AS customer_id, "PersonID" AS "personid", "StoreID" AS store_id, "AccountNumber" AS account_number FROM "Sales"\."Customer"$/,
	'tsql_case: personid is "PersonID" and keeps its name; WITH (NOLOCK) is dropped');
like(psql($case_db, "SELECT sql FROM medallion.models WHERE name = 'customer_orders'"),
	qr/SUM\(CASE WHEN o\.online_order_flag = TRUE THEN .*online_order_flag = FALSE THEN 1 ELSE 0 END\)/,
	'tsql_case: a bit compared with 1 and 0 is a boolean compared with true and false');
is(psql($case_db, "SELECT string_agg(status, ',') FROM medallion_check_sources() WHERE source = 'sales'"), 'pass',
	'tsql_case: the freshness check reads "ModifiedDate"');
is(psql($case_db, "SET client_min_messages = warning; SELECT string_agg(DISTINCT status, ',') FROM medallion_run('all')"),
	'success', 'tsql_case: it runs');
is(psql($case_db, "SELECT string_agg(customer_id || ':' || coalesce(personid::text, '-') || ' ' || orders || '/' || online_orders "
	  . "|| '/' || online_due || '/' || offline_orders || '/' || any_online, ' ' ORDER BY customer_id) FROM gold.customer_orders"),
	'1:101 2/1/100.00/1/1 2:102 1/1/25.50/0/1 3:- 1/0/0/1/0', 'tsql_case: the bits counted, summed and compared');
is(psql($case_db, "SELECT string_agg(customer_id || ':' || person_id, ' ' ORDER BY customer_id) FROM gold.online_customers"),
	'1:101 2:102', 'tsql_case: TOP, and PersonID of a model of the project');
is(psql($case_db, "SELECT string_agg(customer_id || '=' || biggest_due, ' ' ORDER BY customer_id) FROM gold.biggest_order"),
	'1=100.00 2=25.50 3=70.00', 'tsql_case: CROSS APPLY is a lateral join');
is(psql($case_db, "SELECT days || ' ' || weeks || ' ' || months || ' ' || years || ' ' || hours FROM gold.date_math"),
	'1 4 1 1 1', 'tsql_case: DATEDIFF counts boundaries, as SQL Server does');
is(psql($case_db, "SELECT weekday || ' ' || week || ' ' || yearmonth || ' ' || names FROM gold.date_math"),
	'1 2 202401 January Sunday', 'tsql_case: DATEPART, YEAR, MONTH and DATENAME as SQL Server numbers and names');
is(psql($case_db, "SELECT sum(tests_failed + tests_warned) FROM medallion.run_models"), 0, 'tsql_case: its tests pass');
($status, $out, $err) = dbt('import', $tsql_case, '--dsn', "dbname=$case_db", '--allow-partial');
like($out, qr/^1 note, 1 skipped, 14 unchanged$/m, 'tsql_case: a re-import changes nothing');

# --- shapes of real projects (test/dbt/edge) -----------------------------------
my $edge_db = 'tap_dbt_edge';
psql('postgres', "DROP DATABASE IF EXISTS $edge_db");
psql('postgres', "CREATE DATABASE $edge_db");
psql($edge_db, "CREATE EXTENSION medallion");
psql_file($edge_db, "$root/test/dbt/edge/setup.sql");
my $edge = "$root/test/dbt/edge";
($status, $out, $err) = dbt('import', $edge, '--dsn', "dbname=$edge_db");
is($status, 1, 'edge: a Python model is a skip');
like($out, qr/^model\s+payment_totals\s+skipped\s+no layer: the folder reporting names none/m,
	'edge: a folder that names no layer is said so');
($status, $out, $err) = dbt('import', $edge, '--dsn', "dbname=$edge_db", '--allow-partial', '--layer-map', 'reporting=silver');
is($status, 0, 'edge: --allow-partial, --layer-map: exit 0') or diag($out, $err);
like($out, qr/^model\s+forecast\s+skipped\s+Python models are not supported$/m, 'edge: the Python model is reported');
like($out, qr/^model\s+legacy\s+disabled\b/m, 'edge: enabled from a var, in Jinja');
like($out, qr/^model\s+legacy_model_gone\s+ignored\s+models\/staging\/sources.yml describes it/m,
	'edge: properties of a model with no file are reported, as dbt warns');
is_deeply(report($out, 'test', 'unsupported'), [ 'currencies.code: unique', 'edge_raw.payments: dbt_utils.recency' ],
	'edge: a test of a source other than not_null, unique, accepted_values, relationships and a test of a seed are reported');
is(psql($edge_db, "SELECT kind || ': ' || sql FROM medallion.tests WHERE model = 'stg_payments' AND name = 'edge_raw_payments_id_unique'"),
	'sql: SELECT id FROM edge_raw.payments WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1',
	'edge: a unique test of a source column, on the model that reads it');
is(psql($edge_db, "SELECT string_agg(name || ' ' || layer || ' ' || materialized, ', ' ORDER BY name) FROM medallion.models"),
	'a_first gold table, payment_kpis gold table, payment_totals silver table, stg_payments bronze view',
	'edge: a schema that is no layer falls back to the folder; a materialization written in Jinja');
like(psql($edge_db, "SELECT sql FROM medallion.models WHERE name = 'stg_payments'"),
	qr/now\(\) as loaded_at,\s+'bronze\.stg_payments' as built_as, 'view' as materialized_as/,
	'edge: dbt.current_timestamp(), this, config.get()');
like(psql($edge_db, "SELECT sql FROM medallion.models WHERE name = 'payment_totals'"),
	qr/status = 'failed' then round\(amount_cents::numeric \/ 100, 2\).*as paid_euros,\s+6 as six/s,
	'edge: run_query on a model of the project, a macro calling one of another file, return() in a macro a macro calls');
is(psql($edge_db, "SELECT count(*) FROM medallion.tests WHERE model = 'stg_payments' AND kind = 'accepted_values'"), 2,
	'edge: two accepted_values tests on one column stay two');
like(psql($edge_db, "SELECT sql FROM medallion.tests WHERE name = 'stg_payments_user_not_null'"),
	qr/AND NOT \("user" IS NOT NULL\)/, 'edge: a reserved word as a column is quoted');
is(psql($edge_db, "SET client_min_messages = warning; SELECT string_agg(status, ',') FROM medallion_run('all')"),
	'success,success,success,success', 'edge: it runs');
is(psql($edge_db, "SELECT paid_euros || ' ' || six FROM gold.payment_kpis"), '12.00 6', 'edge: what it published');
is(psql($edge_db, "SELECT max_id || ' ' || paid_euros || ' ' || label FROM gold.a_first"), '3 12.00 cents: 1250',
	'edge: a model whose run_query hid what it reads is imported after it; a package macro calls its own unqualified');
like(psql($edge_db, "SELECT sql FROM medallion.tests WHERE name = 'stg_payments_amount_cents_not_null'"),
	qr/WHERE \(id > 0\) AND NOT/, 'edge: a where written as Jinja is rendered');

# --prune never drops a model something else reads
psql($edge_db, "SELECT medallion_create_model('handmade', 'SELECT paid_euros FROM gold.payment_kpis', 'gold')");
my $edge_copy = "$tmp/dbt_edge_copy";
remove_tree($edge_copy);
system('cp', '-r', $edge, $edge_copy) == 0 or die "cannot copy $edge";
unlink "$edge_copy/models/marts/payment_kpis.sql";
($status, $out, $err) = dbt('import', $edge_copy, '--dsn', "dbname=$edge_db", '--allow-partial', '--layer-map', 'reporting=silver', '--prune');
like($out, qr/^model\s+payment_kpis\s+skipped\s+left the project, but could not be dropped/m,
	'prune: a model another model reads is not dropped, and the report says why');
is(psql($edge_db, "SELECT count(*) FROM medallion.models WHERE name IN ('payment_kpis', 'handmade')"), 2,
	'prune: both are still there');

# --- a plain project: models at the top of models/, names in another case -------
my $plain_db = 'tap_dbt_plain';
psql('postgres', "DROP DATABASE IF EXISTS $plain_db");
psql('postgres', "CREATE DATABASE $plain_db");
psql($plain_db, "CREATE EXTENSION medallion");
psql_file($plain_db, "$root/test/dbt/plain/setup.sql");
($status, $out, $err) = dbt('import', "$root/test/dbt/plain", '--dsn', "dbname=$plain_db");
is($status, 0, 'plain: exit 0') or diag($out, $err);
is_deeply([ map { /^(\w+)\s+(.*?)\s+not imported\s+(.*)$/ ? "$1 $2: $3" : () } split /\n/, $out ], [
	'snapshot stores_history: a snapshot written in YAML (dbt 1.9) is not read; write it as a {% snapshot %} block (models/semantic.yml)',
	'semantic_model sales_semantic: dbt\'s semantic layer (MetricFlow) has no medallion equivalent (models/semantic.yml)',
	'metric revenue: dbt\'s semantic layer (MetricFlow) has no medallion equivalent (models/semantic.yml)',
	'saved_query revenue_by_store: dbt\'s semantic layer (MetricFlow) has no medallion equivalent (models/semantic.yml)',
	'exposure weekly_dashboard: it documents a use downstream of the project; medallion keeps none (models/semantic.yml)',
	'group finance: medallion has no groups (who reads a model is the layer\'s grants) (models/semantic.yml)',
	'analysis top_store: an analysis is SQL dbt compiles and never runs (analyses/top_store.sql)' ],
	'plain: what is not imported is named, with the reason');
like($out, qr/^unit test\s+store_ranking: ranks_by_total\s+created$/m, 'plain: its unit test is imported');
is(psql($plain_db, "SELECT status FROM medallion_test('store_ranking', unit => true)"), 'pass', 'plain: and passes');
is(psql($plain_db, "SELECT string_agg(name || ' ' || layer, ', ' ORDER BY name) FROM medallion.models"),
	'calendar silver, sales bronze, store_ranking gold, store_region_sales gold, store_sales silver, stores bronze',
	'plain: models at the top of models/ placed by the DAG (sources only: bronze; read by none: gold; else silver); '
	. 'config(schema=\'SILVER\') through the project\'s generate_schema_name');
like($out, qr/^model\s+store_sales\s+created\s+layer silver: at the top of models\/, and it reads models and models read it/m,
	'plain: the report says where and why');
like($out, qr/^model\s+stores\s+created\s+.*the description of region left out: the model has no such column \(dbt ignores it\)$/m,
	'plain: a description of a column the model lacks is left out, with a note');
is(psql($plain_db, "SELECT column_descriptions::text FROM medallion.models WHERE name = 'stores'"),
	'{"storeid": "The store\'s number", "modifieddate": "When the row last changed"}',
	'plain: StoreID and ModifiedDate describe storeid and modifieddate');
is(psql($plain_db, "SELECT string_agg(model || ':' || kind || ':' || coalesce(array_to_string(columns, ','), '') "
	  . "|| coalesce(':' || to_model || '.' || to_column, ''), ' ' ORDER BY model, kind) FROM medallion.tests WHERE kind <> 'sql'"),
	'store_ranking:unique:storeid,rnk store_sales:relationships:storeid:stores.storeid stores:not_null:storeid stores:unique:storeid',
	'plain: tests and their arguments on the folded names');
is(psql($plain_db, "SELECT freshness_column FROM medallion.sources WHERE name = 'raw_shop'"), 'modifieddate',
	'plain: loaded_at_field ModifiedDate is the column modifieddate');
is(psql($plain_db, "SELECT string_agg(status, ',') FROM medallion_check_sources() WHERE source = 'raw_shop' "
	  . "AND coalesce(message, '') NOT LIKE 'test %'"), 'pass',
	'plain: and the freshness check runs');
is(psql($plain_db, "SELECT string_agg(substring(message FROM '^test (\\S+)') || ' ' || status, ', ' ORDER BY message) "
	  . "FROM medallion_check_sources() WHERE source = 'raw_shop' AND message LIKE 'test %'"),
	'raw_shop_stores_name_accepted_values warn, raw_shop_stores_storeid_not_null pass, raw_shop_stores_storeid_unique pass',
	'plain: the tests of the source run on the source itself (its test with a where only on the models reading it)');
is(psql($plain_db, "SET client_min_messages = warning; SELECT string_agg(DISTINCT status, ',') FROM medallion_run('all')"),
	'success', 'plain: it runs');
is(psql($plain_db, "SELECT string_agg(name || '=' || total || '#' || rnk, ' ' ORDER BY rnk) FROM gold.store_ranking"),
	'North=150.50#1 South=120.00#2 East=20.00#3', 'plain: what it published');
is(psql($plain_db, "SELECT string_agg(model || ' ' || tests_failed || '/' || tests_warned, ', ') FROM medallion.run_models "
	  . "WHERE tests_failed + tests_warned > 0"), 'stores 0/1',
	'plain: every test passes but the source test of severity warn, which warns (East is not accepted)');
is(psql($plain_db, "SELECT string_agg(model || '.' || name || ' ' || severity || ': ' || sql, '; ' ORDER BY name) FROM medallion.tests "
	  . "WHERE name LIKE 'raw_shop%'"),
	"sales.raw_shop_sales_storeid_relationships error: SELECT f.* FROM raw_shop.sales f WHERE f.storeid IS NOT NULL AND (amount > 0) "
	. "AND NOT EXISTS (SELECT FROM raw_shop.stores t WHERE t.storeid = f.storeid); "
	. "stores.raw_shop_stores_name_accepted_values warn: SELECT * FROM raw_shop.stores WHERE name IS NOT NULL AND name::text NOT IN ('North', 'South'); "
	. "stores.raw_shop_stores_storeid_not_null error: SELECT * FROM raw_shop.stores WHERE storeid IS NULL; "
	. "stores.raw_shop_stores_storeid_unique error: SELECT storeid FROM raw_shop.stores WHERE storeid IS NOT NULL GROUP BY storeid HAVING count(*) > 1",
	'plain: tests of a source are sql tests reading it, on the models that read it, with their severity and where');
like($out, qr/^test\s+raw_shop\.stores: dbt_utils\.recency\s+unsupported\s+a test of a source is imported when it is one of not_null, unique, accepted_values, relationships/m,
	'plain: another test of a source is reported unsupported');
like($out, qr/^seed\s+store_regions\s+created.*\nsource\s+plain_seeds_ref_data\s+created.*\nsource\s+raw_shop\s+created.*\nsource\s+ref_data\s+created/m,
	'plain: the seed and its source, then the sources (one names the seed\'s schema)');
is(psql($plain_db, "SELECT count(*) FROM ref_data.store_regions"), 3,
	'plain: the seed is in its +schema, as the project\'s generate_schema_name says (ref_data)');
is(psql($plain_db, "SELECT string_agg(name || ' ' || local_schema, ', ' ORDER BY name) FROM medallion.sources"),
	'plain_seeds_ref_data ref_data, raw_shop raw_shop, ref_data ref_data', 'plain: the sources');
is(psql($plain_db, "SELECT string_agg(day::text, ' ' ORDER BY day) FROM silver.calendar"),
	'2026-01-01 2026-01-02 2026-01-03 2026-01-04', 'plain: a date spine from statement() and load_result()');
is(psql($plain_db, "SELECT string_agg(region || '=' || total, ' ' ORDER BY total DESC) FROM gold.store_region_sales"),
	'north=150.50 south=120.00 east=20.00', 'plain: a model reading the seed by ref() and by its source');
($status, $out, $err) = dbt('import', "$root/test/dbt/plain", '--dsn', "dbname=$plain_db");
like($out, qr/^7 not imported, 22 unchanged, 2 unsupported$/m, 'plain: a re-import changes nothing');
($status, $out, $err) = dbt('import', "$root/test/dbt/plain", '--dsn', "dbname=$plain_db", '--layer-map', '(top)=silver');
is($status, 1, 'plain: --layer-map (top)=silver would move the models: a skip') or diag($out, $err);
like($out, qr/^model\s+sales\s+skipped\s+cannot move model "sales" from layer "bronze" to layer "silver"/m,
	'plain: --layer-map (top)=silver places the models at the top in silver');
($status, $out, $err) = dbt('import', "$root/test/dbt/plain", '--dsn', "dbname=$plain_db", '--default-layer', 'platinum');
is($status, 2, 'plain: --default-layer naming no layer: exit 2');
like($err, qr/--default-layer: platinum is not a layer \(the layers: bronze, silver, gold\)/, 'plain: and says so');

# --- bad projects: a clear message, nothing imported -----------------------
$before = psql($db, $models);
my %bad = (
	no_project => [ 2, qr/no dbt_project\.yml \(is this a dbt project\?\)/ ],
	jinja_error => [ 2, qr/models\/broken\.sql:4: Unexpected end of template/ ],
	missing_ref => [ 1, qr/ref\("no_such_model"\) names no model, seed or snapshot of the project/ ],
	cycle => [ 2, qr/the models form a cycle: cycle_a -> cycle_b -> cycle_c -> cycle_a/ ],
	materialization => [ 1, qr/materialization "materialized_view" has no medallion equivalent/ ],
	seed_type => [ 1, qr/column code: "text\); DROP TABLE seeds\.other; --" is not a type name/ ],
	run_query_commit => [ 2, qr/models\/staging\/ends_it\.sql:2: run_query\("commit"\) ended the transaction the import runs in: what ran before it may have been committed, also in a dry run/ ],
);
for my $case (sort keys %bad)
{
	($status, $out, $err) = dbt('import', "$root/test/dbt/bad/$case", '--dsn', $dsn);
	is($status, $bad{$case}[0], "$case: exit $bad{$case}[0]");
	like($out . $err, $bad{$case}[1], "$case: the message says why");
	is(psql($db, $models), $before, "$case: nothing imported");
}

# --- an imported project renders in a sandbox --------------------------------
# Each test/dbt/escape/cases/CASE is laid over test/dbt/escape/project: a
# model, a macro (called, run when loaded, of a package), a test (generic,
# singular), a snapshot or a YAML value (schema.yml, sources, dbt_project.yml)
# reaching for os through Python's internals, to create the file named by
# $ESCAPE_MARKER.  Without the sandbox 21 of them do (the format strings only
# read).  Each is refused, or finds nothing there, with its file and line;
# nothing is imported; the file is not created; a dry run commits nothing.
my $refused = 'refused \(templates render in a sandbox\)';
my %escape = (
	generic_test => [ 2, 'tests/generic/stamp.sql:4', "unsafe access to attribute __class__ of str $refused" ],
	macro_called => [ 2, 'macros/stamp.sql:3', "unsafe access to attribute __init__ of class Cycler $refused" ],
	macro_top_level => [ 2, 'macros/load.sql:3', "unsafe access to attribute __globals__ of function $refused" ],
	model_attr_filter => [ 2, 'models/staging/escape_stamp.sql:3', "unsafe access to attribute __init__ of class Namespace $refused" ],
	model_config_class => [ 2, 'models/staging/escape_stamp.sql:3', "unsafe access to attribute __class__ of ConfigProxy $refused" ],
	model_connection => [ 1, 'models/staging/escape_stamp.sql:2', q{'(?:\w+\.)*ConfigProxy object' has no attribute 'renderer'} ],
	model_format => [ 2, 'models/staging/escape_stamp.sql:3', "unsafe access to attribute __class__ of str $refused" ],
	model_format_map => [ 2, 'models/staging/escape_stamp.sql:3', "unsafe access to attribute __globals__ of function $refused" ],
	model_globals => [ 2, 'models/staging/escape_stamp.sql:2', "unsafe access to attribute __init__ of class Cycler $refused" ],
	model_import_subprocess => [ 2, 'models/staging/escape_stamp.sql:2', "unsafe access to attribute __init__ of TemplateReference $refused" ],
	model_is_defined => [ 2, 'models/staging/escape_stamp.sql:2', "unsafe access to attribute __init__ of class Joiner $refused" ],
	model_modules => [ 1, 'models/staging/escape_stamp.sql:3', q{'(?:\w+\.)*SafeModule object' has no attribute 'sys'} ],
	model_self_context => [ 2, 'models/staging/escape_stamp.sql:3', "unsafe access to attribute _TemplateReference__context of TemplateReference $refused" ],
	model_set_chain => [ 2, 'models/staging/escape_stamp.sql:3', "unsafe access to attribute __globals__ of function $refused" ],
	model_subclasses => [ 2, 'models/staging/escape_stamp.sql:2', "unsafe access to attribute __class__ of str $refused" ],
	package_macro => [ 2, 'dbt_packages/helpers/macros/helpers.sql:3', "unsafe access to attribute __init__ of class Joiner $refused" ],
	project_yml => [ 2, 'dbt_project.yml:6', "unsafe access to attribute __globals__ of function $refused" ],
	singular_test => [ 2, 'tests/escape_check.sql:3', "unsafe access to attribute __init__ of class Cycler $refused" ],
	snapshot => [ 2, 'snapshots/escape_snap.sql:6', "unsafe access to attribute __globals__ of function $refused" ],
	yml_block => [ 2, 'models/staging/schema.yml:6', "unsafe access to attribute __init__ of class Joiner $refused" ],
	yml_description => [ 2, 'models/staging/schema.yml:4', "unsafe access to attribute __init__ of class Cycler $refused" ],
	yml_source => [ 2, 'models/staging/sources.yml:4', "unsafe access to attribute __init__ of class Cycler $refused" ],
	yml_test_where => [ 2, 'models/staging/schema.yml:9', "unsafe access to attribute __init__ of class Namespace $refused" ],
);
my @cases = sort map { m{/([^/]+)$} } glob("$root/test/dbt/escape/cases/*");
is_deeply(\@cases, [ sort keys %escape ], 'escape: every case of test/dbt/escape/cases is checked');
$before = psql($db, $models);
for my $case (@cases)
{
	my ($want, $where, $message) = @{ $escape{$case} };
	my $dir = "$tmp/dbt_escape_$case";
	remove_tree($dir);
	system('cp', '-r', "$root/test/dbt/escape/project", $dir) == 0 or die "cannot copy the escape project";
	system('cp', '-r', "$root/test/dbt/escape/cases/$case/.", $dir) == 0 or die "cannot copy the escape case $case";
	for my $dry ('', '--dry-run')
	{
		my $how = $dry ? "$case, dry run" : $case;
		local $ENV{ESCAPE_MARKER} = "$tmp/dbt_escape_marker_$case" . ($dry ? '_dry' : '');
		unlink $ENV{ESCAPE_MARKER};
		($status, $out, $err) = dbt('import', $dir, '--dsn', $dsn, $dry || ());
		is($status, $want, "escape $how: exit $want");
		like($out . $err, qr/\Q$where\E: $message/, "escape $how: the message names $where");
		ok(!-e $ENV{ESCAPE_MARKER}, "escape $how: the payload's file was not created");
		is(psql($db, $models), $before, "escape $how: nothing imported");
	}
}
is(psql($db, "SELECT to_regclass('public.escape_committed') IS NULL"), 't',
	'escape: the connection is out of reach: a dry run commits nothing');

# --- files outside the project are not read ------------------------------------
# A seed linked to a file outside the project (as ~/.pgpass was in the
# review) and seed-paths outside it: refused with the file and the rule,
# exit 2, nothing imported, no table holds the secret.
my $secret = "$tmp/dbt_outside/pgpass";
my $confined = "$tmp/dbt_confined";
remove_tree("$tmp/dbt_outside", $confined);
mkdir $_ or die "cannot make $_" for ("$tmp/dbt_outside", $confined, "$confined/seeds");
open $fh, '>', $secret or die;
print $fh "host,password\nlocalhost,s3cret\n";
close $fh;
symlink($secret, "$confined/seeds/creds.csv") or die "cannot link: $!";
$before = psql($db, $models);
my %outside = (
	link => [ '', qr{seeds/creds\.csv: a symbolic link to \S*dbt_outside/pgpass, outside the project \(medallion-dbt reads a project's files only inside its directory\)} ],
	absolute => [ "seed-paths: ['$tmp/dbt_outside']\n", qr{dbt_project\.yml: seed-paths: "\Q$tmp\E/dbt_outside" is an absolute path} ],
	dotdot => [ "seed-paths: ['seeds/../../dbt_outside']\n", qr{dbt_project\.yml: seed-paths: "seeds/\.\./\.\./dbt_outside" climbs out with "\.\."} ],
);
for my $case (sort keys %outside)
{
	open $fh, '>', "$confined/dbt_project.yml" or die;
	print $fh "name: confined\n$outside{$case}[0]";
	close $fh;
	for my $dry ('', '--dry-run')
	{
		($status, $out, $err) = dbt('import', $confined, '--dsn', $dsn, $dry || ());
		is($status, 2, "outside $case$dry: exit 2");
		like($err, $outside{$case}[1], "outside $case$dry: the message names the file and the rule");
		unlike($out . $err, qr/s3cret/, "outside $case$dry: the secret is not shown");
		is(psql($db, $models), $before, "outside $case$dry: nothing imported");
		is(psql($db, "SELECT count(*) FROM pg_class WHERE relname IN ('creds', 'pgpass')"), 0, "outside $case$dry: no table of it");
	}
}

# --- a role without CREATE on the database loads seeds into a schema that is there
# CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
# schema exists: it ended the import with a traceback (review finding 2).
my $seed_db = 'tap_dbt_seedrole';
psql('postgres', "DROP DATABASE IF EXISTS $seed_db");
psql('postgres', "DROP ROLE IF EXISTS tap_dbt_importer");
psql('postgres', "CREATE DATABASE $seed_db");
psql($seed_db, "CREATE EXTENSION medallion");
psql($seed_db, "CREATE ROLE tap_dbt_importer LOGIN IN ROLE medallion_admin");
is(psql($seed_db, "SELECT has_database_privilege('tap_dbt_importer', '$seed_db', 'CREATE')"), 'f',
	'seed schema: the role may not create schemas');
my $seedrole = "$tmp/dbt_seedrole";
remove_tree($seedrole);
mkdir $_ or die "cannot make $_" for ($seedrole, "$seedrole/seeds");
open $fh, '>', "$seedrole/dbt_project.yml" or die;
print $fh "name: seedrole\n";
close $fh;
open $fh, '>', "$seedrole/seeds/codes.csv" or die;
print $fh "code,name\nFR,France\nDE,Germany\n";
close $fh;
my $as_role = "dbname=$seed_db user=tap_dbt_importer";
($status, $out, $err) = dbt('import', $seedrole, '--dsn', $as_role);
is($status, 1, 'seed schema not there: exit 1, a skip') or diag($out, $err);
like($out, qr/^seed\s+codes\s+skipped\s+schema seeds is not there, and role tap_dbt_importer cannot create it: permission denied for database $seed_db/m,
	'seed schema not there: the seed says why');
unlike($err, qr/Traceback/, 'seed schema not there: no traceback');
psql($seed_db, "CREATE SCHEMA seeds; GRANT USAGE ON SCHEMA seeds TO tap_dbt_importer");
($status, $out, $err) = dbt('import', $seedrole, '--dsn', $as_role);
is($status, 1, 'seed schema without CREATE on it: exit 1') or diag($out, $err);
like($out, qr/^seed\s+codes\s+skipped\s+role tap_dbt_importer may not create tables in schema seeds/m,
	'seed schema without CREATE on it: the seed says why');
unlike($err, qr/Traceback/, 'seed schema without CREATE on it: no traceback');
psql($seed_db, "GRANT CREATE ON SCHEMA seeds TO tap_dbt_importer");
($status, $out, $err) = dbt('import', $seedrole, '--dsn', $as_role);
is($status, 0, 'seed schema there: exit 0') or diag($out, $err);
is_deeply(report($out, 'seed', 'created'), ['codes'], 'seed schema there: the seed is loaded');
is(psql($seed_db, "SELECT count(*) FROM seeds.codes"), 2, 'seed schema there: its rows');
# a seed schema the project names after a role: first on that role's search_path
open $fh, '>', "$seedrole/dbt_project.yml" or die;
print $fh "name: seedrole\nseeds:\n  seedrole:\n    +schema: tap_dbt_importer\n";
close $fh;
($status, $out, $err) = dbt('import', $seedrole, '--dsn', "dbname=$seed_db");
is($status, 1, 'seed schema named as a role: exit 1') or diag($out, $err);
like($out, qr/^seed\s+codes\s+skipped\s+its schema tap_dbt_importer is named as a role, whose search_path \("\$user"\) would find its tables first/m,
	'seed schema named as a role: refused, saying why');
is(psql($seed_db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tap_dbt_importer'"), 0,
	'seed schema named as a role: not made');
psql('postgres', "DROP DATABASE $seed_db");
psql('postgres', "DROP ROLE tap_dbt_importer");

# --- unit tests (issue 29): dbt's unit_tests: as medallion unit tests ---------
my $unit_db = 'tap_dbt_unit';
psql('postgres', "DROP DATABASE IF EXISTS $unit_db");
psql('postgres', "CREATE DATABASE $unit_db");
psql($unit_db, "CREATE EXTENSION medallion");
psql_file($unit_db, "$root/test/dbt/unit/setup.sql");
($status, $out, $err) = dbt('import', "$root/test/dbt/unit", '--dsn', "dbname=$unit_db");
is($status, 1, 'unit: a unit test skipped, exit 1') or diag($out, $err);
like($out, qr/^unit test\s+member_contacts: stricter_phone_rule\s+skipped\s+overrides of vars render the model's SQL otherwise than it was imported/m,
	'unit: overrides of vars that change the model\'s SQL are skipped, saying why');
($status, $out, $err) = dbt('import', "$root/test/dbt/unit", '--dsn', "dbname=$unit_db", '--allow-partial');
is($status, 0, 'unit: imported with --allow-partial') or diag($out, $err);
is_deeply(report($out, 'unit test', 'created'), [
	'member_contacts: phone_numbers_are_cleaned', 'member_contacts: visits_are_counted', 'stg_members: plan_is_upper_case',
	'visit_log: only_visits_after_the_last_one', 'visit_log: all_visits_on_a_full_build',
	'member_contacts: default_phone_rule_spelt_out' ],
	'unit: dict, csv and sql rows, a source and a ref given, the incremental form, vars that change nothing');
is(psql($unit_db, "SELECT string_agg(name || ' ' || incremental, ', ' ORDER BY name) FROM medallion.unit_tests WHERE model = 'visit_log'"),
	'all_visits_on_a_full_build false, only_visits_after_the_last_one true', 'unit: is_incremental overridden is the incremental form');
is(psql($unit_db, "SELECT given->'gym_raw.visits' FROM medallion.unit_tests WHERE name = 'visits_are_counted'"),
	'[{"visit_id": 10, "member_id": 1}, {"visit_id": 11, "member_id": 1}, {"visit_id": 12, "member_id": 2}]',
	'unit: rows in format sql, answered by the database');
is(psql($unit_db, "SELECT string_agg(test || ' ' || status, ', ' ORDER BY test) FROM medallion_test('all', unit => true)"),
	'all_visits_on_a_full_build pass, default_phone_rule_spelt_out pass, only_visits_after_the_last_one pass, phone_numbers_are_cleaned pass, '
	. 'plan_is_upper_case pass, visits_are_counted pass', 'unit: every unit test passes, nothing built');
is(psql($unit_db, "SELECT count(*) FROM gold.member_contacts"), 0, 'unit: nothing published');
($status, $out, $err) = dbt('import', "$root/test/dbt/unit", '--dsn', "dbname=$unit_db", '--allow-partial');
is(scalar @{ report($out, 'unit test', 'unchanged') }, 6, 'unit: re-imported, unchanged');
is_deeply(report($out, 'source test', 'unchanged'), [ 'gym.members.member_id: not_null', 'gym.members.member_id: unique' ],
	'unit: the tests of a source no model reads are tests of the source');
is(psql($unit_db, "SELECT string_agg(status, ',') FROM medallion_check_sources() WHERE message LIKE 'test %'"), 'pass,pass',
	'unit: and pass on the source');
# --prune drops the unit tests and the tests of sources that left the project
my $unit_copy = "$tmp/dbt_unit_copy";
remove_tree($unit_copy);
IPC::Run::run([ 'cp', '-r', "$root/test/dbt/unit", $unit_copy ]) or die "cp failed";
{
	local $/;
	open my $in, '<', "$unit_copy/models/marts/unit_tests.yml" or die;
	my $yml = <$in>;
	close $in;
	$yml =~ s/  - name: default_phone_rule_spelt_out.*//s;
	open my $out_fh, '>', "$unit_copy/models/marts/unit_tests.yml" or die;
	print $out_fh $yml;
	close $out_fh;
	open $out_fh, '>', "$unit_copy/models/staging/sources.yml" or die;
	print $out_fh "version: 2\nsources:\n  - name: gym\n    schema: gym_raw\n    tables:\n      - name: members\n"
	  . "        columns:\n          - name: member_id\n            tests: [not_null]\n      - name: visits\n";
	close $out_fh;
}
($status, $out, $err) = dbt('import', $unit_copy, '--dsn', "dbname=$unit_db", '--allow-partial', '--prune');
is($status, 0, 'unit: --prune') or diag($out, $err);
like($out, qr/^unit test\s+member_contacts: default_phone_rule_spelt_out\s+dropped\s+left the project$/m,
	'unit: --prune drops the unit test that left');
like($out, qr/^source test\s+gym: gym_members_member_id_unique\s+dropped\s+left the project$/m,
	'unit: and the test of the source that left');
is(psql($unit_db, "SELECT count(*) FROM medallion.unit_tests") . ' ' . psql($unit_db, "SELECT count(*) FROM medallion.source_tests"),
	'5 1', 'unit: the others stay');
psql('postgres', "DROP DATABASE $unit_db");

done_testing();
