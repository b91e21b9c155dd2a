#!/bin/bash
# bench/change_tracking.sh: what change tracking costs the writers of a
# tracked table, and what it saves a run.
#
# 1. Writers: pgbench, one client, for $SECONDS_EACH seconds per round,
#    each transaction an INSERT of a new row and an UPDATE of an existing
#    one, against two identical tables: one tracked (the statement trigger
#    medallion_changes, added when a model reading it is defined) and one
#    not.  Rounds alternate; the figure is transactions per second, tracked
#    / untracked (target >= 0.95).
# 2. Bulk load: one COPY of $ROWS rows (default 1,000,000) into each, in
#    alternation; untracked time / tracked time (target >= 0.98).
# 3. Runs: the 24-model pipeline of bench/soak_pipeline.sql reading the
#    tracked tables, full run against a run when nothing changed (change-
#    aware, the default), as ms and ratio (target <= 0.01), each in a new
#    connection, then 10 of each in one warm session.
# Median (and range) of $ROUNDS rounds.
#
# CAPTURE=1 measures row capture instead (issue 31, src/changes_deltas.c):
# the same writers and COPY, side by side in one run, on three identical
# tables: plain (no model reads it), tracked (a model reads it with
# maintain => 'full': the statement trigger only) and captured (a model
# in the class maintained reads it: its rows are logged too).  Ratios
# captured / tracked (the cost of row capture; targets: writers >= 0.9,
# COPY >= 0.8) and captured / plain (all of it).  The runs are skipped.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
SECONDS_EACH=${SECONDS_EACH:-10}
ROWS=${ROWS:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
start_cluster
PGBENCH="$PGBIN/pgbench -h $BENCH_DIR -p $BENCH_PORT -U postgres -n -c 1 -T $SECONDS_EACH"

if [ "${CAPTURE:-0}" = 1 ]; then
	$PSQL <<'SQL'
CREATE SCHEMA w;
CREATE TABLE w.plain (id bigint PRIMARY KEY, v int, note text);
CREATE TABLE w.tracked (LIKE w.plain INCLUDING ALL);
CREATE TABLE w.captured (LIKE w.plain INCLUDING ALL);
INSERT INTO w.plain SELECT g, g % 100, md5(g::text) FROM generate_series(1, 100000) g;
INSERT INTO w.tracked SELECT * FROM w.plain;
INSERT INTO w.captured SELECT * FROM w.plain;
CREATE SEQUENCE w.ids START 1000000;
SELECT medallion_create_model('ct_tracked', 'SELECT v, count(*) AS n FROM w.tracked GROUP BY v',
                              layer => 'silver', maintain => 'full');
SELECT medallion_create_model('ct_captured', 'SELECT v, count(*) AS n FROM w.captured GROUP BY v',
                              layer => 'silver', maintain => 'incremental');
ANALYZE;
SQL
	[ "$($PSQL -At -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'w.captured'::regclass AND tgname LIKE 'medallion_deltas%'")" -ge 3 ] &&
		[ "$($PSQL -At -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'w.tracked'::regclass AND tgname LIKE 'medallion_deltas%'")" = 0 ] ||
		{ echo "w.captured is not captured, or w.tracked is" >&2; exit 1; }
	for t in plain tracked captured; do
		cat > "$BENCH_DIR/$t.sql" <<SQL
\set k random(1, 100000)
BEGIN;
INSERT INTO w.$t VALUES (nextval('w.ids'), 1, 'new');
UPDATE w.$t SET v = v + 1 WHERE id = :k;
COMMIT;
SQL
	done
	$PSQL -c "COPY (SELECT g, g % 100, md5(g::text) FROM generate_series(2000001, 2000000 + $ROWS) g) TO '$BENCH_DIR/rows.copy'" >/dev/null
	chmod a+r "$BENCH_DIR/rows.copy" 2>/dev/null || true
	declare -A tps_of copy_of
	order=(plain tracked captured)
	for i in $(seq 1 "$ROUNDS"); do
		# a different table goes first each round: checkpoints and WAL growth favour none
		for t in "${order[@]}"; do
			tps_of[$t]+="$($PGBENCH -f "$BENCH_DIR/$t.sql" bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p') "
		done
		for t in "${order[@]}"; do
			t0=$(now_ms)
			$PSQL -c "COPY w.$t FROM '$BENCH_DIR/rows.copy'" >/dev/null
			t1=$(now_ms)
			copy_of[$t]+="$((t1 - t0)) "
			# the log's rows go with the run that trims them; here by hand
			$PSQL -c "DELETE FROM w.$t WHERE id > 2000000" -c "VACUUM w.$t" >/dev/null
			$PSQL -At -c "SELECT 'TRUNCATE ' || c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'medallion_delta'::regnamespace AND c.relkind = 'r'" |
				while read -r stmt; do $PSQL -c "$stmt" >/dev/null; done
		done
		order=("${order[@]:1}" "${order[0]}")
	done
	range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- ; }
	echo "row capture, median (range) of $ROUNDS rounds, $(nproc) cores"
	echo "writers (pgbench, 1 client, INSERT + UPDATE per transaction, ${SECONDS_EACH}s a round):"
	for t in plain tracked captured; do
		read -ra v <<< "${tps_of[$t]}"
		printf '  %-9s %10s tps (%s)\n' "$t:" "$(median "${v[@]}")" "$(range "${v[@]}")"
		eval "tps_$t=$(median "${v[@]}")"
	done
	awk -v c="$tps_captured" -v t="$tps_tracked" -v p="$tps_plain" 'BEGIN {
		printf "  ratio captured / tracked: %.3f (target >= 0.9)\n  ratio captured / plain:   %.3f\n", c / t, c / p }'
	echo "one COPY of $ROWS rows:"
	for t in plain tracked captured; do
		read -ra v <<< "${copy_of[$t]}"
		printf '  %-9s %10s ms (%s)\n' "$t:" "$(median "${v[@]}")" "$(range "${v[@]}")"
		eval "copy_$t=$(median "${v[@]}")"
	done
	awk -v c="$copy_captured" -v t="$copy_tracked" -v p="$copy_plain" 'BEGIN {
		printf "  ratio tracked / captured (time): %.3f (target >= 0.8)\n  ratio plain / captured (time):   %.3f\n", t / c, p / c }'
	exit 0
