#!/bin/bash
# bench/parallel.sh: a run with threads => 2 against the same run serial.
#
# Two independent branches of equal cost (bronze table -> silver table ->
# gold table each, over 1,000,000 rows per branch).  Measured in one
# cluster, alternating serial and threads => 2, median of $ROUNDS; both
# must publish identical tables.  Target (DESIGN section 12): threads => 2
# / serial <= 0.65 on 2 cores.
#
# For scale, the same SQL by hand (CREATE TABLE AS and ANALYZE, one branch
# after the other in one session, then the two branches in two concurrent
# sessions) gives the ratio that the machine itself allows: two sessions
# writing tables slow each other down (WAL, buffers), whoever runs them.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
ROWS=${ROWS:-1000000}
start_cluster

$PSQL >/dev/null <<SQL
CREATE SCHEMA src;
CREATE TABLE src.a AS SELECT g AS id, g % 1000 AS k, (g % 977) / 10.0 AS v FROM generate_series(1, $ROWS) g;
CREATE TABLE src.b AS SELECT g AS id, g % 1000 AS k, (g % 977) / 10.0 AS v FROM generate_series(1, $ROWS) g;
ANALYZE src.a;
ANALYZE src.b;
SET client_min_messages = warning;
SELECT medallion_create_model('brnz_' || b, format('SELECT id, k, v, md5(id::text) AS h FROM src.%s', b),
  layer => 'bronze', materialized => 'table') FROM unnest(ARRAY['a', 'b']) b;
SELECT medallion_create_model('slvr_' || b, format('SELECT k, count(*) AS n, sum(v) AS v, max(h) AS h FROM brnz_%s GROUP BY k', b),
  layer => 'silver', materialized => 'table') FROM unnest(ARRAY['a', 'b']) b;
SELECT medallion_create_model('gld_' || b, format('SELECT k %% 10 AS bucket, sum(n) AS n, sum(v) AS v FROM slvr_%s GROUP BY 1', b),
  layer => 'gold', materialized => 'table') FROM unnest(ARRAY['a', 'b']) b;
SELECT count(*) FROM medallion_run('all');
SQL

# one branch by hand: the models' SQL as CREATE TABLE AS, with statistics
hand_branch() {
	echo "DROP TABLE IF EXISTS hand.brnz_$1, hand.slvr_$1, hand.gld_$1;
		CREATE TABLE hand.brnz_$1 AS SELECT id, k, v, md5(id::text) AS h FROM src.$1; ANALYZE hand.brnz_$1;
		CREATE TABLE hand.slvr_$1 AS SELECT k, count(*) AS n, sum(v) AS v, max(h) AS h FROM hand.brnz_$1 GROUP BY k; ANALYZE hand.slvr_$1;
		CREATE TABLE hand.gld_$1 AS SELECT k % 10 AS bucket, sum(n) AS n, sum(v) AS v FROM hand.slvr_$1 GROUP BY 1; ANALYZE hand.gld_$1;"
}
$PSQL -c "CREATE SCHEMA hand" >/dev/null
hand_serial() { time_sql "$(hand_branch a) $(hand_branch b)"; }
hand_two() {
	local t0 t1
	t0=$(now_ms)
	$PSQL -c "$(hand_branch a)" >/dev/null &
	$PSQL -c "$(hand_branch b)" >/dev/null
	wait
	t1=$(now_ms)
	echo $((t1 - t0))
}

time_run() {	# ms of one run of everything with the given threads
	time_sql "SET client_min_messages = warning; SELECT 1 / (count(*) FILTER (WHERE status <> 'success') = 0)::int FROM medallion_run('all', threads => $1)"
}
fingerprint() {
	$PSQL -At -c "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
		SELECT 'a' || x::text AS t FROM gold.gld_a x UNION ALL SELECT 'b' || x::text FROM gold.gld_b x
		UNION ALL SELECT 'sa' || x::text FROM silver.slvr_a x UNION ALL SELECT 'sb' || x::text FROM silver.slvr_b x) f"
}

serial=(); two=(); hserial=(); htwo=()
for i in $(seq 1 "$ROUNDS"); do
	hserial+=($(hand_serial))
	htwo+=($(hand_two))
	serial+=($(time_run 1))
	serial_fp=$(fingerprint)
	two+=($(time_run 2))
	two_fp=$(fingerprint)
	[ "$serial_fp" = "$two_fp" ] || { echo "threads => 2 published different tables" >&2; exit 1; }
done
by_workers=$($PSQL -At -c "SELECT count(*) FILTER (WHERE worker) || ' of ' || count(*) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs)")
serial=$(median "${serial[@]}"); two=$(median "${two[@]}")
hserial=$(median "${hserial[@]}"); htwo=$(median "${htwo[@]}")
steps() {	# model and ms of each step of the last run with the given threads
	$PSQL -At -F ' ' -c "SELECT model, round(ms) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs WHERE coalesce((options->>'threads')::int, 1) = $1) ORDER BY step"
}

echo "parallel: two independent branches of 3 table models over $ROWS rows each, median of $ROUNDS ($(nproc) cores)"
echo "  serial (threads => 1):   ${serial} ms"
echo "  threads => 2:            ${two} ms (steps built by workers: $by_workers)"
awk -v s="$serial" -v t="$two" 'BEGIN { printf "  ratio threads => 2 / serial: %.2f (target <= 0.65)\n", t / s }'
echo "  published tables identical: yes"
echo "  by hand: one session ${hserial} ms, two concurrent sessions ${htwo} ms"
awk -v s="$hserial" -v t="$htwo" 'BEGIN { printf "  ratio by hand, two sessions / one: %.2f (what the machine allows)\n", t / s }'
echo "  steps of the last serial run (ms):" $(steps 1)
echo "  steps of the last threads => 2 run (ms from the worker's start to the step's end):" $(steps 2)
