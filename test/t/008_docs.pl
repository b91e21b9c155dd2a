# The pipeline as a page, as a person sees it.  The demo pipeline's page
# (AdventureWorks, sf 1, after a run) rendered in headless Chromium: one
# SVG node per model, every link target present, no console message (a
# refused style or script would log one), a screenshot kept in test/tmp.
# A pathological graph (300 models with 63-character names, one of them
# reading 100 models) is laid out and its page keeps a cluster per layer.
# A layout process that crashes is an error of that call only: the server
# and the session go on.  Runs against the cluster that test/run started.
use strict;
use warnings;
use Test::More;
use IPC::Run qw(finish timeout);
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $db = 'tap_docs';
my $tmp = $ENV{TEST_TMP} || '/tmp';
my $root = "$FindBin::Bin/../..";

psql('postgres', "DROP DATABASE IF EXISTS $db");
psql('postgres', "CREATE DATABASE $db");
psql($db, "CREATE EXTENSION medallion");

# Render a file in headless Chromium; returns what it printed and the
# console's messages (errors, refused loads, policy violations).
sub chromium
{
	my ($file, @options) = @_;
	my @cmd = ('chromium', '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
		"--user-data-dir=$tmp/chromium-profile", '--enable-logging=stderr', '--v=0',
		@options, "file://$file");
	my ($in, $out, $err) = ('', '', '');
	IPC::Run::run(\@cmd, \$in, \$out, \$err, timeout(180))
	  or die "chromium failed: $err";
	my @console = grep { /CONSOLE|Refused to|Uncaught|violates/ } split /\n/, $err;
	return ($out, \@console);
}

sub write_file
{
	my ($file, $text) = @_;
	open my $fh, '>', $file or die "cannot write $file: $!";
	print $fh $text;
	close $fh;
}

# The console check sees what it looks for: a page with a failing script
# and a style its policy refuses.
write_file("$tmp/docs_console_check.html",
	    "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
	  . "content=\"default-src 'none'; script-src 'unsafe-inline'\"><style>p{color:red}</style></head>"
	  . "<body><p>x</p><script>no_such_function();</script></body></html>");
my (undef, $control) = chromium("$tmp/docs_console_check.html", '--dump-dom');
ok((grep { /no_such_function/ } @$control), 'the console check sees a script error');
ok((grep { /inline style violates the following Content Security Policy/ } @$control),
	'the console check sees a refused style');

# --- the demo pipeline ------------------------------------------------
psql_file($db, "$root/examples/adventureworks/generate.sql", vars => { sf => 1, seed => 42 });
psql_file($db, "$root/examples/adventureworks/sources.sql");
psql_file($db, "$root/examples/adventureworks/models.sql");
psql($db, "SELECT count(*) FROM medallion_run('gold')");
my $models = psql($db, "SELECT count(*) FROM medallion.models");
my $page_file = "$tmp/docs_demo.html";
write_file($page_file, psql($db, "SELECT medallion_docs()"));

my ($dom, $console) = chromium($page_file, '--dump-dom');
like($dom, qr/<svg/, 'Chromium rendered the page');
my $nodes = () = $dom =~ /<g id="graph_model_[a-z0-9_]+" class="node">/g;
is($nodes, $models, "one SVG node per model ($models)");
my $sections = () = $dom =~ /<article class="model" id="model-/g;
is($sections, $models, 'a section per model');
my %ids = map { $_ => 1 } ($dom =~ /\bid="([^"]+)"/g);
my @targets = ($dom =~ /href="#([^"]*)"/g);
my @missing = grep { !$ids{$_} } @targets;
ok(@targets > $models, scalar(@targets) . ' links inside the page');
is_deeply(\@missing, [], 'every link target exists');
is_deeply($console, [], 'no console message (no script error, nothing refused)');
like($dom, qr/<section id="last-run">.*?<rect /s, 'the last run has a Gantt chart');

# --- filters and focus, as the page's script applies them -------------
# The script reads the page's query string (what the filter bar writes
# there): each model's section, index entry and grid row is hidden when it
# does not match, its graph node dimmed.  Returns the models shown and
# hidden, and the console.
sub filtered
{
	my ($query) = @_;
	my ($dom, $console) = chromium("$page_file?$query", '--dump-dom');
	my (%shown, %hidden);
	while ($dom =~ /<article ([^>]*)>(.*?)<\/article>/gs)
	{
		my ($attrs, $body) = ($1, $2);
		next unless $attrs =~ /\bid="model-([^"]+)"/;
		my $name = $1;
		$body =~ s/<[^>]*>//g;
		($attrs =~ /\bhidden\b/ ? \%hidden : \%shown)->{$name} = $body;
	}
	my $dimmed = () = $dom =~ /<g id="graph_model_[a-z0-9_]+" class="node dim">/g;
	my $grid_hidden = () = $dom =~ /<tr data-model="[^"]+" hidden="">/g;
	return (\%shown, \%hidden, $console, $dimmed, $grid_hidden);
}
sub models_of
{
	my ($sql) = @_;
	return [ sort split /\n/, psql($db, $sql) ];
}

