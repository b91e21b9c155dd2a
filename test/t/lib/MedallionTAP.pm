# Helpers shared by the TAP tests in test/t and test/citus: psql against
# the cluster that test/run started (PGHOST, PGPORT, PGUSER from the
# environment), other programs, and polling.
#
# Every psql helper takes the database first, then the SQL, as
# PostgreSQL::Test::Cluster's psql does, and starts psql with IPC::Run from
# a list of arguments: SQL never goes through a shell, so it is written as
# psql reads it, with no quoting of its own.
#
#   psql($db, $sql, %opt)         $sql as one -c argument (an array ref of
#                                 strings: one -c each, in one session)
#   psql_script($db, $sql, %opt)  $sql as a script on psql's standard input
#                                 (several statements, psql's \ commands)
#   psql_file($db, $path, %opt)   the script in a file (-f), as its own
#                                 \ir commands expect
#   psql_start($db, $sql, %opt)   psql in the background: an IPC::Run
#                                 harness (finish it, or pump it)
#
# psql runs as psql -X -q -At -v ON_ERROR_STOP=1 -d $db.  The first three
# return what psql printed (standard output and error in the order
# printed, less the last newline), and die when psql fails, unless the
# test asks whether it did (ok => \$ok).  After each, $? is psql's wait
# status, as after system.  Options:
#   ok => \$ok           set $ok to whether psql succeeded, and do not die:
#                        for the tests of errors
#   on_error_stop => 0   go on after an error (the script or -c list)
#   user => $role        -U $role
#   port => $port        -p $port (a Citus worker)
#   vars => {...}        -v name=value for each
#   env => {...}         environment of psql (PGAPPNAME, ...)
#   timeout => $seconds  stop psql after that long: it failed
#   stdout => \$out, stderr => \$err
#                        keep the two apart (the output returned is then
#                        standard output); a file name instead of a
#                        reference writes there ('/dev/null' discards)
#   notices => 1         psql_script only: keep notices (without it the
#                        script starts with SET client_min_messages = warning)
# psql_start takes the same options, and in => \$in (psql's standard
# input: a session fed by the test), out => \$out, err => \$err (or
# merged => \$out for both in one).
package MedallionTAP;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run ();
use Time::HiRes qw(usleep);

our @EXPORT = qw(psql psql_script psql_file psql_start run_ok run_status wait_for $bin);
our $bin = $ENV{PGBIN} || '/usr/lib/postgresql/15/bin';

# The command line of psql for database $db and the options in %$opt.
sub psql_command
{
	my ($db, $opt) = @_;
	my @cmd = ("$bin/psql", '-X', '-q', '-At');
	push @cmd, '-v', 'ON_ERROR_STOP=1' if $opt->{on_error_stop} // 1;
	push @cmd, '-U', $opt->{user} if defined $opt->{user};
	push @cmd, '-p', $opt->{port} if defined $opt->{port};
	push @cmd, '-v', "$_=$opt->{vars}{$_}" for sort keys %{ $opt->{vars} || {} };
	push @cmd, '-d', $db;
	return @cmd;
}

# -c arguments of $sql: a string, or an array ref of strings.
sub commands
{
	my ($sql) = @_;
	return map { ('-c', $_) } (ref $sql eq 'ARRAY' ? @$sql : ($sql));
}

# Run @cmd with $stdin, with the options of %$opt; returns (ok, output).
sub run_psql
{
	my ($stdin, $opt, @cmd) = @_;
	my $out = '';
	my @redirect = exists $opt->{stdout} || exists $opt->{stderr}
	  ? ('>', $opt->{stdout} // \$out, '2>', $opt->{stderr} // \(my $err = ''))
	  : ('>&', \$out);
	my @timer = $opt->{timeout} ? (IPC::Run::timeout($opt->{timeout})) : ();
	local %ENV = (%ENV, %{ $opt->{env} || {} });
	my $ok = eval { IPC::Run::run(\@cmd, '<', \$stdin, @redirect, @timer) };
	my $failure = $@;
	$out = ${ $opt->{stdout} } // '' if ref $opt->{stdout} eq 'SCALAR';
	$out .= "\n$failure" if $failure;
	chomp $out;
	return ($ok ? 1 : 0, $out);
}

sub psql
{
	my ($db, $sql, %opt) = @_;
	return outcome(ref $sql ? join('; ', @$sql) : $sql, \%opt,
				   run_psql('', \%opt, psql_command($db, \%opt), commands($sql)));
}

sub psql_script
{
	my ($db, $sql, %opt) = @_;
	my $script = ($opt{notices} ? '' : "SET client_min_messages = warning;\n") . $sql;
	return outcome($sql, \%opt, run_psql($script, \%opt, psql_command($db, \%opt), '-f', '-'));
}

sub psql_file
{
	my ($db, $path, %opt) = @_;
	return outcome($path, \%opt, run_psql('', \%opt, psql_command($db, \%opt), '-f', $path));
}

# The output of psql, after it ran $what: set ${ $opt->{ok} }, or die when
# it failed.
sub outcome
{
	my ($what, $opt, $ok, $out) = @_;
	if (ref $opt->{ok} eq 'SCALAR')
	{
		${ $opt->{ok} } = $ok;
		return $out;
	}
	return $out if $ok;
	my $err = ref $opt->{stderr} eq 'SCALAR' && defined ${ $opt->{stderr} } ? "\n${ $opt->{stderr} }" : '';
	die "psql failed: $what\n$out$err";
}

sub psql_start
{
	my ($db, $sql, %opt) = @_;
	my $in = $opt{in} // \(my $no_input = '');
	my @redirect = $opt{merged} ? ('>&', $opt{merged})
	  : ('>', $opt{out} // \(my $out = ''), '2>', $opt{err} // \(my $err = ''));
	my @timer = $opt{timeout} ? (IPC::Run::timeout($opt{timeout})) : ();
	my @cmd = (psql_command($db, \%opt), defined $sql ? commands($sql) : ());
	my %env = %{ $opt{env} || {} };
	return IPC::Run::start(\@cmd, init => sub { $ENV{$_} = $env{$_} for keys %env },
						   '<', $in, @redirect, @timer);
}

# Run a program (a list of arguments, no shell); die with its output when it
# fails, else return the output (standard output and error).
sub run_ok
{
	my (@cmd) = @_;
	my ($status, $out) = run_status(@cmd);
	die "command failed: @cmd\n$out" if $status != 0;
	return $out;
}

# Run a program (a list of arguments, no shell); returns its exit status
# and its output (standard output and error).
sub run_status
{
	my (@cmd) = @_;
	my $out = '';
	IPC::Run::run(\@cmd, '<', \undef, '>&', \$out);
	return ($? >> 8, $out);
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