fi

$PSQL <<'SQL'
CREATE SCHEMA w;
CREATE TABLE w.tracked (id bigint PRIMARY KEY, v int, note text);
CREATE TABLE w.plain (id bigint PRIMARY KEY, v int, note text);
INSERT INTO w.tracked SELECT g, g % 100, md5(g::text) FROM generate_series(1, 100000) g;
INSERT INTO w.plain SELECT * FROM w.tracked;
CREATE SEQUENCE w.ids START 1000000;
SELECT medallion_create_model('ct_reader', 'SELECT v, count(*) AS n FROM w.tracked GROUP BY v', layer => 'silver');
ANALYZE;
SQL
[ "$($PSQL -At -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'w.tracked'::regclass AND tgname = 'medallion_changes'")" = 1 ] ||
	{ echo "w.tracked is not tracked" >&2; exit 1; }
for t in tracked plain; do
	cat > "$BENCH_DIR/$t.sql" <<SQL
\set k random(1, 100000)
BEGIN;
INSERT INTO w.$t VALUES (nextval('w.ids'), 1, 'new');
UPDATE w.$t SET v = v + 1 WHERE id = :k;
COMMIT;
SQL
done
$PSQL -c "COPY (SELECT g, g % 100, md5(g::text) FROM generate_series(2000001, 2000000 + $ROWS) g) TO '$BENCH_DIR/rows.copy'" >/dev/null
chmod a+r "$BENCH_DIR/rows.copy" 2>/dev/null || true

