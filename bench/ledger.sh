#!/bin/bash
# bench/ledger.sh: does a run cost more when the ledger holds a year?
#
# Two databases in one cluster with the same small pipeline (a view and two
# tables over 1,000 rows): "bench" with an empty ledger, "year" with a year
# of synthetic history (a run every 5 minutes: 105,120 runs, 20 steps and
# 5 test results each) kept whole (medallion.ledger_retention = 0).  Runs
# alternate between them, $ROUNDS each; the ratio year ÷ empty of the
# median run time says whether what a run reads of the ledger (the stale-run
# check, the schedule lookup, the trim) stays constant-time as it grows.
# Then one trim to 30 days in "year" shows what the first run after
# lowering the retention pays.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-15}
start_cluster
BASE=${PSQL% -d bench}
$BASE -d postgres -c "CREATE DATABASE year" >/dev/null
YEAR="$BASE -d year"
$YEAR -c "CREATE EXTENSION medallion" >/dev/null

pipeline="SET client_min_messages = warning;
CREATE TABLE public.src AS SELECT g AS id, g % 10 AS k FROM generate_series(1, 1000) g;
SELECT medallion_create_model('l_view', 'SELECT id, k FROM public.src', layer => 'bronze');
SELECT medallion_create_model('l_table', 'SELECT k, count(*) AS n FROM l_view GROUP BY k', layer => 'silver');
SELECT medallion_create_model('l_gold', 'SELECT sum(n) AS n FROM l_table', layer => 'gold');
SELECT count(*) FROM medallion_run('all');"
$PSQL -c "$pipeline" >/dev/null
$YEAR -c "$pipeline" >/dev/null
$BASE -d postgres -c "ALTER DATABASE year SET medallion.ledger_retention = 0" >/dev/null

t0=$(now_ms)
$YEAR >/dev/null <<'SQL'
INSERT INTO medallion.runs (run_id, selector, options, started_by, backend_pid, started_at, finished_at,
							status, models, succeeded, published)
SELECT 1000000 + i, 'all', '{"threads": 2}', 'postgres', 10000 + i % 30000,
	   now() - interval '365 days' + i * interval '5 minutes',
	   now() - interval '365 days' + i * interval '5 minutes' + interval '40 seconds',
	   CASE WHEN i % 97 = 0 THEN 'partial' ELSE 'success' END, 20, 20, 20
  FROM generate_series(0, 105119) i;
INSERT INTO medallion.run_models (run_id, model, step, wave, layer, materialized, status, published, rows,
								  started_at, finished_at, ms)
SELECT r.run_id, 'model_' || s, s, s / 5, 'silver', 'table', 'success', true, 1000,
	   r.started_at, r.finished_at, 2000
  FROM medallion.runs r, generate_series(1, 20) s WHERE r.run_id >= 1000000;
INSERT INTO medallion.test_results (run_id, model, test, kind, status, blocking, failures, ms)
SELECT r.run_id, 'model_' || t, 'unique_id', 'unique', 'pass', true, 0, 5
  FROM medallion.runs r, generate_series(1, 5) t WHERE r.run_id >= 1000000;
VACUUM ANALYZE medallion.runs, medallion.run_models, medallion.test_results;
SQL
t1=$(now_ms)
size=$($YEAR -At -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c))) FROM unnest(ARRAY['medallion.runs', 'medallion.run_models', 'medallion.test_results']::regclass[]) c")

run_ms() { time_sql "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')"; }
empty=() year=()
for ((r = 0; r < ROUNDS; r++)); do
	empty+=("$(PSQL="$PSQL" run_ms)")
	year+=("$(PSQL="$YEAR" run_ms)")
done
e=$(median "${empty[@]}")
y=$(median "${year[@]}")
range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- ; }

echo "ledger: a year of history ($size, loaded in $((t1 - t0)) ms) against an empty ledger, $ROUNDS runs each, alternating"
echo "  run, empty ledger:  median $e ms (range $(range "${empty[@]}"))"
echo "  run, a year of it:  median $y ms (range $(range "${year[@]}"))"
awk -v e="$e" -v y="$y" 'BEGIN { printf "  ratio year / empty: %.3f\n", y / e }'
trim=$(PSQL="$YEAR" time_sql "SELECT medallion_trim_ledger(interval '30 days')")
left=$($YEAR -At -c "SELECT count(*) FROM medallion.runs")
echo "  trimming 11 months at once: $trim ms ($left runs left)"
