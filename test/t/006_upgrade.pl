# Upgrades: a database made with medallion 0.1.0 (its install script, kept
# as it was at tag v0.1.0, against today's library) is updated with ALTER
# EXTENSION medallion UPDATE: every model is bound (today's library binds
# what it defines even before the update, in a medallion_bind the update
# adopts; models the 0.1.0 library defined have no binding: the update
# binds them), its pipeline still runs, the bindings are the database's own
# (not members of the extension, so pg_dump writes them), and a dump of the
# updated database restores into a working pipeline.
use strict;
use warnings;
use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $tmp = $ENV{TEST_TMP} || '/tmp';

for my $db (qw(tap_upgrade tap_upgrade_restored))
{
	psql('postgres', "DROP DATABASE IF EXISTS $db");
}
psql('postgres', 'CREATE DATABASE tap_upgrade');

psql_script('tap_upgrade', <<'SQL');
CREATE EXTENSION medallion VERSION '0.1.0';
SET client_min_messages = warning;
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tap_upgrade_alice') THEN
		CREATE ROLE tap_upgrade_alice IN ROLE medallion_admin;
	END IF;
END $$;
CREATE SCHEMA erp;
CREATE TABLE erp.orders (id int PRIMARY KEY, customer_id int, amount numeric, at timestamptz);
INSERT INTO erp.orders SELECT g, 1 + g % 20, g, '2026-01-01'::timestamptz + g * interval '1 hour'
  FROM generate_series(1, 300) g;
GRANT USAGE ON SCHEMA erp TO tap_upgrade_alice;
GRANT SELECT ON erp.orders TO tap_upgrade_alice;
SELECT medallion_create_source('erp', 'erp', tables => ARRAY['orders']);
-- what 0.1.0's helper let anyone store
SELECT medallion.source_write('upsert', 'erp', 'local', local_schema => 'erp', tables => ARRAY['orders'],
  options => '{"retries": 1000, "password": "hunter2"}');
SELECT medallion_create_model('brnz_orders', 'SELECT id, customer_id, amount, at FROM erp.orders', layer => 'bronze');
SELECT medallion_create_model('eph_big', 'SELECT * FROM brnz_orders WHERE amount > 10', layer => 'silver',
  materialized => 'ephemeral');
SELECT medallion_create_model('slvr_customers', $$SELECT customer_id, sum(amount) AS revenue, count(*) AS orders
  FROM eph_big GROUP BY 1$$, layer => 'silver', indexes => ARRAY['customer_id']);
SELECT medallion_create_model('slvr_orders_inc', 'SELECT id, customer_id, amount, at FROM brnz_orders',
  layer => 'silver', materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'at');
SELECT medallion_add_test('slvr_customers', 'expression', expression => 'revenue > 0');
SELECT medallion_add_test('slvr_customers', 'sql', sql => 'SELECT * FROM silver.slvr_customers WHERE orders < 1',
  name => 'has_orders');
GRANT SELECT ON silver.slvr_customers TO tap_upgrade_alice;
SET ROLE tap_upgrade_alice;
SELECT medallion_create_model('gld_top', 'SELECT customer_id, revenue FROM slvr_customers ORDER BY revenue DESC LIMIT 3',
  layer => 'gold');
RESET ROLE;
SELECT count(*) FROM medallion_run('all');
-- as if the 0.1.0 library had defined these: no binding
DROP VIEW medallion_bind.brnz_orders, medallion_bind.slvr_orders_inc, medallion_bind."slvr_customers$has_orders";
SQL

