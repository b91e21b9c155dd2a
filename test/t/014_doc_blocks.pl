# Every SQL block of README.md and docs/*.md runs as written: those of
# docs/*.md against the demo pipeline (AdventureWorks, as make demo builds
# it), those of README.md (its walkthrough) from an empty database.  The
# blocks of a file run in order, each as one psql script, in a database
# of its own per file, so that a block may use what an earlier block of
# its file made.
# A block that needs what this cluster has not (a SQL Server, Citus
# nodes) is listed in %needs with the reason, and not run; one that goes
# on from the README's walkthrough runs after it.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $root = "$FindBin::Bin/../..";

# A block is named by its file and its first two lines (not its line
# number, which every edit above it moves), joined by " / ":
# file:lines => why it cannot run here
my %needs = (
	'README.md:CREATE EXTENSION medallion; / SELECT medallion_create_model(\'slvr_customers\',' => 'an excerpt of the walkthrough, whose blocks below define brnz_customers and brnz_orders',
	'docs/scale-out.md:CREATE EXTENSION citus;' => 'a Citus cluster (test/citus/001_scale_out.pl builds the pipeline on one)',
	'docs/scale-out.md:SELECT medallion_create_model(\'slvr_sales_orders\', $$ ... $$, layer => \'silver\','
	  => 'a Citus cluster (test/citus/001_scale_out.pl builds the pipeline on one)',
	'docs/sources.md:CREATE EXTENSION tds_fdw;' => 'a SQL Server named aw2014 (docker/compose.yaml runs one; test/tds has its TDS peer)',
);

# Blocks that go on from the README's walkthrough (its crm schema and
# models): they run after its blocks, but its last (the clean-up), in a
# database of their own.
my %after_walkthrough = map { $_ => 1 } (
	'docs/reference.md:SELECT medallion_create_model(\'slvr_orders_inc\',',
	'docs/reference.md:SELECT medallion_add_test(\'slvr_customers\', \'unique\', column_name => \'customer_id\');',
	'docs/sources.md:-- tables that already exist in a schema',
	'docs/reference.md:-- the README\'s walkthrough: slvr_customers counts each customer\'s orders',
	'docs/reference.md:-- the README\'s walkthrough: its crm schema as a source, tested');

# A block's name: its file and first line, and its second when that
# names it (see %needs and %after_walkthrough).
sub block_name
{
	my ($file, $sql, $lines) = @_;
	my @lines = split /\n/, $sql;
	return "$file:" . join(' / ', @lines[ 0 .. ($lines // 1) - 1 ]);
}

# Is a block in %$table, by its first line or its first two?
sub named_in
{
	my ($table, $file, $sql) = @_;
	return $table->{ block_name($file, $sql, 2) } // $table->{ block_name($file, $sql, 1) };
}

# The ```sql blocks of a file: [line, text].
sub blocks
{
	my ($file) = @_;
	open my $fh, '<', $file or die "cannot read $file: $!";
	my (@blocks, $in, $start, $text);
	while (my $line = <$fh>)
	{
		if (!$in && $line =~ /^```sql\s*$/)
		{
			($in, $start, $text) = (1, $., '');
		}
		elsif ($in && $line =~ /^```\s*$/)
		{
			push @blocks, [ $start, $text ];
			$in = 0;
		}
		elsif ($in)
		{
			$text .= $line;
		}
	}
	close $fh;
	return @blocks;
}

my @files = ('README.md', map { s{^\Q$root\E/}{}r } sort glob("$root/docs/*.md"));
my $n = 0;
my @walkthrough = blocks("$root/README.md");
pop @walkthrough;
@walkthrough = grep { !named_in(\%needs, 'README.md', $_->[1]) } @walkthrough;

# a database with the README's walkthrough done, but its clean-up
sub walkthrough_database
{
	my $db = 'tap_blocks_' . ++$n;
	psql('postgres', "DROP DATABASE IF EXISTS $db");
	psql('postgres', "CREATE DATABASE $db");
	psql_script($db, $_->[1]) for @walkthrough;
	return $db;
}

foreach my $file (@files)
{
	my @blocks = blocks("$root/$file");
	next unless @blocks;
	my $db = 'tap_blocks_' . ++$n;
	psql('postgres', "DROP DATABASE IF EXISTS $db");
	psql('postgres', "CREATE DATABASE $db");
	if ($file eq 'README.md')
	{
		# the walkthrough, from an empty database (its roles exist)
		psql('postgres', 'DROP ROLE IF EXISTS etl_user; DROP ROLE IF EXISTS bi_user;
						  CREATE ROLE etl_user LOGIN; CREATE ROLE bi_user LOGIN');
	}
	else
	{
		psql($db, 'CREATE EXTENSION medallion');
		psql_file($db, "$root/examples/adventureworks/generate.sql", vars => { sf => 1, seed => 42 });
		psql_file($db, "$root/examples/adventureworks/sources.sql");
		psql_file($db, "$root/examples/adventureworks/models.sql");
		psql($db, "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('gold')");
	}
	foreach my $block (@blocks)
	{
		my ($line, $sql) = @$block;
		my $where = "$file:$line";
		if (my $why = named_in(\%needs, $file, $sql))
		{
			note("$where not run: it needs $why");
			next;
		}
		my $in = named_in(\%after_walkthrough, $file, $sql) ? walkthrough_database() : $db;
		my $out = psql_script($in, $sql, ok => \my $ok, timeout => 300);
		ok($ok, "$where runs" . ($in eq $db ? '' : ' after the README\'s walkthrough')) or diag($out);
		psql('postgres', "DROP DATABASE $in WITH (FORCE)") if $in ne $db;
	}
	psql('postgres', "DROP DATABASE $db WITH (FORCE)");
}
psql('postgres', 'DROP ROLE IF EXISTS etl_user; DROP ROLE IF EXISTS bi_user');
done_testing();
