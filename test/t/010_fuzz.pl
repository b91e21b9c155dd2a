# No input crashes the server.  Every function and procedure of the
# extension (read from pg_proc: members of extension medallion, internal
# helpers and trigger functions included) is called with each of its
# arguments in turn taking hostile values (NULL, 0 and invalid OIDs, OIDs of
# an index, a sequence, a view, a composite type, a dropped table, a foreign
# table; empty and 10,000-element arrays; empty, long and odd identifiers;
# extreme numbers, NaN and infinities; huge and negative intervals; invalid
# and odd JSON; the fixtures' models, tests and sources by name) while the
# other arguments keep a plausible value, as a superuser, a medallion_admin
# member, a medallion_reader member and a plain login role.  Then trigger
# functions as triggers and event triggers of every kind; every function
# after what medallion made or reads was dropped, renamed or moved, or its
# catalog written by hand (as the superuser); and with each of medallion's
# settings at its extremes.  Each call is its own statement (in a
# transaction rolled back after it, so that the fixtures stay for the next
# one) under a statement timeout; a call may return or raise an error,
# nothing else.
#
# The calls of a role are one psql script; each is preceded by a marker on
# stderr (\warn), so a crash (psql loses its connection) names the call that
# was running: it is reported in full (role, function, argument, value, the
# statement), the test waits for the server to come back and carries on
# after it, so one run finds every crash.  At the end the postmaster start
# time must be the same, a session open since the start still there, and
# the server log must show no crashed process.  Internal errors (SQLSTATE
# XX000, e.g. "cache lookup failed") reached by a caller fail the test too.
# FUZZ_KEEP=1 keeps the databases and roles, to repeat a call by hand.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;
use Time::HiRes qw(time);
use List::Util qw(min);

my $db = 'tap_fuzz';
my $tmp = $ENV{TEST_TMP} || '/tmp';
my $timeout = '5s';

psql('postgres', "DROP DATABASE IF EXISTS $db WITH (FORCE)");
psql('postgres', "DROP DATABASE IF EXISTS ${db}_remote WITH (FORCE)");
psql('postgres', "CREATE DATABASE $db");
psql($db, "CREATE EXTENSION medallion");

# A server restart after a crash keeps pg_postmaster_start_time (the
# postmaster itself goes on), so a session that waits through the whole
# test tells too: a crash ends every session.
my $started = psql($db, "SELECT pg_postmaster_start_time()");
my $sentinel_psql = psql_start($db, 'SELECT pg_catalog.pg_sleep(3600)', env => { PGAPPNAME => 'fuzz_sentinel' },
							   merged => \my $sentinel_out);
my $sentinel = "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = 'fuzz_sentinel'";
wait_for('the sentinel session', sub { psql($db, $sentinel) eq '1' });

# the server log (test/run starts the server with pg_ctl -l beside the data
# directory): where it ends now, to read only what this test adds
my $log = dirname(psql($db, "SHOW data_directory")) . '/postgresql.log';
my $log_from = -s $log || 0;

# --- roles and fixtures ------------------------------------------------

my %login = (superuser => $ENV{PGUSER} || 'postgres', admin => 'fuzz_admin',
			 reader => 'fuzz_reader', plain => 'fuzz_plain');
psql_script('postgres', <<'EOF');
DROP ROLE IF EXISTS fuzz_admin;
DROP ROLE IF EXISTS fuzz_reader;
DROP ROLE IF EXISTS fuzz_plain;
CREATE ROLE fuzz_admin LOGIN IN ROLE medallion_admin;
CREATE ROLE fuzz_reader LOGIN IN ROLE medallion_reader;
CREATE ROLE fuzz_plain LOGIN;
EOF

