#!/bin/bash
#
# examples/adventureworks/demo_citus.sh: what "make demo-citus" does.
#
# The AdventureWorks pipeline on a Citus cluster on this one machine: sets
# up as make test does, installs Citus if it is not (from
# ../shared/vendor/citus when present), starts a coordinator and two
# workers in /tmp/medallion-citus-demo (test/citus/cluster.sh), generates
# the source (sf = 1) on the coordinator, registers the models, makes the
# order lines, customers and customer metrics distributed by customer_id
# and products and calendar reference tables (distribute.sql), runs
# medallion_run('gold') and shows where the rows are.  The nodes keep
# running; "demo_citus.sh stop" (make demo-citus-stop) stops and removes
# them.  SF=n changes the scale.
#
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin
DEMO=/tmp/medallion-citus-demo
SF=${SF:-1}

if [ "${1:-}" = "stop" ]; then
	[ -d "$DEMO" ] && bash "$ROOT/test/citus/cluster.sh" stop "$DEMO" && rm -rf "$DEMO" && echo "demo-citus: stopped"
	exit 0
fi
say() { printf '\n== %s\n' "$*"; }

bash "$ROOT/test/run" --setup-only
if [ ! -f "$($PGBIN/pg_config --pkglibdir)/citus.so" ]; then
	[ -f "$ROOT/../shared/vendor/citus/install.sh" ] ||
		{ echo "demo-citus: Citus is not installed; install Citus 13.2 for PostgreSQL 15 first" >&2; exit 1; }
	say "building and installing Citus (a few minutes)"
	PG_CONFIG=$PGBIN/pg_config bash "$ROOT/../shared/vendor/citus/install.sh"
fi
[ -d "$DEMO" ] && bash "$ROOT/test/citus/cluster.sh" stop "$DEMO" && rm -rf "$DEMO"

say "starting a coordinator and two workers (data in $DEMO)"
ports=($(bash "$ROOT/test/citus/cluster.sh" start "$DEMO" 54400 "$DEMO"))
PSQL="$PGBIN/psql -X -v ON_ERROR_STOP=1 -h $DEMO -p ${ports[0]} -U postgres -d postgres"
$PSQL -q -c "CREATE EXTENSION medallion" >/dev/null
echo "coordinator on port ${ports[0]}, workers on ports ${ports[1]} and ${ports[2]}"

say "generating the AdventureWorks source (sf = $SF) and registering the models"
start=$(date +%s)
$PSQL -q -v sf="$SF" -v seed=42 -f "$ROOT/examples/adventureworks/generate.sql" 2>/dev/null
$PSQL -q -f "$ROOT/examples/adventureworks/sources.sql" >/dev/null
$PSQL -q -f "$ROOT/examples/adventureworks/models.sql" >/dev/null
$PSQL -q -f "$ROOT/examples/adventureworks/distribute.sql" >/dev/null

say "the distributed and reference models"
$PSQL -c "SELECT name AS model, distribution, distributed_by, colocate_with FROM medallion.models
           WHERE distribution IS NOT NULL ORDER BY name"

say "SELECT * FROM medallion_run('gold')"
$PSQL -c "SELECT model, status, rows, ms FROM medallion_run('gold')"

say "where the order lines are: their shards, on each worker"
$PSQL -c "SELECT nodename, nodeport, count(*) AS shards, pg_size_pretty(sum(shard_size)) AS size
            FROM citus_shards WHERE table_name = 'silver.slvr_sales_orders'::regclass GROUP BY 1, 2 ORDER BY 2"

say "ready in $(( $(date +%s) - start )) s; the nodes keep running"
cat <<MSG
  psql, on the coordinator: psql -h $DEMO -p ${ports[0]} -U postgres postgres
  try:                      SELECT * FROM medallion.status;
                            SELECT * FROM medallion_run('gold');
  read:                     docs/scale-out.md
  stop it:                  make demo-citus-stop
MSG