my ($shown, $hidden, $fconsole, $dimmed, $grid_hidden) = filtered('layer=gold');
is_deeply([ sort keys %$shown ], models_of("SELECT name FROM medallion.models WHERE layer = 'gold'"),
		  'the layer filter shows the gold models only');
is($dimmed, scalar(keys %$hidden), 'and dims the graph nodes of the others');
is($grid_hidden, scalar(keys %$hidden), 'and hides their rows of the runs grid');
is_deeply($fconsole, [], 'the script runs without a console message');

($shown, $hidden, $fconsole) = filtered('q=Customer');
ok(keys %$shown > 0 && keys %$hidden > 0, 'a search shows some models, not all');
is_deeply([ grep { lc($shown->{$_}) !~ /customer/ } keys %$shown ], [], 'each one shown has the text');
is_deeply([ grep { lc($hidden->{$_}) =~ /customer/ } keys %$hidden ], [], 'each one hidden has not');

($shown) = filtered('layer=silver&status=success&q=order');
is_deeply([ sort keys %$shown ],
		  models_of("SELECT name FROM medallion.models m WHERE layer = 'silver'
					 AND (SELECT status FROM medallion.run_models r WHERE r.model = m.name ORDER BY run_id DESC LIMIT 1) = 'success'
					 AND (m.sql ILIKE '%order%' OR m.name ILIKE '%order%' OR m.description ILIKE '%order%'
						  OR EXISTS (SELECT FROM medallion.column_lineage c WHERE c.model = m.name AND c.column_name ILIKE '%order%'))"),
		  'filters combine');

my $up_sql = "WITH RECURSIVE up (name) AS (SELECT 'slvr_customers'::text
				UNION SELECT d.dep_name::text COLLATE \"default\" FROM medallion.model_dependencies d JOIN up ON d.model = up.name AND d.kind = 'model')
			  SELECT name FROM up";
my $down_sql = "WITH RECURSIVE down (name) AS (SELECT 'slvr_customers'::text
				  UNION SELECT d.model FROM medallion.model_dependencies d JOIN down ON d.dep_name = down.name AND d.kind = 'model')
				SELECT name FROM down";
