# Helpers shared by the TAP tests in test/t: psql against the cluster that
# test/run started (PGHOST / PGPORT from the environment), and polling.
package MedallionTAP;
use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(usleep);

our @EXPORT = qw(psql psql_file run_ok wait_for $bin);
our $bin = $ENV{PGBIN} || '/usr/lib/postgresql/15/bin';
our $db;

# Run one statement in $MedallionTAP::db (or $dbname), unaligned, tuples
# only; dies on an error.
sub psql
{
	my ($sql, $dbname) = @_;
	my $out = `$bin/psql -X -q -At -v ON_ERROR_STOP=1 -d @{[ $dbname || $db ]} -c "$sql" 2>&1`;
	die "psql failed: $sql\n$out" if $? != 0;
	chomp $out;
	return $out;
}

# Run a program; die with its output when it fails, else return the output.
sub run_ok
{
	my (@cmd) = @_;
	my $out = `@cmd 2>&1`;
	die "command failed: @cmd\n$out" if $? != 0;
	return $out;
}

# Run SQL (several statements, any quoting) in $dbname from a file in
# TEST_TMP, unaligned, tuples only, without notices; returns the output,
# dies on an error.
sub psql_file
{
	my ($dbname, $sql) = @_;
	my $file = ($ENV{TEST_TMP} || '/tmp') . "/tap_$$.sql";
	open my $fh, '>', $file or die "cannot write $file: $!";
	print $fh "SET client_min_messages = warning;\n$sql";
	close $fh;
	my $out = run_ok("$bin/psql", '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $dbname, '-f', $file);
	chomp $out;
	return $out;
}

# Poll $check every 0.1 s until it returns true; dies after a minute.
sub wait_for
{
	my ($what, $check) = @_;
	for (1 .. 600)
	{
		my $ok = eval { $check->() };
		return 1 if $ok;
		usleep(100_000);
	}
	die "timed out waiting for $what";
}

1;
