#!/bin/bash
# bench/soak.sh: many runs in one long-lived session, as a pooled
# connection or a minute schedule makes them.
#
# The 24-model pipeline of soak_pipeline.sql (4 bronze views; 10 silver
# models, an incremental and a snapshot one among them; 10 gold tables; 12
# tests) at $SCALE, over sources changed between runs.  $RUNS runs (default
# 1,000) of medallion_run('all', threads => $THREADS) in one session; every
# $EVERY runs the session samples itself: its memory contexts (all of them,
# and CacheMemoryContext alone), WAL written, OIDs consumed (one large
# object created and dropped gives the OID counter), the size of the
# catalogs runs churn, the ledger's size, and time per run.  Target
# (issues 14 and 26): all contexts grow by less than 1 MB over 1,000 runs.
# cache_used_kB, the bytes in use in CacheMemoryContext, shows a growth
# that its size (blocks that double) shows only in steps.  The growth is
# counted from the first sample after the first $EVERY runs: those fill
# the session's caches once (about 2 MB here).
#
# BY_HAND=1 then measures the same in a new session doing the pipeline's
# DDL by hand ($RUNS rounds of soak_by_hand.sql's function): what
# PostgreSQL itself keeps in a session's caches for tables created and
# dropped, without medallion.
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-1000}
EVERY=${EVERY:-100}
THREADS=${THREADS:-1}
SCALE=${SCALE:-1}
BY_HAND=${BY_HAND:-0}
start_cluster

$PSQL -v scale="$SCALE" -f "$(dirname "$0")/soak_pipeline.sql" >/dev/null

# soak_script STATEMENT: one session's script, STATEMENT $RUNS times after a
# source change each, and a sample every $EVERY
soak_script() {
	echo "SET client_min_messages = warning;"
	for ((i = 0; i <= RUNS; i += EVERY)); do
		echo "SELECT $i, (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
			(SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext'),
			pg_current_wal_insert_lsn() - '0/0', (SELECT o FROM lo_create(0) o, lo_unlink(o)),
			(SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['pg_class', 'pg_type', 'pg_attribute', 'pg_depend', 'pg_statistic']::regclass[]) c),
			(SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['medallion.runs', 'medallion.run_models', 'medallion.test_results']::regclass[]) c),
			extract(epoch FROM clock_timestamp()) * 1000,
			(SELECT sum(used_bytes) FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext');"
		[ "$i" -lt "$RUNS" ] || break
		echo '\o /dev/null'
		for ((j = 0; j < EVERY; j++)); do
			echo "UPDATE src.lines SET qty = 1 + qty % 5 WHERE order_id = 1 + (random() * (5000 * $SCALE - 1))::int;"
			echo "$1"
		done
		echo '\o'
	done
}

# the samples of a session's script as a table, and the growth
report() {
	printf '%6s %12s %12s %13s %12s %10s %10s %10s %9s\n' runs all_ctx_kB cache_ctx_kB cache_used_kB wal_kB/run oids/run catalog_kB ledger_kB ms/run
	$PSQL -At -F ' ' -f "$1" | awk -v every="$EVERY" '
NR == 2 { first_all = $2; first_cache = $3; first_used = $9; first_runs = $1 }
{
	if (NR > 1)
		printf "%6d %12.0f %12.0f %13.0f %12.0f %10.0f %10.0f %10.0f %9.1f\n", $1, $2 / 1024, $3 / 1024, $9 / 1024,
			($4 - wal) / 1024 / every, ($5 - oid) / every, $6 / 1024, $7 / 1024, ($8 - t) / every;
	else
		printf "%6d %12.0f %12.0f %13.0f %12s %10s %10.0f %10.0f %9s\n", $1, $2 / 1024, $3 / 1024, $9 / 1024, "-", "-", $6 / 1024, $7 / 1024, "-";
	wal = $4; oid = $5; t = $8; last_all = $2; last_cache = $3; last_used = $9; runs = $1
}
END {
	printf "growth from run %d to run %d (the first runs fill the caches): all contexts %+.0f kB (%.2f kB/run), CacheMemoryContext %+.0f kB, used in it %+.0f kB (%.0f kB per 1,000 runs)\n",
		first_runs, runs, (last_all - first_all) / 1024, (last_all - first_all) / 1024 / (runs - first_runs),
		(last_cache - first_cache) / 1024, (last_used - first_used) / 1024,
		(last_used - first_used) / 1024 * 1000 / (runs - first_runs)
}'
}

echo "soak: $RUNS runs of a 24-model pipeline with 12 tests (scale $SCALE) in one session, threads => $THREADS"
soak_script "SELECT 1 / (count(*) FILTER (WHERE status NOT IN ('success', 'up_to_date')) = 0)::int FROM medallion_run('all', threads => $THREADS);" >"$BENCH_DIR/soak.sql"
report "$BENCH_DIR/soak.sql"

if [ "$BY_HAND" = 1 ]; then
	$PSQL -f "$(dirname "$0")/soak_by_hand.sql" >/dev/null
	echo "by hand: $RUNS rounds of the same DDL without medallion (soak_by_hand.sql) in one session"
	soak_script "SELECT soak_hand.soak_by_hand();" >"$BENCH_DIR/by_hand.sql"
	report "$BENCH_DIR/by_hand.sql"
fi
