#!/bin/bash
#
# examples/adventureworks/demo.sh: what "make demo" does.
#
# Sets up as make test does (packages, build, install), starts a cluster in
# a new temporary directory (mktemp -d, printed), generates the
# AdventureWorks source (sf = 1), registers both model sets, runs
# medallion_run('gold') with its progress, schedules it every hour (pg_cron
# runs the job as a background worker), shows a few gold rows and the
# lineage graph, writes the pipeline's page (pipeline.html in that
# directory, from medallion_docs()) and says how to connect.
# The cluster keeps running; "demo.sh stop" (make demo-stop) stops it and
# removes its directory.  The directory of the running demo is kept in
# $STATE; a new demo stops the previous one first.  Nothing else is
# removed: stop removes only a directory that has demo.sh's mark in it.
# SF=n changes the scale.
#
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# the PostgreSQL that test/run sets up (PG_CONFIG picks another install)
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$($PG_CONFIG --bindir)
STATE=${TMPDIR:-/tmp}/medallion-demo.current
MARK=.medallion-demo
SF=${SF:-1}

as_cluster_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Stop the demo whose directory $STATE names, and remove that directory
# if demo.sh made it (it has $MARK).
stop() {
	local dir
	[ -f "$STATE" ] || { echo "demo: none is running"; return 0; }
	dir=$(cat "$STATE")
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_cluster_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
		echo "demo: stopped the cluster in $dir"
	fi
	if [ -n "$dir" ] && [ -f "$dir/$MARK" ]; then
		rm -rf "$dir"
	fi
	rm -f "$STATE"
}

if [ "${1:-}" = "stop" ]; then
	stop
	exit 0
fi

say() { printf '\n== %s\n' "$*"; }

bash "$ROOT/test/run" --setup-only
stop >/dev/null 2>&1 || true
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/medallion-demo.XXXXXX")
touch "$DEMO/$MARK"
echo "$DEMO" > "$STATE"
[ "$(id -u)" = 0 ] && chown postgres "$DEMO"
echo "demo: its files are in $DEMO"

PORT=54399
while (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
	PORT=$((PORT + 1))
done

say "starting a cluster on port $PORT (data in $DEMO/data)"
as_cluster_owner "$PGBIN/initdb" -D "$DEMO/data" -U postgres -E UTF8 --locale=C.UTF-8 \
	--auth-local=trust --auth-host=scram-sha-256 >"$DEMO/initdb.log"
cat >> "$DEMO/data/postgresql.conf" <<EOF
port = $PORT
unix_socket_directories = '$DEMO'
listen_addresses = 'localhost'
shared_preload_libraries = 'pg_cron,medallion'
cron.database_name = 'adventureworks'
# pg_cron runs each job as a background worker: its launcher needs no
# login (host connections here ask for a password, which it has not)
cron.use_background_workers = on
max_worker_processes = 16
EOF
as_cluster_owner "$PGBIN/pg_ctl" -D "$DEMO/data" -l "$DEMO/postgresql.log" -w start >/dev/null

PSQL="$PGBIN/psql -X -v ON_ERROR_STOP=1 -h $DEMO -p $PORT -U postgres"
$PSQL -q -d postgres -c "CREATE DATABASE adventureworks" >/dev/null
PSQL="$PSQL -d adventureworks"
$PSQL -q -c "CREATE EXTENSION medallion" -c "CREATE EXTENSION pg_cron" >/dev/null

say "generating the AdventureWorks source (sf = $SF)"
start=$(date +%s)
$PSQL -q -v sf="$SF" -v seed=42 -f "$ROOT/examples/adventureworks/generate.sql"
$PSQL -At -F ' | ' -c "SELECT 'orders', count(*) FROM \"Sales\".\"SalesOrderHeader\"
	UNION ALL SELECT 'order lines', count(*) FROM \"Sales\".\"SalesOrderDetail\"
	UNION ALL SELECT 'customers', count(*) FROM \"Sales\".\"Customer\"
	UNION ALL SELECT 'products', count(*) FROM \"Production\".\"Product\""

say "registering the models and their tests"
$PSQL -q -f "$ROOT/examples/adventureworks/sources.sql" >/dev/null
$PSQL -q -f "$ROOT/examples/adventureworks/models.sql" >/dev/null
$PSQL -At -c "SELECT count(*) || ' models, ' || (SELECT count(*) FROM medallion.tests) || ' tests' FROM medallion.models"

say "SELECT * FROM medallion_run('gold')"
$PSQL -c "SELECT model, status, rows, ms, tests_passed AS passed, tests_warned AS warned, tests_failed AS failed FROM medallion_run('gold')"

say "SELECT medallion_schedule('gold_hourly', 'gold', '7 * * * *')"
$PSQL -At -c "SELECT 'pg_cron job ' || medallion_schedule('gold_hourly', 'gold', '7 * * * *') || ': gold at 7 past every hour (GMT)'"

say "gold: the last days of sales"
$PSQL -c "SELECT order_date, orders, revenue, avg_order_value, revenue_ma_7d, revenue_ytd
            FROM gold.gld_sales_summary ORDER BY order_date DESC LIMIT 5"
say "gold: the best product of each category"
$PSQL -c "SELECT category, product_name, units_sold, revenue, margin
            FROM gold.gld_product_performance WHERE rank_in_category = 1 ORDER BY category"
say "gold: customers by segment"
$PSQL -c "SELECT rfm_segment, count(*) AS customers, round(avg(lifetime_value), 2) AS avg_lifetime_value
            FROM gold.gld_customer_metrics GROUP BY 1 ORDER BY 2 DESC"

say "lineage: SELECT medallion_graph('all', 'mermaid')"
$PSQL -At -c "SELECT medallion_graph('all', 'mermaid')"

say "the pipeline as a page: SELECT medallion_docs()"
$PSQL -At -c "SELECT medallion_docs()" > "$DEMO/pipeline.html"
echo "  wrote $DEMO/pipeline.html: open it in a browser"

$PSQL -q -c "CREATE ROLE bi_reader LOGIN PASSWORD 'bi_reader' IN ROLE medallion_reader" >/dev/null
say "ready in $(( $(date +%s) - start )) s; the cluster keeps running"
cat <<EOF
  psql, as an admin:        psql -h $DEMO -p $PORT -U postgres adventureworks
  BI tools, read-only gold: host localhost, port $PORT, database adventureworks,
                            user bi_reader, password bi_reader (member of medallion_reader)
                            postgresql://bi_reader:bi_reader@localhost:$PORT/adventureworks
  the pipeline as a page:   $DEMO/pipeline.html
  try:                      SELECT * FROM medallion.status;
                            SELECT * FROM medallion_lineage('gld_sales_summary', 'revenue');
                            SELECT * FROM medallion_run('gold', threads => 2);
                            SELECT * FROM medallion.schedules;
  stop it:                  make demo-stop
EOF