tps() {	# transactions per second of one pgbench round on table $1
	$PGBENCH -f "$BENCH_DIR/$1.sql" bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
copy_ms() {	# ms of one COPY of the rows into table $1 (then removed)
	local t0 t1
	t0=$(now_ms)
	$PSQL -c "COPY w.$1 FROM '$BENCH_DIR/rows.copy'" >/dev/null
	t1=$(now_ms)
	$PSQL -c "DELETE FROM w.$1 WHERE id > 2000000" -c "VACUUM w.$1" >/dev/null
	echo $((t1 - t0))
}

ttr=(); tpl=(); ctr=(); cpl=()
for i in $(seq 1 "$ROUNDS"); do
	# which table goes first alternates: checkpoints and WAL growth favour neither
	if [ $((i % 2)) = 1 ]; then
		tpl+=($(tps plain)); ttr+=($(tps tracked))
		cpl+=($(copy_ms plain)); ctr+=($(copy_ms tracked))
	else
		ttr+=($(tps tracked)); tpl+=($(tps plain))
		ctr+=($(copy_ms tracked)); cpl+=($(copy_ms plain))
	fi
done

# the pipeline of soak.sh, over tracked tables
$PSQL -v scale=1 -f "$ROOT/bench/soak_pipeline.sql" >/dev/null
full=(); idle=()
run_ms() {	# ms of one run of the soak models
	local t0 t1
	t0=$(now_ms)
	$PSQL -c "SET client_min_messages = warning" -c "SELECT count(*) FROM medallion_run('tag:soak', changed_only => $1)" >/dev/null
	t1=$(now_ms)
	echo $((t1 - t0))
}
run_ms false >/dev/null
run_ms true >/dev/null
for i in $(seq 1 "$ROUNDS"); do
	full+=($(run_ms false))
	idle+=($(run_ms true))
done
# the same in one warm session (\timing: the time inside the server, as a
# pool or a scheduler's session sees it), 10 of each, alternating
warm_full=(); warm_idle=()
while read -r kind ms; do
	if [ "$kind" = f ]; then warm_full+=("$ms"); else warm_idle+=("$ms"); fi
done < <({ echo '\timing on'; echo 'SET client_min_messages = warning;'
		   for _ in $(seq 10); do
			   echo "\\echo f"; echo "SELECT count(*) FROM medallion_run('tag:soak', changed_only => false);"
			   echo "\\echo i"; echo "SELECT count(*) FROM medallion_run('tag:soak', changed_only => true);"
		   done; } | $PSQL 2>/dev/null |
		 awk '/^[fi]$/ {k = $1} /^Time: / && k != "" {print k, $2; k = ""}')
[ "$($PSQL -At -c "SET client_min_messages = warning" -c "SELECT count(*) FROM medallion_run('tag:soak', changed_only => true) WHERE status <> 'up_to_date'")" = 0 ] ||
	{ echo "a run with nothing changed built something" >&2; exit 1; }

range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- ; }
echo "change tracking, median (range) of $ROUNDS rounds, $(nproc) cores"
echo "writers (pgbench, 1 client, INSERT + UPDATE per transaction, ${SECONDS_EACH}s a round):"
echo "  untracked:                  $(median "${tpl[@]}") tps ($(range "${tpl[@]}"))"
echo "  tracked:                    $(median "${ttr[@]}") tps ($(range "${ttr[@]}"))"
awk -v a="$(median "${ttr[@]}")" -v b="$(median "${tpl[@]}")" 'BEGIN { printf "  ratio tracked / untracked:  %.3f (target >= 0.95)\n", a / b }'
echo "one COPY of $ROWS rows:"
echo "  untracked:                  $(median "${cpl[@]}") ms ($(range "${cpl[@]}"))"
echo "  tracked:                    $(median "${ctr[@]}") ms ($(range "${ctr[@]}"))"
awk -v a="$(median "${cpl[@]}")" -v b="$(median "${ctr[@]}")" 'BEGIN { printf "  ratio untracked / tracked:  %.3f (target >= 0.98)\n", a / b }'
echo "runs of the 24-model soak pipeline (scale 1):"
echo "  full (changed_only => false): $(median "${full[@]}") ms ($(range "${full[@]}"))"
echo "  nothing changed:            $(median "${idle[@]}") ms ($(range "${idle[@]}"))"
awk -v a="$(median "${idle[@]}")" -v b="$(median "${full[@]}")" 'BEGIN { printf "  ratio idle / full:          %.3f (target <= 0.01)\n", a / b }'
echo "  (each run above in a new connection; in one warm session, 10 each:)"
echo "  full, warm session:           $(median "${warm_full[@]}") ms ($(range "${warm_full[@]}"))"
echo "  nothing changed, warm session: $(median "${warm_idle[@]}") ms ($(range "${warm_idle[@]}"))"
awk -v a="$(median "${warm_idle[@]}")" -v b="$(median "${warm_full[@]}")" 'BEGIN { printf "  ratio idle / full, warm:     %.3f\n", a / b }'
