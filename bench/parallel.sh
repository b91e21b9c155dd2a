#!/bin/bash
# bench/parallel.sh: a run with threads => 2 against the same run serial.
#
# Two independent branches of equal cost (bronze table -> silver table ->
# gold table each, over 1,000,000 rows per branch).  Measured in one
# cluster, alternating serial and threads => 2, median of $ROUNDS; both
# must publish identical tables.  Target (DESIGN section 12): threads => 2
# / serial <= 0.65 on 2 cores.
#
# Then the layouts where workers help less or not at all, each in its own
# database, alternating serial and threads => 2 runs of 'all' (median and
# range of $LAYOUT_ROUNDS; target, issue 14: threads => 2 never more than 5%
# slower than serial):
#   bronze views   the pipeline of soak_pipeline.sql at scale $VIEW_SCALE:
#                  views over sources, silver tables, an incremental and a
#                  snapshot model, gold tables;
#   small models   60 table models of a few hundred rows each (20 silver,
#                  40 gold reading two of them), where starting a worker
#                  costs more than building a model;
#   AdventureWorks the reference pipeline at sf 1.
#
# For scale, the same SQL by hand (CREATE TABLE AS and ANALYZE, one branch
# after the other in one session, then the two branches in two concurrent
# sessions) gives the ratio that the machine itself allows: two sessions
# writing tables slow each other down (WAL, buffers), whoever runs them.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
ROWS=${ROWS:-1000000}
VIEW_SCALE=${VIEW_SCALE:-10}
LAYOUT_ROUNDS=${LAYOUT_ROUNDS:-11}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
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

# ---- the other layouts ----
in_db() { local db=$1; shift; ${PSQL/-d bench/-d $db} "$@"; }
for db in views small aw; do $PSQL -c "CREATE DATABASE $db" >/dev/null; in_db $db -c "CREATE EXTENSION medallion" >/dev/null; done
in_db views -v scale="$VIEW_SCALE" -f "$ROOT/bench/soak_pipeline.sql" >/dev/null
in_db small >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE public.seed AS SELECT g AS id, g % 7 AS k FROM generate_series(1, 300) g;
SELECT medallion_create_model('small_s' || i, format('SELECT id, k, id * %s AS v FROM public.seed', i), layer => 'silver', materialized => 'table')
  FROM generate_series(1, 20) i;
SELECT medallion_create_model('small_g' || i, format('SELECT a.k, sum(a.v + b.v) AS v FROM small_s%s a JOIN small_s%s b USING (id) GROUP BY 1',
  1 + i % 20, 1 + (i * 7) % 20), layer => 'gold', materialized => 'table')
  FROM generate_series(1, 40) i;
SELECT count(*) FROM medallion_run('all');
SQL
in_db aw -q -v sf=1 -v seed=42 -f "$ROOT/examples/adventureworks/generate.sql"
in_db aw -q -f "$ROOT/examples/adventureworks/sources.sql" >/dev/null
in_db aw -q -f "$ROOT/examples/adventureworks/models.sql" >/dev/null
in_db aw -q -c "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')" >/dev/null

run_ms() {	# ms of one run of 'all' in database $1 with threads $2
	local t0 t1
	t0=$(now_ms)
	in_db "$1" -c "SET client_min_messages = warning; SELECT 1 / (count(*) FILTER (WHERE status NOT IN ('success', 'up_to_date')) = 0)::int FROM medallion_run('all', threads => $2)" >/dev/null
	t1=$(now_ms)
	echo $((t1 - t0))
}
echo "  other layouts, median (range) of $LAYOUT_ROUNDS, serial against threads => 2:"
printf '  %-15s %20s %20s %6s %s\n' layout serial "threads => 2" ratio "steps by workers"
for db in views small aw; do
	s=(); t=()
	for i in $(seq 1 "$LAYOUT_ROUNDS"); do
		# alternate which goes first: what one run leaves (autovacuum of
		# the catalogs, dirty buffers) must not always fall on the other
		if [ $((i % 2)) = 1 ]; then
			s+=($(run_ms $db 1)); t+=($(run_ms $db 2))
		else
			t+=($(run_ms $db 2)); s+=($(run_ms $db 1))
		fi
	done
	workers=$(in_db $db -At -c "SELECT count(*) FILTER (WHERE worker) || ' of ' || count(*) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs)")
	ms=$(median "${s[@]}"); mt=$(median "${t[@]}")
	range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- ; }
	label=$(case $db in views) echo "bronze views";; small) echo "small models";; aw) echo "AdventureWorks";; esac)
	printf '  %-15s %20s %20s %6s %s\n' "$label" "$ms ($(range "${s[@]}"))" "$mt ($(range "${t[@]}"))" \
		"$(awk -v s="$ms" -v t="$mt" 'BEGIN { printf "%.2f", t / s }')" "$workers"
done