# Models, tests, a source, runs and history, so that calls reach deep code;
# the models belong to fuzz_admin, so that its calls and the superuser's
# reach past the owner checks.  Relations of every kind give OIDs.
psql_script($db, <<'EOF');
GRANT CREATE, USAGE ON SCHEMA public TO fuzz_admin;
CREATE TABLE public.fz_src (id int PRIMARY KEY, v int, t text, updated_at timestamptz DEFAULT now());
INSERT INTO public.fz_src SELECT i, i % 7, 'row ' || i, now() - i * interval '1 minute' FROM generate_series(1, 50) i;
CREATE TABLE public.fz_part (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE public.fz_part_1 PARTITION OF public.fz_part FOR VALUES FROM (0) TO (1000);
INSERT INTO public.fz_part SELECT i, i % 3 FROM generate_series(1, 20) i;
CREATE SEQUENCE public.fz_seq;
CREATE VIEW public.fz_view AS SELECT id FROM public.fz_src;
CREATE MATERIALIZED VIEW public.fz_matview AS SELECT id FROM public.fz_src;
CREATE TYPE public.fz_comp AS (a int, b text);
CREATE TABLE public.fz_dropped (a int);
CREATE TABLE public.fz_oids (what text PRIMARY KEY, relid oid);
INSERT INTO public.fz_oids VALUES ('dropped', 'public.fz_dropped'::regclass);
DROP TABLE public.fz_dropped;
CREATE FOREIGN DATA WRAPPER fz_fdw;
CREATE SERVER fz_server FOREIGN DATA WRAPPER fz_fdw;
CREATE FOREIGN TABLE public.fz_foreign (id int) SERVER fz_server;
CREATE SCHEMA fz_local;
CREATE TABLE fz_local.items (id int PRIMARY KEY, name text, updated_at timestamptz DEFAULT now());
INSERT INTO fz_local.items VALUES (1, 'a'), (2, 'b');
ALTER TABLE public.fz_src OWNER TO fuzz_admin;
ALTER TABLE public.fz_part OWNER TO fuzz_admin;
ALTER SCHEMA fz_local OWNER TO fuzz_admin;
ALTER TABLE fz_local.items OWNER TO fuzz_admin;
SET ROLE fuzz_admin;
SET medallion.changed_only = off;
SELECT medallion_create_model('fz_m', 'SELECT id, v, t, updated_at FROM public.fz_src', layer => 'silver',
	tags => ARRAY['fz'], unique_key => ARRAY['id'], column_descriptions => '{"id": "the key"}');
SELECT medallion_create_model('fz_g', 'SELECT v, count(*) AS n FROM silver.fz_m GROUP BY v', layer => 'gold');
SELECT medallion_create_model('fz_view_m', 'SELECT id, v FROM silver.fz_m WHERE v > 0', layer => 'gold', materialized => 'view');
SELECT medallion_create_model('fz_inc', 'SELECT id, v, updated_at FROM public.fz_src', layer => 'silver',
	materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'updated_at');
SELECT medallion_create_model('fz_snap', 'SELECT id, v, t FROM public.fz_src', layer => 'silver',
	materialized => 'snapshot', unique_key => ARRAY['id'], hard_deletes => 'invalidate');
SELECT medallion_create_model('fz_eph', 'SELECT id FROM public.fz_src WHERE v = 1', layer => 'silver', materialized => 'ephemeral');
SELECT medallion_create_model('fz_part_m', 'SELECT id, v FROM public.fz_part', layer => 'silver');
SELECT medallion_add_test('fz_m', 'not_null', column_name => 'id');
SELECT medallion_add_test('fz_m', 'unique', column_name => 'id', store_failures => true);
SELECT medallion_add_test('fz_m', 'accepted_values', column_name => 'v', accepted => ARRAY['0','1','2','3','4','5','6'], severity => 'warn');
SELECT medallion_add_test('fz_g', 'expression', expression => 'n >= 0');
SELECT medallion_add_test('fz_g', 'row_count', min_rows => 1);
-- odd names and texts that the page, the graph, the lineage, runs and tests
-- quote: columns named like format strings, quotes, unicode, 63 bytes
CREATE TABLE public."fz odd""tbl" ("we""ird col" int PRIMARY KEY, "%s%n" text, U&"\00fc\540d" int,
	"c_23456789012345678901234567890123456789012345678901234567890123" int, "<b>x</b>" text);
INSERT INTO public."fz odd""tbl" SELECT i, '%s%n' || i, i, i, '<script>' FROM generate_series(1, 5) i;
SELECT medallion_create_model('fz_odd', 'SELECT "we""ird col", "%s%n", U&"\00fc\540d", "c_23456789012345678901234567890123456789012345678901234567890123", "<b>x</b>" FROM public."fz odd""tbl"',
	layer => 'silver', unique_key => ARRAY['we"ird col'], indexes => ARRAY['%s%n'],
	description => E'%s%n%x <script>alert(1)</script> \x01\x1f "'' \\ ' || repeat('long ', 2000),
	column_descriptions => jsonb_build_object('%s%n', E'\x02%n', U&'\00fc\540d', repeat('x', 10000)));
SELECT medallion_create_model('fz_odd_inc', 'SELECT "we""ird col", "%s%n" FROM silver.fz_odd', layer => 'gold',
	materialized => 'incremental', unique_key => ARRAY['we"ird col']);
SELECT medallion_create_model('fz_odd_snap', 'SELECT "we""ird col", "%s%n", U&"\00fc\540d" FROM silver.fz_odd', layer => 'gold',
	materialized => 'snapshot', unique_key => ARRAY['we"ird col'], check_columns => ARRAY['%s%n']);
SELECT medallion_add_test('fz_odd', 'not_null', column_name => '%s%n', description => E'%s%n <i>\x03');
SELECT medallion_add_test('fz_odd', 'unique', column_name => 'we"ird col', store_failures => true);
SELECT medallion_add_test('fz_odd', 'accepted_values', column_name => '<b>x</b>', accepted => ARRAY['<script>', '%s%n', ''], severity => 'warn');
SELECT medallion_add_test('fz_odd', 'relationships', column_name => 'we"ird col', to_model => 'fz_m', to_column => 'id');
SELECT medallion_create_source('fz_source', 'fz_local', tables => ARRAY['items'], freshness_column => 'updated_at',
	warn_after => '1 hour', error_after => '1 day');
SELECT count(*) FROM medallion_run('all');
UPDATE public.fz_src SET v = v + 1 WHERE id < 5;
SELECT count(*) FROM medallion_run('all');
RESET ROLE;
SELECT medallion.schedule_write('upsert', 'fz_sched', 'fz_m', '0 3 * * *', 0, '5 min', NULL, NULL, NULL, NULL, 1);
EOF

# A postgres source (postgres_fdw to a second database of this cluster) of
# fuzz_admin's and a file source (file_fdw) of the superuser's, whose
# refreshes reach the extraction.
psql('postgres', "CREATE DATABASE ${db}_remote");
psql_script("${db}_remote", <<'EOF');
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, amount numeric(10,2), changed_at timestamp NOT NULL);
INSERT INTO shop.orders SELECT g, g * 1.5, '2024-01-01'::timestamp + g * interval '1 hour' FROM generate_series(1, 20) g;
GRANT USAGE ON SCHEMA shop TO fuzz_admin;
GRANT SELECT ON shop.orders TO fuzz_admin;
EOF
my $files = dirname(psql($db, "SHOW data_directory")) . '/fuzz_files';
mkdir $files;
open my $csv, '>', "$files/regions.csv" or die "cannot write $files/regions.csv: $!";
print $csv "region_id,name,opened\n1,north,2024-01-01\n2,south,2024-01-02\n";
close $csv;
psql_script($db, <<"EOF");
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION file_fdw;
CREATE SERVER fz_remote FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '$ENV{PGHOST}', port '$ENV{PGPORT}', dbname '${db}_remote');
GRANT USAGE ON FOREIGN SERVER fz_remote TO fuzz_admin;
GRANT CREATE ON DATABASE $db TO fuzz_admin;
CREATE USER MAPPING FOR fuzz_admin SERVER fz_remote OPTIONS (password_required 'false');
CREATE USER MAPPING FOR CURRENT_USER SERVER fz_remote;
CREATE SERVER fz_files FOREIGN DATA WRAPPER file_fdw;
SELECT medallion_create_source('fz_files', 'fz_files', kind => 'file', server_name => 'fz_files',
	tables => ARRAY['regions'], options => jsonb_build_object('directory', '$files'));
SET ROLE fuzz_admin;
SELECT medallion_create_source('fz_pg', 'fz_pg', kind => 'postgres', server_name => 'fz_remote',
	remote_schema => 'shop', tables => ARRAY['orders'], freshness_column => 'changed_at',
	options => '{"changes": "probe"}');
SELECT medallion_create_model('fz_orders', 'SELECT id, amount FROM fz_pg.orders', layer => 'silver');
RESET ROLE;
EOF

my %oid;
for my $row (split /\n/, psql_script($db, <<'EOF'))
SELECT 'index|' || 'public.fz_src_pkey'::regclass::oid
UNION ALL SELECT 'sequence|' || 'public.fz_seq'::regclass::oid
UNION ALL SELECT 'view|' || 'public.fz_view'::regclass::oid
UNION ALL SELECT 'matview|' || 'public.fz_matview'::regclass::oid
UNION ALL SELECT 'composite type relation|' || 'public.fz_comp'::regclass::oid
UNION ALL SELECT 'composite type|' || 'public.fz_comp'::regtype::oid
UNION ALL SELECT 'partitioned table|' || 'public.fz_part'::regclass::oid
UNION ALL SELECT 'foreign table|' || 'public.fz_foreign'::regclass::oid
UNION ALL SELECT 'toast table|' || reltoastrelid FROM pg_class WHERE oid = 'public.fz_src'::regclass
UNION ALL SELECT 'published table|' || 'silver.fz_m'::regclass::oid
UNION ALL SELECT 'catalog table|' || 'medallion.models'::regclass::oid
UNION ALL SELECT 'dropped table|' || relid FROM public.fz_oids WHERE what = 'dropped'
EOF
{
	my ($what, $id) = split /\|/, $row;
	$oid{$what} = $id;
}

# --- hostile values ------------------------------------------------------

