#!/bin/bash
# bench/parallel.sh: a run with threads => 2 against the same run serial.
#
# Two independent branches of equal cost (bronze table -> silver table ->
# gold table each, over 1,000,000 rows per branch).  Measured in one
# cluster, alternating serial and threads => 2, median of $ROUNDS; both
# must publish identical tables.  Target (DESIGN section 12): threads => 2
# / serial <= 0.65 on 2 cores.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
ROWS=${ROWS:-1000000}
start_cluster

$PSQL <<SQL
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

time_run() {	# ms of one run of everything with the given threads
	time_sql "SET client_min_messages = warning; SELECT 1 / (count(*) FILTER (WHERE status <> 'success') = 0)::int FROM medallion_run('all', threads => $1)"
}
fingerprint() {
	$PSQL -At -c "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
		SELECT 'a' || x::text AS t FROM gold.gld_a x UNION ALL SELECT 'b' || x::text FROM gold.gld_b x
		UNION ALL SELECT 'sa' || x::text FROM silver.slvr_a x UNION ALL SELECT 'sb' || x::text FROM silver.slvr_b x) f"
}

serial=(); two=()
for i in $(seq 1 "$ROUNDS"); do
	serial+=($(time_run 1))
	serial_fp=$(fingerprint)
	two+=($(time_run 2))
	two_fp=$(fingerprint)
	[ "$serial_fp" = "$two_fp" ] || { echo "threads => 2 published different tables" >&2; exit 1; }
done
by_workers=$($PSQL -At -c "SELECT count(*) FILTER (WHERE worker) || ' of ' || count(*) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs)")
serial=$(median "${serial[@]}"); two=$(median "${two[@]}")

echo "parallel: two independent branches of 3 table models over $ROWS rows each, median of $ROUNDS ($(nproc) cores)"
echo "  serial (threads => 1):   ${serial} ms"
echo "  threads => 2:            ${two} ms (steps built by workers: $by_workers)"
awk -v s="$serial" -v t="$two" 'BEGIN { printf "  ratio threads => 2 / serial: %.2f (target <= 0.65)\n", t / s }'
echo "  published tables identical: yes"
