# The short variant of bench/diff_maintain.py (issue 31's differential
# harness): random star schemas (plain and partitioned facts, dimensions
# with NULL and duplicate keys), random table models of the maintained
# class (joins, GROUP BY with every aggregate, HAVING, DISTINCT, UNION ALL,
# window functions), random DML batches (inserts, updates of keys and
# values, deletes of extremes, groups and both sides of a join, TRUNCATE,
# ON CONFLICT, MERGE, two-phase commits, rolled-back subtransactions,
# transactions open or prepared across the run), a change-aware run after
# each, and every model compared with its query as a multiset.  A fixed
# seed and a fixed number of cases, stopped after 50 seconds (fewer cases
# on a loaded machine); then the harness itself is checked: a made-up
# maintenance bug (--sabotage) must be reported as a mismatch and shrunk.
# bench/README.md tells how to run the long one.
use strict;
use warnings;
use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $root = $ENV{MEDALLION_ROOT} || "$FindBin::Bin/../..";
my $dsn = "host=$ENV{PGHOST} port=$ENV{PGPORT} user=" . ($ENV{PGUSER} || 'postgres');
my $prepared = psql('postgres', 'SHOW max_prepared_transactions');
diag("max_prepared_transactions = 0: the two-phase commits are left out") if $prepared == 0;

my $start = time;
my ($status, $out) = run_status($python, "$root/bench/diff_maintain.py", '--dsn', $dsn, '--seed', 1,
								'--cases', 1500, '--time-limit', 50, '--dbname', 'tap_diff_maintain');
diag($out) if $status != 0;
is($status, 0, 'the short differential run ends without a mismatch or an error');
my ($cases) = $out =~ /seed 1: (\d+) cases, 0 mismatches, 0 errors/;
ok(defined $cases && $cases >= 100, 'at least 100 cases (a model compared with its query after a batch), none differing')
  or diag($out);
diag("$cases cases in " . (time - $start) . " s") if defined $cases;
my ($up, $built) = $out =~ /(\d+) cases up to date, (\d+) built/;
ok(defined $up && $up > 0 && $built > 0, 'models skipped as up to date and models built again were both compared');
like($out, qr/two-phase commits on/, 'two-phase commits are part of it') if $prepared > 0;

# The harness catches a maintenance bug: after each change-aware run the
# rows whose first column is NULL go missing from every model.
($status, $out) = run_status($python, "$root/bench/diff_maintain.py", '--dsn', $dsn, '--seed', 3,
							 '--cases', 400, '--sabotage', '--shrink-time', 15, '--dbname', 'tap_diff_maintain');
is($status, 1, 'a made-up maintenance bug fails the run');
# (ok, not like: the output holds the round's data, too long to print)
ok($out =~ /MISMATCH: round seed \d+ .*model q\d+ after batch \d+/, 'the mismatch names the round seed, the model and the batch');
ok($out =~ /in the query, not in the model \([1-9]\d* rows\):\n    \(None/, 'it prints the rows missing from the model');
ok($out =~ /minimal case \(\d+ replays.*?medallion_create_model\('q', \$\$ SELECT /s,
	'it shrinks the case and prints the smallest query');
ok($out =~ /seed 3: \d+ cases, 1 mismatches/, 'one mismatch counted');

psql('postgres', "DROP DATABASE IF EXISTS $_ WITH (FORCE)") for qw(tap_diff_maintain tap_diff_maintain_shrink);
done_testing();