# A SQL literal of any string (control characters escaped).
sub lit
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	my $e = $s =~ s/([\\'])/\\$1/gr;
	$e =~ s/([\x00-\x1f\x7f])/sprintf('\\x%02x', ord($1))/ge;
	return "E'$e'";
}

my @idents = ('', 'x' x 64, "\x{e9}" x 32, 'a"b', "a'b", 'a.b.c', 'A B', "\x{fc}n\x{ef}\x{540d}",
			  'a\\b', "\x01\x07\x1f\x7f", '%s%n%s%n', 'pg_class', 'medallion.models', ' ',
			  '-- x', 'x' x 10000);
my @text = ((map { [ $_ eq '' ? 'empty' : length($_) > 70 ? length($_) . ' characters' : $_, lit($_) ] } @idents),
			[ 'NULL', 'NULL' ]);
my @oids = ([ 'NULL', 'NULL' ], [ '0', '0' ], [ '4294967295', '4294967295' ], [ '1', '1' ],
			map { [ "OID of $_", $oid{$_} ] } sort keys %oid);
my $big_array = q{(SELECT pg_catalog.array_agg('c' || i) FROM pg_catalog.generate_series(1, 10000) i)};
my %values = (
	'text' => \@text,
	'name' => [ map { [ $_->[0], $_->[1] eq 'NULL' ? 'NULL' : "$_->[1]::name" ] } @text ],
	'text[]' => [ [ 'NULL', 'NULL' ], [ 'empty array', q{'{}'} ], [ '10,000 elements', $big_array ],
				  [ '{NULL}', q{'{NULL}'} ], [ '{""}', q{'{""}'} ], [ 'two dimensions', q{'{{a,b},{c,d}}'} ],
				  [ 'odd identifiers', 'ARRAY[' . join(', ', map { lit($_) } @idents[1 .. 10]) . ']' ],
				  [ 'lower bound 0', q{'[0:1]={id,v}'} ], [ 'repeated', q{'{id,id}'} ] ],
	'integer' => [ map { [ $_, $_ ] } 'NULL', '0', '-1', '(-2147483648)', '2147483647' ],
	'bigint' => [ map { [ $_, $_ ] } 'NULL', '0', '-1', '(-9223372036854775808)', '9223372036854775807' ],
	'real' => [ map { [ $_, $_ ] } 'NULL', '0', '-1', q{'NaN'::real}, q{'Infinity'::real}, q{'-Infinity'::real}, '1e-45' ],
	'boolean' => [ map { [ $_, $_ ] } 'NULL', 'true', 'false' ],
	'interval' => [ map { [ $_, $_ eq 'NULL' ? 'NULL' : "'$_'::interval" ] }
					'NULL', '0', '-1 day', '-1 microsecond', '1 microsecond', '1000000 years', '-1000000 years',
					'178000000 years', '-178000000 years', '2147483647 days', '2562047788 hours' ],
	'jsonb' => [ [ 'NULL', 'NULL' ], map({ [ $_, lit($_) . '::jsonb' ] }
				 '{}', '[]', 'null', '"x"', '0', '-1e400', 'true', '{"a": null}', '[1, [2, [3]]]',
				 '{"": ""}', '{"retries": -1, "batch_size": 1e30, "retry_delay": "1000000 years"}',
				 '{"changes": "probe", "all_tables": "false", "directory": "/"}',
				 '{"id": 1, "v": {"x": []}, "nosuch": "x"}',
				 '{"op": "start", "run_id": -1}', '{"op": "finish", "run_id": 9223372036854775807, "steps": {}}',
				 '{"public.fz_src": "x", "0": 1}',
				 '[{"table": "x\\"; DROP TABLE public.fz_src; --", "columns": [{"name": "a\\"b", "type": "int); DROP TABLE public.fz_src; --", "options": {}, "not_null": null}], "options": {"table_name": "%s%n"}}]',
				 '[{"table": "orders", "columns": [], "options": {}}]', '[{"table": null, "columns": null}]',
				 '{"retries": "x", "batch_size": 1.5, "retry_delay": "-1 day", "changes": null, "all_tables": 1}',
				 '{"retries": 100, "batch_size": 9223372036854775807, "retry_delay": 5, "directory": "../../.."}',
				 '{"batch_size": 0, "retries": 1e-9, "retry_delay": {"x": 1}, "all_tables": "true", "changes": "always"}'),
				 [ 'invalid JSON', q('{"a":') ],
				 [ '10,000 keys', q{(SELECT pg_catalog.jsonb_object_agg('k' || i, i) FROM pg_catalog.generate_series(1, 10000) i)} ],
				 [ '1000 levels deep', lit(('[' x 1000) . (']' x 1000)) . '::jsonb' ] ],
	'timestamp with time zone' => [ map { [ $_, $_ eq 'NULL' ? 'NULL' : "'$_'::timestamptz" ] }
									'NULL', 'infinity', '-infinity', '4713-01-01 00:00 BC', '294276-12-31 23:00' ],
	'pg_snapshot' => [ map { [ $_, $_ eq 'NULL' ? 'NULL' : "'$_'::pg_snapshot" ] } 'NULL', '1:1:', '10:20:12,15', '1:9223372036854775807:' ],
	'regclass' => [ map { [ $_->[0], $_->[1] eq 'NULL' ? 'NULL' : "$_->[1]::oid::regclass" ] } @oids ],
	'oid' => \@oids,
);

# Values an argument takes by its name, besides those of its type.
my %by_name = (
	selector => [ 'all', '+fz_m+', '2+fz_g', 'fz_m+2147483648', 'layer:gold', 'tag:fz', 'tag:', 'layer:', '+', '*' ],
	sql => [ 'SELECT 1 AS a', 'SELECT', 'SELECT 1; SELECT 2', 'DELETE FROM public.fz_src RETURNING id',
			 'SELECT 1 AS a, 2 AS a', 'SELECT $1', 'SELECT * FROM pg_catalog.pg_authid',
			 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r',
			 'SELECT id FROM public.fz_foreign', 'SELECT id FROM public.fz_view', 'SELECT NULL',
			 'SELECT id FROM silver.fz_m', 'SELECT * FROM public.fz_src FOR UPDATE', 'VALUES (1)' ],
	expression => [ 'v > 0', '(', 'pg_sleep(100) IS NULL', 'v > (SELECT 1)', 'count(*) > 0', 'NULL' ],
	cron => [ '* * * * *', '61 * * * *', '@reboot', '*/0 * * * *', '0 0 31 2 *', '* * * * * *',
			  '*/2147483648 * * * *', '1-0 * * * *', '0 0 30 2 1', '$', '59 23 31 12 *' ],
	warn_if => [ '>', '> NaN', '> 99999999999999999999', '= -1', '!= x', '>= 1e400' ],
	kind => [ 'not_null', 'unique', 'accepted_values', 'relationships', 'expression', 'row_count',
			  'freshness', 'sql', 'local', 'tds', 'postgres', 'file' ],
	materialized => [ 'table', 'view', 'incremental', 'snapshot', 'ephemeral' ],
	layer => [ 'bronze', 'silver', 'gold' ],
	op => [ 'upsert', 'tables', 'delete', 'outcome' ],
	column_name => [ 'id', 'v', 'ctid', 'xmin' ],
	to_relation => [ 'public.fz_view', 'public.fz_comp', 'public.fz_seq', 'public.fz_src_pkey' ],
	unique_key => [ '{id}', '{nosuch}', '{ctid}', '{"%s%n"}', '{"we\"ird col"}' ],
	format => [ 'mermaid', 'dot', 'json', 'svg' ],
	direction => [ 'upstream', 'downstream', 'both' ],
	on_conflict => [ 'wait', 'skip', 'fail', 'cancel' ],
	on_schema_change => [ 'fail', 'ignore', 'append_new_columns', 'sync_all_columns' ],
	strategy => [ 'merge', 'append', 'delete+insert', 'insert_overwrite' ],
	hard_deletes => [ 'ignore', 'invalidate', 'new_record' ],
	severity => [ 'warn', 'error' ],
);
push @{ $by_name{selector} }, 'fz_odd+', '+fz_odd_snap', 'fz_m, fz_g', ' fz_m ,', ',', '++fz_m++', '2147483648+fz_m',
	'-1+fz_m', 'layer:silver,tag:fz', 'tag:%s%n', 'fz_m+,+fz_m', '@fz_m', '@2+fz_m', '99999999999+fz_m', 'fz_m+0',
	'state:modified+', 'state:%s', 'owner:%s%n', 'materialized:%s', 'path:x/y', 'config.materialized:view',
	'@', ':', 'tag:', '1+', '+1', "fz_m\tfz_g", "\x{fc}:\x{540d}";
$by_name{exclude} = $by_name{selector};
push @{ $by_name{direction} }, 'id', 'v', '%s%n', 'we"ird col';
push @{ $by_name{cron} }, '*/-1 * * * *', '-1 * * * *', '1,,2 * * * *', '@yearly', '@every 5m', '* * * * 7',
	'* * * * 8', '0 0 29 2 *', '0 0 * * 0-7', '5-3 * * * *', '1-59/0 * * * *', '* * L * *', '0-59/59 0-23/23 1-31/31 1-12/12 0-6/6',
	'99999999999999999999 * * * *', '1-99999 * * * *', '* * * *', '*', ',', '0 0 31 4,6,9,11 *';
push @{ $by_name{column_name} }, '%s%n', 'we"ird col', "\x{fc}\x{540d}";
# models of every materialization, a model on a foreign table, odd names
$by_name{model} = [ 'fz_g', 'fz_view_m', 'fz_inc', 'fz_snap', 'fz_eph', 'fz_part_m', 'fz_orders', 'fz_odd', 'fz_odd_snap' ];
$by_name{to_model} = $by_name{model};
$by_name{name} = [ @{ $by_name{model} }, 'fz_source', 'fz_pg', 'fz_files', 'fz_sched', 'not_null_id', 'unique_we_ird_col' ];
$by_name{to_relation} = [ @{ $by_name{to_relation} }, 'silver.fz_m', 'gold.fz_view_m', 'fz_pg.orders', 'public."fz odd""tbl"', 'medallion.models' ];
# queries that the analyzer and the lineage walk have to take apart
push @{ $by_name{sql} },
	'SELECT s FROM public.fz_src s', 'SELECT s.*, s FROM public.fz_src s', 'SELECT ROW(1, 2) AS r', q{SELECT '1' AS u},
	'SELECT ARRAY[]::int[] AS a', 'SELECT generate_series(1, 3) AS g', 'SELECT ctid, xmin, id FROM public.fz_src',
	'SELECT id FROM ONLY public.fz_src', 'SELECT * FROM public.fz_src TABLESAMPLE SYSTEM (50)',
	'SELECT v, count(*) AS n FROM public.fz_src GROUP BY GROUPING SETS ((v), ()) ',
	'SELECT id, sum(v) OVER (ORDER BY id ROWS 2 PRECEDING) AS w FROM public.fz_src',
	'SELECT a.id, b.x FROM public.fz_src a, LATERAL (SELECT a.v + 1 AS x) b',
	'SELECT (SELECT max(v) FROM public.fz_src i WHERE i.id = o.id) AS m, id FROM public.fz_src o',
	'WITH d AS (DELETE FROM public.fz_src RETURNING id) SELECT id FROM d',
	'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r',
	'SELECT id FROM public.fz_src UNION SELECT id FROM silver.fz_m INTERSECT SELECT 1 EXCEPT SELECT 2',
	'SELECT * FROM medallion.models', 'SELECT * FROM medallion_bind.fz_m', 'SELECT * FROM fz_pg.orders',
	'SELECT * FROM public.fz_comp', 'SELECT * FROM public.fz_seq', 'SELECT * FROM public.fz_matview',
	'SELECT * FROM public.fz_part', 'SELECT * FROM gold.fz_view_m', 'SELECT * FROM silver.fz_eph',
	'SELECT * FROM ROWS FROM (generate_series(1, 2), generate_series(1, 3)) AS t(a, b)',
	'SELECT * FROM (VALUES (1, NULL), (NULL, 2)) AS v(a, b)', 'SELECT DISTINCT ON (v) v, id FROM public.fz_src ORDER BY v, id',
	'SELECT ' . join(', ', map { "$_ AS c$_" } 1 .. 1600), 'SELECT ' . join(', ', map { "$_ AS c$_" } 1 .. 1700),
	'SELECT ' . ('(' x 1000) . '1' . (')' x 1000) . ' AS deep',
	'SELECT 1 AS a FROM ' . join(' JOIN ', map { "public.fz_src t$_" . ($_ > 1 ? " ON t$_.id = t1.id" : '') } 1 .. 60),
	'SELECT x FROM ' . ('(SELECT 1 AS x ' x 200) . (') s ' x 200), 'SELECT pg_catalog.pg_sleep(100)', 'SELECT pg_catalog.txid_current() AS x',
	'SELECT * FROM public.fz_src FOR UPDATE', 'TABLE public.fz_src', 'SELECT NULL::public.fz_comp AS c', 'SELECT 1 INTO TEMP fz_into';
push @{ $by_name{expression} }, 'v > (SELECT max(v) FROM public.fz_src)', 'sum(v) > 0', 'row_number() OVER () > 0',
	'generate_series(1, 2) > 0', 'c IS NOT NULL', 'c.id = c.id', '(c).id > 0', 'EXISTS (SELECT 1 FROM silver.fz_m)',
	'v IN (SELECT v FROM public.fz_src)', 'pg_catalog.pg_sleep(100) IS NULL', 'true; DROP TABLE public.fz_src';
$by_name{$_} = $by_name{warn_if} for qw(error_if);
$by_name{$_} = $by_name{unique_key} for qw(columns check_columns indexes tables);

# Plausible values: for the arguments without a default, and some with one
# (so that calls reach past the first check), by function and argument name.
my %plausible = (
	'*' => { model => "'fz_m'", name => "'fz_m'", selector => "'fz_m'", relation => "'public.fz_src'::regclass",
			 server_name => "'fz_server'", local_schema => "'fz_local'", kind => "'local'",
			 cron => "'0 3 * * *'", op => "'upsert'", keep => "'1 day'", watch => 'false',
			 data_type => "'nvarchar'", char_length => '10', num_precision => '10', num_scale => '2',
			 dt_precision => '3', entry => q{'{"op": "start", "run_id": 999999}'},
			 run_id => '999999', snapshot => 'pg_catalog.pg_current_snapshot()', inputs => q{'{}'},
			 changed => 'true', spec => q{'{}'}, previous => q{'{}'}, remote_schema => "'dbo'",
			 tables => q{'{items}'}, options => q{'{}'} },
	medallion_create_model => { name => "'fz_new'", sql => "'SELECT id, v, updated_at FROM public.fz_src'",
								layer => "'silver'" },
	medallion_add_test => { kind => "'accepted_values'", column_name => "'v'", accepted => q{'{1,2}'} },
	medallion_drop_test => { name => "'not_null_id'" },
	medallion_create_source => { name => "'fz_newsrc'" },
	medallion_drop_source => { name => "'fz_pg'" },
	medallion_refresh_source => { name => "'fz_pg'" },
	source_spec => { kind => "'postgres'", server_name => "'fz_remote'", remote_schema => "'shop'", tables => q{'{orders}'} },
	source_sync => { server_name => "'fz_remote'", local_schema => "'fz_pg'",
					 spec => q{'[{"table": "orders", "columns": [{"name": "id", "type": "integer", "options": {"column_name": "id"}, }
						 . q{"not_null": true}], "options": {"table_name": "orders", "schema_name": "shop"}}]'} },
	require_server => { kind => "'postgres'", server_name => "'fz_remote'" },
	source_write => { name => "'fz_source'", kind => "'local'", local_schema => "'fz_local'" },
	medallion_schedule => { name => "'fz_sched'", cron => "'0 3 * * *'" },
	medallion_unschedule => { name => "'fz_sched'" },
	medallion_run_scheduled => { name => "'fz_sched'" },
	schedule_write => { name => "'fz_sched'", selector => "'fz_m'", cron => "'0 3 * * *'", retries => '0',
						retry_delay => "'5 min'", threads => '1' },
	ledger_apply => { entry => q('{"op": "start", "run_id": 999999, "selector": "fz_m", "options": {"full_refresh": false, )
						  . q("strict": false, "on_conflict": "wait"}, "started_by": "postgres", "backend_pid": 1, )
						  . q("started_at": "2026-01-01T00:00:00Z", "models": 1, "xact": null}') },
	medallion_drop_model => { name => "'fz_g'" },
	medallion_lineage => { model => "'fz_g'" },
	medallion_trim_ledger => { older_than => "'1 day'" },
);
# a second set of plausible values for some functions: more kinds of what they define
my %profiles = (
	medallion_create_source => [ {}, { kind => "'postgres'", server_name => "'fz_remote'", remote_schema => "'shop'",
								   local_schema => "'fz_pg2'", tables => q{'{orders}'} } ],
	medallion_create_model => [ {}, { materialized => "'incremental'", watermark => "'updated_at'" },
								{ materialized => "'snapshot'", updated_at => "'updated_at'", unique_key => q{'{id}'} } ],
	medallion_add_test => [ {}, { model => "'fz_odd'", column_name => lit('%s%n'), accepted => lit('{"%s%n",x}') }, { kind => "'relationships'", column_name => "'v'", to_model => "'fz_g'", to_column => "'v'" },
							{ kind => "'sql'", column_name => 'NULL', sql => "'SELECT id FROM silver.fz_m WHERE v < 0'" },
							{ kind => "'freshness'", column_name => "'updated_at'", max_age => "'1 day'" } ],
);

my $fallback = { 'text' => "'x'", 'name' => "'x'", 'text[]' => q{'{}'}, 'integer' => '1', 'bigint' => '1',
				 'real' => '0.5', 'boolean' => 'false', 'interval' => "'1 hour'", 'jsonb' => q{'{}'},
				 'timestamp with time zone' => 'pg_catalog.now()', 'regclass' => "'public.fz_src'::regclass",
				 'oid' => "'public.fz_src'::regclass::oid", 'pg_snapshot' => 'pg_catalog.pg_current_snapshot()' };

# --- the calls, from pg_proc -------------------------------------------

# name|kind|schema|returns|argument position|argument name|type|mode|has a default
my %fn;
for my $row (split /\n/, psql_script($db, <<'EOF'))
SELECT p.oid::regprocedure::text || '|' || p.proname || '|' || p.prokind::text || '|' || n.nspname || '|' ||
	   p.prorettype::regtype::text || '|' ||
	   coalesce(a.ord::text, '') || '|' || coalesce(p.proargnames[a.ord], '') || '|' ||
	   coalesce(pg_catalog.format_type(a.typ, NULL), '') || '|' ||
	   coalesce(p.proargmodes[a.ord]::text, 'i') || '|' ||
	   (a.ord IS NOT NULL AND
		(SELECT count(*) FROM pg_catalog.unnest(coalesce(p.proargmodes, pg_catalog.array_fill('i'::"char", ARRAY[p.pronargs]))) WITH ORDINALITY m(mode, o)
		  WHERE m.o > a.ord AND m.mode IN ('i', 'b', 'v')) < p.pronargdefaults)::text
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion'
  LEFT JOIN LATERAL pg_catalog.unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY a(typ, ord) ON true
 WHERE n.nspname IN ('medallion', 'public')
 ORDER BY 1, a.ord
EOF
{
	my ($sig, $name, $kind, $schema, $returns, $ord, $arg, $type, $mode, $default) = split /\|/, $row, -1;
	my $f = $fn{$sig} ||= { sig => $sig, name => $name, kind => $kind, schema => $schema, returns => $returns, args => [] };
	push @{ $f->{args} }, { name => $arg, type => $type, default => $default eq 'true' }
		if $ord ne '' && $mode =~ /^[ibv]$/;
}
my $nfn = keys %fn;
cmp_ok($nfn, '>=', 40, "the fuzz test found the extension's $nfn functions");

# Functions that drop or replace what the others use come last (each call is
# rolled back anyway: this only keeps a crash's aftermath small).
my @order = sort { ($a->{name} =~ /drop|unschedule|rollback|trim/ ? 1 : 0) <=> ($b->{name} =~ /drop|unschedule|rollback|trim/ ? 1 : 0)
					   || $a->{sig} cmp $b->{sig} } values %fn;

# One statement (with its description) per function, argument and value.
my @calls;
my @plausible_calls;	# per function, its first plausible call: [function, SELECT or CALL]
for my $f (@order)
{
	my $qname = "$f->{schema}.$f->{name}";
	my @args = @{ $f->{args} };
	my $call = sub {
		my ($vals, $what) = @_;
		my $list = join(', ', map { "$_ => $vals->{$_}" } grep { exists $vals->{$_} } map { $_->{name} } @args);
		my $sql = $f->{kind} eq 'p' ? "CALL $qname($list);" : "BEGIN; SELECT $qname($list); ROLLBACK;";
		push @calls, { fn => $f->{sig}, what => $what, sql => $sql };
	};
	for my $profile (@{ $profiles{$f->{name}} || [ {} ] })
	{
		my %base;
		for my $a (@args)
		{
			my $v = $profile->{$a->{name}} // $plausible{$f->{name}}{$a->{name}};
			$v //= $plausible{'*'}{$a->{name}} unless $a->{default};
			$v //= $fallback->{$a->{type}} unless $a->{default};
			die "no plausible value for $a->{name} ($a->{type}) of $f->{sig}" if !$a->{default} && !defined $v;
			$base{$a->{name}} = $v if defined $v;
		}
		my $pdesc = %$profile ? ' (' . join(', ', map { "$_ => $profile->{$_}" } sort keys %$profile) . ')' : '';
		$call->(\%base, "plausible arguments$pdesc");
		if (!%$profile && $f->{returns} !~ /trigger/)
		{
			my %all = (%base, map { $_->{name} eq 'selector' ? (selector => "'all'") : () } @args);
			my $list = join(', ', map { "$_ => $all{$_}" } grep { exists $all{$_} } map { $_->{name} } @args);
			push @plausible_calls, [ $f, ($f->{kind} eq 'p' ? 'CALL' : 'SELECT') . " $qname($list)" ];
		}
		for my $a (@args)
		{
			my $vals = $values{$a->{type}} or die "no hostile values for type $a->{type} ($f->{sig})";
			# the other profiles: fewer values of the type, all of the name
			my @v = %$profile ? @$vals[0 .. min(4, $#$vals)] : @$vals;
			push @v, map { [ $_, lit($_) ] } @{ $by_name{$a->{name}} || [] }
				if $a->{type} =~ /^(text|name)$/;
			push @v, map { [ $_, lit($_) ] } @{ $by_name{$a->{name}} || [] }
				if $a->{type} eq 'text[]';
			for my $v (@v)
			{
				$call->({ %base, $a->{name} => $v->[1] }, "$a->{name} ($a->{type}) = $v->[0]$pdesc");
			}
		}
	}
}
# Trigger functions are called as triggers: of every timing and level
# (where PostgreSQL allows it) on a table, a partitioned table, a view and
# a foreign table, with and without arguments and transition tables, fired
# by each kind of write; event trigger functions on every event, fired by
# the DDL that medallion_track_partitions looks at and by other DDL.
my @writes = ("INSERT INTO %s (id) VALUES (999)", "UPDATE %s SET id = id WHERE id < 3", "DELETE FROM %s WHERE id < 3", "TRUNCATE %s");
my @ddl = ('CREATE TABLE public.fz_part_2 PARTITION OF public.fz_part FOR VALUES FROM (1000) TO (2000)',
		   'CREATE TABLE public.fz_part_3 (id int, v int); ALTER TABLE public.fz_part ATTACH PARTITION public.fz_part_3 FOR VALUES FROM (2000) TO (3000)',
		   'CREATE TABLE public.fz_part_4 PARTITION OF public.fz_part FOR VALUES FROM (3000) TO (4000) PARTITION BY RANGE (v); '
		   . 'CREATE TABLE public.fz_part_4a PARTITION OF public.fz_part_4 FOR VALUES FROM (0) TO (10)',
		   'CREATE FOREIGN TABLE public.fz_part_5 PARTITION OF public.fz_part FOR VALUES FROM (4000) TO (5000) SERVER fz_server',
		   'ALTER TABLE public.fz_part DETACH PARTITION public.fz_part_1',
		   'CREATE TABLE public.fz_plain (a int)', 'ALTER TABLE public.fz_src ALTER COLUMN t TYPE varchar(100)',
		   'DROP TABLE public.fz_part_1', 'CREATE INDEX ON public.fz_part (id); CREATE TABLE public.fz_part_6 (id int, v int); '
		   . 'CREATE INDEX fz_part_6_id ON public.fz_part_6 (id); ALTER TABLE public.fz_part ATTACH PARTITION public.fz_part_6 FOR VALUES FROM (6000) TO (7000)');
my $ntrig = 0;
for my $f (grep { $_->{returns} eq 'trigger' } @order)
{
	my $fname = "$f->{schema}.$f->{name}";
	for my $on ([ 'public.fz_src', 'table' ], [ 'public.fz_part', 'partitioned table' ], [ 'fz_pg.orders', 'foreign table' ])
	{
		for my $when ('BEFORE', 'AFTER')
		{
			for my $level ('ROW', 'STATEMENT')
			{
				for my $args ('', q{'a', '%s%n', ''})
				{
					for my $w (@writes)
					{
						next if $w =~ /TRUNCATE/ && ($level eq 'ROW' || $on->[1] eq 'foreign table');
						my $ev = (split / /, $w)[0];
						my $write = sprintf($w, $on->[0]);
						push @calls, { fn => $f->{sig}, what => "as a $when $level $ev trigger on a $on->[1]" . ($args ? " with arguments" : ''),
									   sql => "BEGIN; CREATE TRIGGER fz_trigger $when $ev ON $on->[0] FOR EACH $level EXECUTE FUNCTION $fname($args); $write; ROLLBACK;" };
						$ntrig++;
					}
				}
			}
		}
		push @calls, { fn => $f->{sig}, what => "as an AFTER STATEMENT trigger with a transition table on a $on->[1]",
					   sql => "BEGIN; CREATE TRIGGER fz_trigger AFTER INSERT ON $on->[0] REFERENCING NEW TABLE AS fz_new FOR EACH STATEMENT EXECUTE FUNCTION $fname(); "
						   . sprintf($writes[0], $on->[0]) . "; ROLLBACK;" };
	}
	push @calls, { fn => $f->{sig}, what => "as an INSTEAD OF ROW trigger on a view",
				   sql => "BEGIN; CREATE TRIGGER fz_trigger INSTEAD OF INSERT OR UPDATE OR DELETE ON public.fz_view FOR EACH ROW EXECUTE FUNCTION $fname(); "
					   . "INSERT INTO public.fz_view VALUES (100000); UPDATE public.fz_view SET id = 1; DELETE FROM public.fz_view; ROLLBACK;" };
	push @calls, { fn => $f->{sig}, what => "as an AFTER STATEMENT trigger on a view",
				   sql => "BEGIN; CREATE TRIGGER fz_trigger AFTER INSERT ON public.fz_view FOR EACH STATEMENT EXECUTE FUNCTION $fname(); "
					   . "CREATE RULE fz_rule AS ON INSERT TO public.fz_view DO INSTEAD NOTHING; INSERT INTO public.fz_view VALUES (100000); ROLLBACK;" };
}
for my $f (grep { $_->{returns} eq 'event_trigger' } @order)
{
	my $fname = "$f->{schema}.$f->{name}";
	for my $event (qw(ddl_command_start ddl_command_end sql_drop table_rewrite))
	{
		for my $ddl (@ddl)
		{
			push @calls, { fn => $f->{sig}, what => "as an event trigger on $event, fired by: $ddl",
						   sql => "BEGIN; CREATE EVENT TRIGGER fz_event ON $event EXECUTE FUNCTION $fname(); $ddl; ROLLBACK;" };
		}
	}
}
# Damaged state: what a superuser (or an owner) can do to the objects
# medallion made or reads, under it, in the transaction of a call with
# plausible arguments (selectors: all) of every function.
my @damage = (
	'DROP TABLE public.fz_src CASCADE', 'DROP VIEW medallion_bind.fz_m CASCADE', 'DROP TABLE silver.fz_m CASCADE',
	'ALTER TABLE public.fz_src DROP COLUMN v CASCADE', 'ALTER TABLE public.fz_src RENAME TO fz_src_renamed',
	'ALTER TABLE silver.fz_m RENAME TO fz_m_renamed', 'ALTER TABLE silver.fz_m ADD COLUMN extra int, DROP COLUMN t',
	'ALTER TABLE silver.fz_m SET SCHEMA public', 'DROP TABLE medallion_history.fz_m',
	'DROP TABLE medallion_audit.fz_m__unique_id', 'DROP SCHEMA gold CASCADE', 'DROP SCHEMA medallion_bind CASCADE',
	'DROP SCHEMA medallion_history CASCADE', 'TRUNCATE medallion.runs CASCADE',
	'TRUNCATE medallion.model_dependencies, medallion.analysis, medallion.column_lineage',
	'TRUNCATE medallion.build_state, medallion.model_state', 'TRUNCATE medallion.changes',
	q{UPDATE medallion.build_state SET inputs = '{"x": 1, "public.fz_src": [1]}', snapshot = '1:1:'},
	q{UPDATE medallion.models SET layer = 'gold' WHERE name = 'fz_m'},
	q{UPDATE medallion.models SET unique_key = '{nosuch}', check_columns = '{}', indexes = '{nosuch}', watermark = 'nosuch'},
	q{UPDATE medallion.models SET column_descriptions = '[1]', sql = '', search_path = '"'},
	q{UPDATE medallion.models SET owner = 'nosuch_role'}, q{UPDATE medallion.tests SET kind = 'nosuch'},
	q{UPDATE medallion.sources SET tables = '{nosuch}', options = '{"batch_size": -1}'},
	'DROP TABLE fz_pg.orders CASCADE', 'DROP SCHEMA fz_local CASCADE', 'DROP SERVER fz_remote CASCADE',
	'ALTER TABLE public.fz_src OWNER TO postgres', 'REVOKE medallion_admin FROM fuzz_admin',
	'ALTER TABLE public.fz_src ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY',
	'DROP TRIGGER medallion_changes ON public.fz_src', 'DROP EVENT TRIGGER medallion_track_partitions',
	q{SELECT medallion.schedule_write('delete', 'fz_sched')}, 'DROP TABLE public."fz odd""tbl" CASCADE',
	'DROP TABLE public.fz_part CASCADE',
	# the catalog as only a superuser can write it: what the functions and
	# check constraints never store
	q{UPDATE medallion.tests SET columns = '{}'}, q{UPDATE medallion.tests SET columns = '{NULL}', accepted = '{NULL}'},
	q{UPDATE medallion.tests SET accepted = NULL, to_model = NULL, to_relation = NULL, to_column = NULL, expression = NULL, sql = NULL},
	q{UPDATE medallion.tests SET to_model = 'fz_eph', to_column = 'nosuch', warn_if = '', error_if = '>>'},
	q{UPDATE medallion.models SET materialized = 'snapshot', snapshot_strategy = NULL, unique_key = NULL WHERE name = 'fz_m'},
	q{UPDATE medallion.models SET materialized = 'incremental', unique_key = '{}', watermark = NULL WHERE name = 'fz_m'},
	q{UPDATE medallion.models SET snapshot_strategy = 'timestamp', updated_at_column = NULL, check_columns = '{NULL}'},
	q{UPDATE medallion.models SET materialized = 'ephemeral' WHERE name IN ('fz_m', 'fz_odd')},
	q{UPDATE medallion.models SET unique_key = '{NULL}', tags = '{NULL}', indexes = '{NULL}'},
	q{UPDATE medallion.layers SET schema_name = 'nosuch'}, q{UPDATE medallion.layers SET ordinal = 1},
	q{UPDATE medallion.model_dependencies SET dep_name = 'nosuch', dep_schema = 'nosuch'},
	q{UPDATE medallion.model_dependencies SET dep_name = 'fz_g', dep_schema = 'gold', kind = 'model'},
	q{UPDATE medallion.sources SET kind = 'tds', server_name = NULL, remote_schema = NULL},
	q{UPDATE medallion.runs SET status = 'running', finished_at = NULL, backend_pid = 1, xact = NULL},
	q{UPDATE medallion.runs SET options = 'null', models = -1},
	q{UPDATE medallion.schedules SET selector = '+++', cron = 'x', retries = -1, threads = 0},
	q{INSERT INTO medallion.changes VALUES (0, '0'), (4294967295, '18446744073709551615')},
	q{UPDATE medallion.build_state SET inputs = 'null', version = -1},
	q{UPDATE medallion.model_state SET watermark = 'x', max_seen = '%s%n'},
	q{DELETE FROM medallion.analysis},
);
for my $d (@damage)
{
	for my $c (@plausible_calls)
	{
		push @calls, { fn => $c->[0]{sig}, what => "plausible arguments after: $d", roles => [ 'superuser' ],
					   sql => "BEGIN; $d; $c->[1]; ROLLBACK;", tampered => scalar($d =~ /^(UPDATE|INSERT|DELETE) .*medallion\./) };
	}
}

# Settings: each of medallion's at its extremes (SET LOCAL in the call's
# transaction), under every function with plausible arguments; as the
# superuser and as an admin (who may not set the superuser's settings).
my @settings;
for my $row (split /\n/, psql($db, "SELECT name || '|' || vartype || '|' || coalesce(min_val, '') || '|' || coalesce(max_val, '') || '|' || setting FROM pg_catalog.pg_settings WHERE name LIKE 'medallion.%' ORDER BY 1"))
{
	my ($name, $type, $min, $max, $setting) = split /\|/, $row, -1;
	my @v = $type eq 'bool' ? ($setting eq 'on' ? 'off' : 'on')
		: $type eq 'integer' ? ($min, $max)
		: $type eq 'string' ? ('', '%s%n', '"}, "x": {\\', 'x' x 10000) : ();
	push @settings, map { [ $name, $_ ] } @v;
}
cmp_ok(scalar(@settings), '>=', 10, 'settings to fuzz: ' . scalar(@settings));
for my $set (@settings)
{
	# the functions that read settings
	for my $c (grep { $_->[0]{name} =~ /_run|_test$|plan|docs|rollback|trim_ledger|refresh_source|create_model|reanalyze|check_sources/ }
			   @plausible_calls)
	{
		push @calls, { fn => $c->[0]{sig}, what => "plausible arguments with $set->[0] = " . substr($set->[1], 0, 20),
					   roles => [ 'superuser', 'admin' ],
					   sql => "BEGIN; SET LOCAL $set->[0] = " . lit($set->[1]) . "; $c->[1]; ROLLBACK;" };
	}
}

# and the extension's own event trigger, by DDL of every role
for my $ddl (@ddl)
{
	push @calls, { fn => 'event trigger medallion_track_partitions', what => "fired by: $ddl", sql => "BEGIN; $ddl; ROLLBACK;" };
}
# Last, as the superuser (who goes last), committed: runs in background
# workers over state broken for good
push @calls, map { { fn => 'runs in background workers', what => "committed: $_", roles => [ 'superuser' ], sql => "$_;" } }
	"SELECT count(*) FROM medallion_run('all', threads => 4)", 'DROP TABLE silver.fz_odd CASCADE',
	"SELECT count(*) FROM medallion_run('all', threads => 4)", 'ALTER TABLE public.fz_src RENAME TO fz_src_gone',
	"SELECT count(*) FROM medallion_run('all', threads => 4, full_refresh => true)", "SELECT count(*) FROM medallion_test('all')",
	'SELECT length(medallion_docs())', 'DROP SCHEMA medallion_bind CASCADE', "SELECT count(*) FROM medallion_run('all', threads => 4)",
	"SELECT count(*) FROM medallion_run('all')", "SELECT count(*) FROM medallion_plan('all', threads => 4)";

note(scalar(@calls) . " calls per role");
my %seen_fn;
my @fns = grep { !$seen_fn{$_}++ } map { $_->{fn} } @calls;

# --- running them ------------------------------------------------------

# Is the call made as role? (The damaged-state calls only as the superuser.)
sub for_role
{
	my ($call, $role) = @_;
	return !$call->{roles} || scalar(grep { $_ eq $role } @{ $call->{roles} });
}

# Wait until the server takes connections again (after a crash).
sub wait_server
{
	for (1 .. 600)
	{
		psql($db, 'SELECT 1', ok => \my $up);
		return if $up;
		select(undef, undef, undef, 0.1);
	}
	die "the server did not come back";
}

# The crashes found so far, as errors (sql/errors.sql has those a caller
# reaches with arguments alone)
my @found = (
	[ q{BEGIN; DROP TABLE silver.fz_m CASCADE; SELECT medallion_add_test('fz_odd', 'relationships', column_name => 'we"ird col', to_model => 'fz_m', to_column => 'id');},
	  qr/ERROR:  42P01: model "fz_m" has no relation silver.fz_m to reference/ ],
	[ q{BEGIN; UPDATE medallion.models SET layer = 'gold' WHERE name = 'fz_m'; SELECT medallion_reanalyze('all');},
	  qr/ERROR:  42P01: relation with OID 0 does not exist/ ],
	[ q{BEGIN; UPDATE medallion.tests SET columns = '{}' WHERE model = 'fz_m'; SELECT medallion_test('fz_m');},
	  qr/ERROR:  XX001: medallion.tests holds an invalid row for test \w+ of model "fz_m"/ ],
	[ q{BEGIN; UPDATE medallion.tests SET accepted = NULL WHERE kind = 'accepted_values'; SELECT medallion_reanalyze('all');},
	  qr/ERROR:  XX001: medallion.tests holds an invalid row for test accepted_values_v of model "fz_m"/ ],
	[ q{BEGIN; UPDATE medallion.models SET unique_key = '{NULL}' WHERE name = 'fz_snap'; SELECT medallion_run('fz_snap');},
	  qr/ERROR:  XX001: medallion.models holds an invalid row for model "fz_snap"/ ],
	[ q{BEGIN; UPDATE medallion.models SET snapshot_strategy = 'timestamp', updated_at_column = NULL WHERE name = 'fz_snap'; SELECT medallion_run('fz_snap');},
	  qr/ERROR:  XX001: medallion.models holds an invalid row for model "fz_snap"/ ],
);
for my $f (@found)
{
	my $out = '';
	psql_script($db, "\\set VERBOSITY verbose\nSET client_min_messages = error;\n$f->[0]\nROLLBACK;\n",
				notices => 1, on_error_stop => 0, stdout => '/dev/null', stderr => \$out, ok => \my $ran);
	like($out, $f->[1], "an error, not a crash: $f->[0]");
}

my (@crashes, @internal, @internal_tampered);
for my $role (qw(admin reader plain superuser))
{
	my %crashed_fn;
	my $from = 0;
	my $t0 = time;
	while ($from < @calls)
	{
		my $script = "$tmp/fuzz_$role.sql";
		open my $fh, ">:encoding(UTF-8)", $script or die "cannot write $script: $!";
		print $fh "\\set ON_ERROR_STOP 0\n\\set VERBOSITY verbose\n\\set SHOW_CONTEXT never\n\\o /dev/null\n",
			"SET client_min_messages = error;\nSET statement_timeout = '$timeout';\nSET lock_timeout = '$timeout';\n";
		print $fh "\\warn \@\@ $_\n$calls[$_]{sql}\n"
			for grep { for_role($calls[$_], $role) } $from .. $#calls;
		print $fh "\\warn \@\@ end\n";
		close $fh;
		my $err = "$tmp/fuzz_$role.err";
		psql_file($db, $script, user => $login{$role}, on_error_stop => 0, timeout => 600,
				  stdout => '/dev/null', stderr => $err, ok => \my $ran);
		my $rc = $? >> 8;
		open my $in, '<', $err or die "cannot read $err: $!";
		my ($at, $ended);
		while (my $line = <$in>)
		{
			if ($line =~ /^\@\@ (\d+|end)$/)
			{
				$1 eq 'end' ? ($ended = 1) : ($at = $1);
			}
			elsif ($line =~ /ERROR:\s+XX000: (.*)/ && defined $at)
			{
				# after a superuser wrote medallion's catalog by hand: reported, not failed
				my $list = $calls[$at]{tampered} ? \@internal_tampered : \@internal;
				push @$list, "role $role ($login{$role}), $calls[$at]{fn}, $calls[$at]{what}: $1\n  $calls[$at]{sql}";
			}
		}
		close $in;
		last if $ended;
		# psql lost its connection (or hung): the call at the last marker
		die "psql as $role stopped (exit $rc) before its first call" unless defined $at;
		my $c = $calls[$at];
		push @crashes, "role $role ($login{$role}), $c->{fn}, $c->{what}: psql exit $rc\n  $c->{sql}";
		$crashed_fn{$c->{fn}} = 1;
		diag("CRASH: $crashes[-1]");
		wait_server();
		$from = $at + 1;
	}
	note(sprintf("%s: %d calls in %.1f s", $role, scalar(grep { for_role($_, $role) } @calls), time - $t0));
	ok(!$crashed_fn{$_}, "no crash calling $_ as $role") for @fns;
}

is(psql($db, "SELECT pg_postmaster_start_time()"), $started, 'the postmaster did not restart');
is(psql($db, $sentinel), '1', 'the server did not restart (the session open since the start is still there)')
	or diag("crashes:\n" . join("\n", @crashes));
psql($db, "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE application_name = 'fuzz_sentinel'");
eval { $sentinel_psql->finish };
is(scalar(@internal), 0, 'no internal error (XX000) reached')
	or diag("internal errors:\n" . join("\n", @internal));
note("internal errors after the catalog was written by hand:\n" . join("\n", @internal_tampered)) if @internal_tampered;

my $logtext = '';
ok(-f $log, "the server log is where test/run writes it ($log)");
if (open my $lf, '<', $log)
{
	seek($lf, $log_from, 0);
	local $/;
	$logtext = <$lf> // '';
}
my @bad = grep { /terminated by signal|PANIC|TRAP:|server process .* exited with exit code [^0]/ } split /\n/, $logtext;
is(scalar(@bad), 0, "the server log shows no crashed process ($log)")
	or diag(join("\n", @bad));

# FUZZ_KEEP=1 keeps the databases and roles, to reproduce a call by hand
unless ($ENV{FUZZ_KEEP})
{
	psql('postgres', "DROP DATABASE $db");
	psql('postgres', "DROP DATABASE ${db}_remote");
	psql_script('postgres', "DROP ROLE fuzz_admin; DROP ROLE fuzz_reader; DROP ROLE fuzz_plain;");
}
done_testing();
