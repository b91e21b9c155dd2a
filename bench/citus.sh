#!/bin/bash
# bench/citus.sh: the cost of distribution, measured on one machine.
#
# 1. The AdventureWorks pipeline at sf $SF (default 10), full refresh
#    (medallion_run('gold'), every model of the pipeline), on
#    one node against a Citus coordinator with two workers (three
#    instances of this machine; examples/adventureworks/distribute.sql
#    distributes the order lines, customers, customer metrics, fact table
#    and customer snapshot by customer_id and makes products, the product
#    snapshot and calendar reference tables).  Both
#    must publish the same tables.  This machine has 2 cores for all three
#    instances: the figure is what distribution costs, not a speed-up.
# 2. The publish of one table model of $ROWS rows (default 1,000,000):
#    local (a storage swap) against distributed (each worker copies its
#    shards of the candidate into the published table's, and the previous
#    rows out first), from the run's own "published ... in N ms".  Readers
#    of the table wait that long.
# Median (and range) of $ROUNDS rounds, alternating.  Needs Citus
# installed (../shared/vendor/citus/install.sh).
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
SF=${SF:-10}
ROWS=${ROWS:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$($PGBIN/pg_config --pkglibdir)/citus.so" ] ||
	{ echo "bench/citus.sh: Citus is not installed (../shared/vendor/citus/install.sh installs it)" >&2; exit 1; }
start_cluster
stop_both() { bash "$ROOT/test/citus/cluster.sh" stop "$BENCH_DIR/citus"; stop_cluster; }
trap stop_both EXIT
ports=($(bash "$ROOT/test/citus/cluster.sh" start "$BENCH_DIR/citus" $((BENCH_PORT + 1)) "$BENCH_DIR"))
CITUS="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $BENCH_DIR -p ${ports[0]} -U postgres -d postgres"
$CITUS -c "CREATE EXTENSION medallion" >/dev/null

for P in "$PSQL" "$CITUS"; do
	# (Citus warns that the generator's temporary function stays on the coordinator)
	$P -v sf="$SF" -v seed=42 -f "$ROOT/examples/adventureworks/generate.sql" >/dev/null 2>&1
	$P -f "$ROOT/examples/adventureworks/sources.sql" >/dev/null
	$P -f "$ROOT/examples/adventureworks/models.sql" >/dev/null
done
$CITUS -f "$ROOT/examples/adventureworks/distribute.sql" >/dev/null
for P in "$PSQL" "$CITUS"; do
	$P -v sf="$ROWS" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE public.big_src AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS h FROM generate_series(1, :sf) g;
SELECT medallion_create_model('big_local', 'SELECT id, k, h FROM public.big_src', layer => 'silver', tags => '{big}');
SQL
done
$CITUS -c "SELECT medallion_create_model('big_dist', 'SELECT id, k, h FROM public.big_src', layer => 'silver',
                                         distributed_by => 'id', tags => '{big}')" >/dev/null

full_run() {	# ms of a full-refresh run of the pipeline
	local t0 t1
	t0=$(now_ms)
	$1 -c "SET client_min_messages = warning;
		SELECT 1 / (count(*) FILTER (WHERE status NOT IN ('success', 'up_to_date')) = 0)::int
		  FROM medallion_run('gold', full_refresh => true)" >/dev/null
	t1=$(now_ms)
	echo $((t1 - t0))
}
publish_ms() {	# the run's own publish time of one model
	$1 -c "SET medallion.log_timing = on; SELECT count(*) FROM medallion_run('$2', changed_only => false)" 2>&1 |
		sed -n 's/.*published 1 in \([0-9,]*\) ms.*/\1/p' | tr -d ,
}
fingerprint() {	# the gold and silver table models, as one md5
	local out="" t
	for t in $($1 -At -c "SELECT format('%I.%I', l.schema_name, m.name) FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer
						   WHERE m.materialized IN ('table', 'incremental') AND NOT 'big' = ANY (m.tags) ORDER BY 1"); do
		out+=$($1 -At -c "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $t x")
	done
	echo "$out" | md5sum | cut -c1-32
}

single=(); dist=(); plocal=(); pdist=()
for i in $(seq 1 "$ROUNDS"); do
	single+=($(full_run "$PSQL"))
	dist+=($(full_run "$CITUS"))
	plocal+=($(publish_ms "$PSQL" big_local))
	pdist+=($(publish_ms "$CITUS" big_dist))
done
[ "$(fingerprint "$PSQL")" = "$(fingerprint "$CITUS")" ] || { echo "the two pipelines published different tables" >&2; exit 1; }
range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- ; }
ms=$(median "${single[@]}"); md=$(median "${dist[@]}")
pl=$(median "${plocal[@]}"); pd=$(median "${pdist[@]}")
echo "citus: AdventureWorks sf $SF, full refresh, median (range) of $ROUNDS, $(nproc) cores for all nodes"
echo "  one node:                      $ms ms ($(range "${single[@]}"))"
echo "  coordinator + 2 workers:       $md ms ($(range "${dist[@]}"))"
awk -v a="$md" -v b="$ms" 'BEGIN { printf "  ratio distributed / one node:  %.2f\n", a / b }'
echo "  published tables identical:    yes"
echo "publish of one table model of $ROWS rows (what readers wait for):"
echo "  local (storage swap):          $pl ms ($(range "${plocal[@]}"))"
echo "  distributed (shard to shard):  $pd ms ($(range "${pdist[@]}"))"
awk -v a="$pd" -v b="$pl" 'BEGIN { printf "  ratio distributed / local:     %.0f\n", a / (b > 0 ? b : 1) }'
