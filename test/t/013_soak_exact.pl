# The short variant of bench/soak_exact.py (a fixed seed, 20 check points):
# a pipeline of views, an ephemeral model, tables, a snapshot and
# incremental models (merge, delete+insert, append) over a plain, a
# partitioned, an inherited, a dimension and a subscribed table,
# with writers doing inserts, updates, deletes, COPY, TRUNCATE, two-phase
# commits, rolled-back subtransactions, replica-role writes and
# transactions open across runs, and runs serial and with threads; at each
# check point every model equals its query (an incremental model holds
# every current source row; append adds each once).  bench/soak_exact.sh runs the
# long one.
use strict;
use warnings;
use Test::More;

use FindBin;
use lib "$FindBin::Bin/lib";
use MedallionTAP;

my $wal_level = psql('postgres', 'SHOW wal_level');
plan skip_all => "wal_level is $wal_level: the soak subscribes to a publication" if $wal_level ne 'logical';
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $root = $ENV{MEDALLION_ROOT} || "$FindBin::Bin/../..";
my $dsn = "host=$ENV{PGHOST} port=$ENV{PGPORT} user=" . ($ENV{PGUSER} || 'postgres');
my ($status, $out) = run_status($python, "$root/bench/soak_exact.py", '--dsn', $dsn, '--seed', 1, '--checks', 20,
								'--writers', 3);
diag($out) if $status != 0;
is($status, 0, 'the short soak ends without a mismatch or an error');
like($out, qr/20 check points, \d+ runs, 0 mismatches/, 'twenty check points, every model equal to its query');
for my $db (qw(soak_exact soak_exact_pub))
{
	psql('postgres', "DROP DATABASE IF EXISTS $db WITH (FORCE)");
}
done_testing();