($shown, undef, $fconsole) = filtered('focus=slvr_customers&dir=up');
is_deeply([ sort keys %$shown ], models_of($up_sql), 'focus upstream: the model and all it reads, through models');
($shown) = filtered('focus=slvr_customers&dir=down');
is_deeply([ sort keys %$shown ], models_of($down_sql), 'focus downstream: the model and all that reads it');
($shown) = filtered('focus=slvr_customers');
is_deeply([ sort keys %$shown ], models_of("SELECT * FROM ($up_sql) u UNION SELECT * FROM ($down_sql) d"), 'focus: both');
ok(keys %$shown > 1 && keys %$shown < $models, 'which is some models, not all');
is_deeply($fconsole, [], 'with no console message');
($shown, $hidden, $fconsole) = filtered('focus=__proto__&layer=%3Cscript%3E&q=%27%22%3C');
is_deeply([ scalar(keys %$shown), $fconsole ], [ 0, [] ], 'odd values in the address match nothing and break nothing');
($shown, undef, $fconsole) = filtered('focus=no_such_model');
is_deeply([ scalar(keys %$shown), $fconsole ], [ $models, [] ], 'a focus on no model of the page shows them all');
like($dom, qr/<table class="grid">.*?<td class="success"><a href="#run-\d+" title="/s, 'the runs grid colors each step');

my $shot = "$tmp/docs_demo.png";
unlink $shot;
chromium($page_file, "--screenshot=$shot", '--window-size=1400,1600');
ok(-s $shot > 50_000, "a screenshot of the page: $shot");

# --- a pathological graph ---------------------------------------------
psql_script($db, <<'SQL');
CREATE TABLE public.base (id int);
DO $$
DECLARE
	pad text := repeat('x', 58);
BEGIN
	FOR i IN 1..100 LOOP
		PERFORM medallion_create_model(left(format('b%s_%s', i, pad), 63), 'SELECT id FROM public.base', 'bronze',
			tags => '{wide}');
	END LOOP;
	FOR i IN 1..150 LOOP
		PERFORM medallion_create_model(left(format('s%s_%s', i, pad), 63),
			format('SELECT a.id FROM bronze.%I a JOIN bronze.%I b USING (id) JOIN bronze.%I c USING (id)',
				   left(format('b%s_%s', 1 + (i * 7) % 100, pad), 63),
				   left(format('b%s_%s', 1 + (i * 13) % 100, pad), 63),
				   left(format('b%s_%s', 1 + (i * 31) % 100, pad), 63)),
			'silver', materialized => 'view', tags => '{wide}');
	END LOOP;
	FOR i IN 1..49 LOOP
		PERFORM medallion_create_model(left(format('g%s_%s', i, pad), 63),
			format('SELECT a.id FROM silver.%I a JOIN silver.%I b USING (id)',
				   left(format('s%s_%s', 1 + (i * 11) % 150, pad), 63),
				   left(format('s%s_%s', 1 + (i * 17) % 150, pad), 63)),
			'gold', materialized => 'view', tags => '{wide}');
	END LOOP;
	PERFORM medallion_create_model(left('g_reads_100_' || pad, 63),
		(SELECT string_agg(format('SELECT id FROM silver.%I', left(format('s%s_%s', i, pad), 63)), ' UNION ALL ')
		   FROM generate_series(1, 100) i),
		'gold', materialized => 'view', tags => '{wide}');
END
$$;
SQL
is(psql($db, "SELECT count(*) FROM medallion.model_dependencies WHERE model LIKE 'g\\_reads\\_100\\_%'"), 100,
	'a model reads 100 models');
my $svg = psql($db, "SELECT medallion_graph('tag:wide', 'svg')");
my $wide_nodes = () = $svg =~ /<g id="graph_model_/g;
is($wide_nodes, 300, 'the 300-model graph is laid out');
my $wide_page = psql($db, "SELECT medallion_docs('tag:wide')");
my @clusters = ($wide_page =~ /<g id="clust\d+" class="cluster">\s*<title>[^<]*<\/title>\s*<path[^>]*>\s*<text[^>]*>([a-z]+)<\/text>/g);
is_deeply([ sort @clusters ], [ 'bronze', 'gold', 'silver' ], 'its page keeps a cluster per layer');

# --- a layout process that crashes ------------------------------------
# The layout runs in a child of the backend: kill it with SIGSEGV while it
# works.  The call fails with an error naming the signal; the session and
# the server go on.  (A layout can end before it is caught: try again.)
my ($bystander_in, $bystander_out) = ("SELECT 'watching';\n", '');
my $bystander = psql_start($db, undef, in => \$bystander_in, out => \$bystander_out, timeout => 300);
$bystander->pump until $bystander_out =~ /watching/;
my $caught = 0;
for my $attempt (1 .. 20)
{
	my ($out, $err) = ('', '');
	my $h = psql_start($db, [ "SELECT 'pid ' || pg_backend_pid()", "SELECT length(medallion_graph('tag:wide', 'svg'))",
							  "SELECT 'after'" ], out => \$out, err => \$err, on_error_stop => 0, timeout => 120);
	my $backend;
	while ($h->pumpable && !defined $backend)
	{
		$h->pump_nb;
		$backend = $1 if $out =~ /pid (\d+)/;
		usleep(1000);
	}
	while (defined $backend && $h->pumpable)
	{
		my @children = split /\s+/, `pgrep -P $backend 2>/dev/null`;
		if (@children && $children[0] ne '')
		{
			kill 'SEGV', grep { /^\d+$/ } @children;
			last;
		}
		$h->pump_nb;
		usleep(2000);
	}
	finish $h;
	if ($err =~ /the graph layout failed/)
	{
		$caught = 1;
		like($err, qr/terminated by signal 11/, 'the error names the signal');
		like($out, qr/after/, 'the session goes on');
		last;
	}
}
ok($caught, 'a crashed layout process is an error of the call');
# a crash of a backend would have ended every session: this one goes on
$bystander_in .= "SELECT 'still here';\n\\q\n";
finish $bystander;
like($bystander_out, qr/still here/, 'another session was not interrupted: the server did not restart');
like(psql($db, "SELECT left(medallion_graph('tag:wide', 'svg'), 5)"), qr/<\?xml/, 'the next layout works');

done_testing();