my $top = q{SELECT string_agg(customer_id || ':' || revenue, ',' ORDER BY customer_id) FROM gold.gld_top};
my $before = psql_script('tap_upgrade', $top);
is(psql_script('tap_upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'medallion'"), '0.1.0', 'installed 0.1.0');
ok(psql_script('tap_upgrade', "SELECT has_schema_privilege('medallion_admin', 'silver', 'CREATE')") eq 't',
   '0.1.0 let admins create in the layer schemas');

# a function an admin left in a layer schema under 0.1.0 stops the update
psql_script('tap_upgrade', 'CREATE FUNCTION silver.concat(text, text) RETURNS text LANGUAGE sql AS $$SELECT $1$$');
my $refused = eval { psql_script('tap_upgrade', 'ALTER EXTENSION medallion UPDATE'); 1 } ? '' : $@;
like($refused, qr/the layer schemas hold functions or operators: function silver.concat\(text,text\)/,
	 'an update with a function planted in a layer schema is refused, naming it');
is(psql_script('tap_upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'medallion'"), '0.1.0', 'and changes nothing');
psql_script('tap_upgrade', 'DROP FUNCTION silver.concat(text, text)');

psql_script('tap_upgrade', 'ALTER EXTENSION medallion UPDATE');
my $current = psql_script('tap_upgrade', "SELECT default_version FROM pg_available_extensions WHERE name = 'medallion'");
is(psql_script('tap_upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'medallion'"), $current,
   "updated to $current through every update script");
is(psql_script('tap_upgrade', "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
						WHERE c.relnamespace = 'medallion_bind'::regnamespace AND c.relkind = 'v'"),
   'brnz_orders,eph_big,gld_top,slvr_customers,slvr_customers$,slvr_customers$has_orders,slvr_orders_inc',
   'every model and its tests are bound');
is(psql_script('tap_upgrade', "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
						AND classid = 'pg_namespace'::regclass AND objid = 'medallion_bind'::regnamespace"),
   '1', 'medallion_bind is the extension\'s');
is(psql_script('tap_upgrade', "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'medallion_bind.gld_top'::regclass"),
   'tap_upgrade_alice', 'a binding belongs to the model owner');
is(psql_script('tap_upgrade', "SELECT count(*) FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
						WHERE d.deptype = 'e' AND c.relnamespace = 'medallion_bind'::regnamespace"),
   '0', 'bindings are not members of the extension');
is(psql_script('tap_upgrade', "SELECT has_schema_privilege('medallion_admin', 'silver', 'CREATE')"), 'f',
   'admins no longer create in the layer schemas');
is(psql_script('tap_upgrade', "SELECT owner || ' ' || (options ? 'password') || ' ' || (options->>'retries') FROM medallion.sources"),
   'postgres false 100', 'the source has an owner, no credentials, and retries in range');

psql_script('tap_upgrade', 'INSERT INTO erp.orders VALUES (301, 1, 1000, now())');
is(psql_script('tap_upgrade', "SELECT string_agg(model || '=' || status, ',' ORDER BY model) FROM medallion_run('all')"),
   'brnz_orders=success,eph_big=success,gld_top=success,slvr_customers=success,slvr_orders_inc=success',
   'the pipeline runs after the update');
is(psql_script('tap_upgrade', "SELECT count(*) FROM silver.slvr_orders_inc"), '301', 'the incremental model took the new row');
is(psql_script('tap_upgrade', "SELECT string_agg(status, ',' ORDER BY test) FROM medallion.test_results
						WHERE run_id = (SELECT max(run_id) FROM medallion.runs)"),
   'pass,pass', 'its bound tests ran');
isnt(psql_script('tap_upgrade', $top), $before, 'and the new order moved the top customers');

# dump and restore the updated database
my $dump = "$tmp/tap_upgrade.dump";
run_ok("$bin/pg_dump", '-Fc', '-f', $dump, 'tap_upgrade');
psql('postgres', 'CREATE DATABASE tap_upgrade_restored');
run_ok("$bin/pg_restore", '-d', 'tap_upgrade_restored', $dump);
is(psql_script('tap_upgrade_restored', "SELECT count(*) FROM pg_class WHERE relnamespace = 'medallion_bind'::regnamespace"),
   '7', 'the bindings are restored');
is(psql_script('tap_upgrade_restored', "SELECT string_agg(model || '=' || status, ',' ORDER BY model) FROM medallion_run('all')"),
   'brnz_orders=success,eph_big=success,gld_top=success,slvr_customers=success,slvr_orders_inc=up_to_date',
   'the restored pipeline runs');
is(psql_script('tap_upgrade_restored', $top), psql_script('tap_upgrade', $top),
   'and publishes the same data');

# the updated extension is the one a fresh install makes
psql('postgres', 'DROP DATABASE IF EXISTS tap_upgrade_fresh');
psql('postgres', 'CREATE DATABASE tap_upgrade_fresh');
psql_script('tap_upgrade_fresh', 'CREATE EXTENSION medallion');
my %shape = (
	'members' => q{SELECT string_agg(o, ', ' ORDER BY o)
				   FROM (SELECT pg_describe_object(classid, objid, objsubid) AS o FROM pg_depend
						  WHERE deptype = 'e' AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'medallion')) m},
	'columns' => q{SELECT string_agg(format('%s.%s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
										   a.attnotnull, pg_get_expr(d.adbin, d.adrelid)), ', ' ORDER BY c.relname, a.attnum)
				   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
				   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
				   WHERE c.relnamespace = 'medallion'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped},
	'constraints' => q{SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname)
					   FROM pg_constraint WHERE connamespace = 'medallion'::regnamespace},
	'functions' => q{SELECT string_agg(f, ', ' ORDER BY f)
					 FROM (SELECT p.oid::regprocedure || ' ' || md5(concat(p.prosrc, p.probin, p.proconfig, p.prosecdef,
									p.provolatile, p.proisstrict, p.proacl, obj_description(p.oid, 'pg_proc'))) AS f
							 FROM pg_proc p WHERE p.pronamespace = 'medallion'::regnamespace OR p.proname LIKE 'medallion\_%') x},
	'schemas' => q{SELECT string_agg(nspname || ' ' || coalesce(nspacl::text, '') || ' ' || coalesce(obj_description(oid, 'pg_namespace'), ''),
								   ', ' ORDER BY nspname)
				   FROM pg_namespace WHERE nspname IN ('medallion', 'medallion_bind', 'medallion_audit', 'medallion_build',
													   'medallion_history', 'medallion_stage', 'bronze', 'silver', 'gold')},
	'triggers' => q{SELECT string_agg(pg_get_triggerdef(t.oid) || ' ' || coalesce(obj_description(t.oid, 'pg_trigger'), ''),
									', ' ORDER BY t.tgname)
					FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
				   WHERE c.relnamespace = 'medallion'::regnamespace AND NOT t.tgisinternal},
	'comments' => q{SELECT string_agg(t, ', ' ORDER BY t)
					FROM (SELECT c.relname || '.' || coalesce(a.attname, '') || ' ' || d.description AS t
							FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
							LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
						   WHERE c.relnamespace = 'medallion'::regnamespace) x},
);
# 0.2.0 as released, updated to the current version
psql('postgres', 'DROP DATABASE IF EXISTS tap_upgrade_020');
psql('postgres', 'CREATE DATABASE tap_upgrade_020');
psql_script('tap_upgrade_020', <<'SQL');
CREATE EXTENSION medallion VERSION '0.2.0';
SET client_min_messages = warning;
CREATE TABLE public.src (id int PRIMARY KEY, amount numeric);
INSERT INTO public.src SELECT g, g FROM generate_series(1, 50) g;
SELECT medallion_create_model('brnz_src', 'SELECT id, amount FROM public.src', layer => 'bronze');
SELECT medallion_create_model('slvr_total', 'SELECT sum(amount) AS total FROM brnz_src', layer => 'silver');
SELECT medallion_add_test('slvr_total', 'not_null', column_name => 'total');
SELECT count(*) FROM medallion_run('all');
ALTER EXTENSION medallion UPDATE;
SQL
is(psql_script('tap_upgrade_020', "SELECT extversion FROM pg_extension WHERE extname = 'medallion'"), $current,
   "0.2.0 updated to $current");
psql_script('tap_upgrade_020', 'INSERT INTO public.src VALUES (51, 51)');
is(psql_script('tap_upgrade_020', "SELECT string_agg(model || '=' || status, ',' ORDER BY model) FROM medallion_run('all')"),
   'brnz_src=up_to_date,slvr_total=success', 'a 0.2.0 pipeline runs after the update');
is(psql_script('tap_upgrade_020', 'SELECT total FROM silver.slvr_total'), '1326', 'and publishes the new total');

for my $what (sort keys %shape)
{
	is(psql_script('tap_upgrade', $shape{$what}), psql_script('tap_upgrade_fresh', $shape{$what}),
	   "updated (from 0.1.0) and fresh installs have the same $what");
	is(psql_script('tap_upgrade_020', $shape{$what}), psql_script('tap_upgrade_fresh', $shape{$what}),
	   "updated (from 0.2.0) and fresh installs have the same $what");
}

# a schedule made under 0.1.0 (pg_cron runs its jobs in database postgres)
# keeps its job, gets its owner checked, and runs after the update
psql_script('postgres', <<'SQL');
CREATE EXTENSION medallion VERSION '0.1.0';
CREATE TABLE public.upg_src (id int);
INSERT INTO public.upg_src VALUES (1), (2);
SELECT medallion_create_model('upg_m', 'SELECT id FROM public.upg_src', layer => 'silver');
SELECT medallion_schedule('upg_nightly', 'upg_m', '0 4 * * *');
SQL
my $upg_job = psql_script('postgres', "SELECT jobid FROM medallion.schedules WHERE name = 'upg_nightly'");
psql_script('postgres', 'ALTER EXTENSION medallion UPDATE');
is(psql_script('postgres', "SELECT s.owner || ' ' || j.command FROM medallion.schedules s JOIN cron.job j USING (jobid)
					 WHERE s.name = 'upg_nightly'"),
   "postgres CALL public.medallion_run_scheduled('upg_nightly')", 'the schedule and its pg_cron job survive the update');
psql('postgres', "CALL public.medallion_run_scheduled('upg_nightly')");
is(psql_script('postgres', "SELECT last_status || ' ' || (SELECT count(*) FROM silver.upg_m) FROM medallion.schedules WHERE name = 'upg_nightly'"),
   'success 2', 'and the scheduled run builds the model');
psql_script('postgres', <<'SQL');
SELECT medallion_unschedule('upg_nightly');
SELECT medallion_drop_model('upg_m');
DROP TABLE public.upg_src;
DROP EXTENSION medallion;
SQL
is(psql_script('postgres', "SELECT count(*) FROM cron.job WHERE jobid = $upg_job"), '0', 'unscheduling removes the job');

# tracked tables keep no trigger of a dropped extension, and need no CASCADE
psql_script('postgres', <<'SQL');
CREATE EXTENSION medallion;
CREATE TABLE public.upg_tracked (id int);
SELECT medallion_create_model('upg_t', 'SELECT id FROM public.upg_tracked', layer => 'silver');
SQL
is(psql_script('postgres', "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.upg_tracked'::regclass"), '2',
   'a table a model reads is tracked (a statement and a row trigger)');
psql_script('postgres', "SELECT medallion_drop_model('upg_t')");
psql_script('postgres', 'DROP EXTENSION medallion');
is(psql_script('postgres', "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.upg_tracked'::regclass"), '0',
   'DROP EXTENSION without CASCADE drops the tracking trigger and keeps the table');
psql_script('postgres', 'INSERT INTO public.upg_tracked VALUES (1); DROP TABLE public.upg_tracked');

for my $db (qw(tap_upgrade tap_upgrade_restored tap_upgrade_fresh tap_upgrade_020))
{
	psql('postgres', "DROP DATABASE $db");
}
psql('postgres', 'DROP ROLE tap_upgrade_alice');
done_testing();
