#!/bin/bash
# bench/incremental.sh: an incremental fact model against rebuilding it.
#
# A fact model over 1,000,000 order lines (merge on the line id, watermark
# on modified_at, which the source indexes).  Measured in one cluster,
# median of $ROUNDS: a full refresh; an incremental run after 1% and after
# 10% new or changed rows; a run with no new rows.  Targets (DESIGN):
# incremental at 1% / full refresh <= 0.10; no new rows <= 10 ms per model.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
start_cluster

$PSQL <<'SQL'
CREATE SCHEMA src;
CREATE TABLE src.lines AS
SELECT g AS id, 1 + g / 4 AS order_id, 1 + (g::bigint * 7919) % 20000 AS customer_id,
       1 + (g::bigint * 104729) % 500 AS product_id, 1 + g % 5 AS qty,
       (g % 500) / 10.0 AS unit_price, timestamptz '2024-01-01' + g * interval '1 second' AS modified_at
  FROM generate_series(1, 1000000) g;
ALTER TABLE src.lines ADD PRIMARY KEY (id);
CREATE INDEX ON src.lines (modified_at);
ANALYZE src.lines;
SET client_min_messages = warning;
SELECT medallion_create_model('fact_lines',
  'SELECT id, order_id, customer_id, product_id, qty, unit_price, qty * unit_price AS line_total, modified_at FROM src.lines',
  layer => 'gold', materialized => 'incremental', unique_key => ARRAY['id'], watermark => 'modified_at');
SELECT count(*) FROM medallion_run('fact_lines');
SQL

RUN="SET client_min_messages = warning; SELECT 1 / (count(*) FILTER (WHERE status NOT IN ('success', 'up_to_date')) = 0)::int FROM medallion_run('fact_lines'"
next=1000001
# change n rows: half updated, half new, all with a newer modified_at
change() {
	local n=$1
	$PSQL -c "UPDATE src.lines SET qty = qty + 1, modified_at = clock_timestamp() WHERE id IN (SELECT id FROM src.lines ORDER BY id DESC LIMIT $((n / 2)))" >/dev/null
	$PSQL -c "INSERT INTO src.lines SELECT g, 1 + g / 4, 1 + g % 20000, 1 + g % 500, 1, 1.0, clock_timestamp() FROM generate_series($next, $((next + n / 2 - 1))) g" >/dev/null
	next=$((next + n / 2))
}
time_run() {	# prints ms of one run with the given extra arguments
	time_sql "$RUN$1)"
}

full=(); one=(); ten=(); none=()
for i in $(seq 1 "$ROUNDS"); do
	full+=($(time_run ", full_refresh => true"))
	change 10000; one+=($(time_run ""))
	change 100000; ten+=($(time_run ""))
	none+=($(time_run ""))
done
full=$(median "${full[@]}"); one=$(median "${one[@]}"); ten=$(median "${ten[@]}"); none=$(median "${none[@]}")
# inside the server: the runs with no new rows, from the ledger
none_in_run=$($PSQL -At -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.started_at) * 1000)::numeric, 1)
  FROM medallion.runs r JOIN medallion.run_models m USING (run_id) WHERE m.status = 'up_to_date'")
none_build=$($PSQL -At -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM medallion.run_models WHERE status = 'up_to_date'")

# the incremental table equals a rebuild from scratch
diff_rows=$($PSQL -At -c "SELECT count(*) FROM (SELECT id, order_id, customer_id, product_id, qty, unit_price, qty * unit_price, modified_at FROM src.lines EXCEPT SELECT * FROM gold.fact_lines) d")

echo "incremental: fact model over 1,000,000+ order lines, median of $ROUNDS"
echo "  full refresh:                ${full} ms"
echo "  incremental, 1% changed:     ${one} ms"
echo "  incremental, 10% changed:    ${ten} ms"
echo "  no new rows:                 ${none} ms from psql (a new connection each), ${none_in_run} ms the run, ${none_build} ms the model step (target <= 10 ms per model)"
awk -v f="$full" -v a="$one" -v b="$ten" 'BEGIN {
	printf "  ratio 1%% / full refresh:  %.3f (target <= 0.10)\n", a / f;
	printf "  ratio 10%% / full refresh: %.3f\n", b / f }'
echo "  rows differing from a rebuild: $diff_rows"
