#!/bin/bash
# bench/run_overhead.sh: what medallion_run adds to the SQL it runs.
#
# A DAG of 24 table models over 400,000 generated order lines.  Measured
# side by side, interleaved, 5 times each, in one cluster:
#   hand:      the same model queries run by hand in psql, in dependency
#              order, each as DROP TABLE + CREATE TABLE AS into a schema of
#              its own (what a script or dbt's table materialization does);
#   medallion: SELECT * FROM medallion_run('all').
# Prints the median of each, their ratio (target <= 1.10), the same ratio
# against the hand SQL in one transaction (psql -1, target <= 1.05), the
# fixed cost per model; the fixed cost of a run (one trivial table model,
# medallion_run against the same CREATE TABLE AS by hand, in one warm
# session and in a new connection each); and how long a BI reader (pgbench,
# one client) querying a 1,000,000-row gold table with two indexes waits
# while five runs publish it (target <= 50 ms).
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
start_cluster

$PSQL <<'SQL'
CREATE SCHEMA src;
CREATE TABLE src.customers AS
SELECT g AS id, 'customer ' || g AS name, (ARRAY['NL','DE','FR','BE','US','UK'])[1 + g % 6] AS country,
       date '2020-01-01' + (g % 1000) AS signup
  FROM generate_series(1, 20000) g;
CREATE TABLE src.products AS
SELECT g AS id, 'product ' || g AS name, (ARRAY['bikes','parts','clothing','accessories'])[1 + g % 4] AS category,
       (10 + g % 90)::numeric AS list_price
  FROM generate_series(1, 500) g;
CREATE TABLE src.lines AS
SELECT g AS id, 1 + (g::bigint * 7919) % 20000 AS customer_id, 1 + (g::bigint * 104729) % 500 AS product_id,
       1 + g % 5 AS qty, date '2022-01-01' + (g % 900) AS order_date, (g % 10) / 100.0 AS discount
  FROM generate_series(1, 400000) g;
ANALYZE;
SQL

# name|sql, in dependency order; every model a table
MODELS=$(cat <<'M'
b_customers|SELECT id AS customer_id, name, country, signup FROM src.customers
b_products|SELECT id AS product_id, name, category, list_price FROM src.products
b_lines|SELECT id AS line_id, customer_id, product_id, qty, order_date, discount FROM src.lines
s_lines|SELECT l.line_id, l.customer_id, l.product_id, l.order_date, l.qty, p.category, round(l.qty * p.list_price * (1 - l.discount), 2) AS revenue FROM b_lines l JOIN b_products p USING (product_id)
s_customer_sales|SELECT customer_id, count(*) AS lines, sum(revenue) AS revenue, min(order_date) AS first_order, max(order_date) AS last_order FROM s_lines GROUP BY customer_id
s_product_sales|SELECT product_id, category, sum(qty) AS units, sum(revenue) AS revenue FROM s_lines GROUP BY product_id, category
s_daily|SELECT order_date, count(*) AS lines, sum(revenue) AS revenue FROM s_lines GROUP BY order_date
s_monthly|SELECT date_trunc('month', order_date)::date AS month, sum(revenue) AS revenue FROM s_lines GROUP BY 1
s_category_daily|SELECT order_date, category, sum(revenue) AS revenue FROM s_lines GROUP BY 1, 2
s_customers|SELECT c.customer_id, c.name, c.country, c.signup, coalesce(s.revenue, 0) AS revenue, coalesce(s.lines, 0) AS lines, s.first_order, s.last_order FROM b_customers c LEFT JOIN s_customer_sales s USING (customer_id)
s_country_daily|SELECT l.order_date, c.country, sum(l.revenue) AS revenue FROM s_lines l JOIN b_customers c USING (customer_id) GROUP BY 1, 2
s_rfm|SELECT customer_id, ntile(5) OVER (ORDER BY last_order, customer_id) AS r, ntile(5) OVER (ORDER BY lines, customer_id) AS f, ntile(5) OVER (ORDER BY revenue, customer_id) AS m FROM s_customers WHERE lines > 0
s_products|SELECT p.product_id, p.name, p.category, coalesce(s.units, 0) AS units, coalesce(s.revenue, 0) AS revenue FROM b_products p LEFT JOIN s_product_sales s USING (product_id)
g_daily_summary|SELECT order_date, revenue, avg(revenue) OVER (ORDER BY order_date ROWS 6 PRECEDING) AS revenue_7d, sum(revenue) OVER (PARTITION BY date_trunc('year', order_date) ORDER BY order_date) AS revenue_ytd FROM s_daily
g_monthly_growth|SELECT month, revenue, revenue / nullif(lag(revenue) OVER (ORDER BY month), 0) - 1 AS growth FROM s_monthly
g_country|SELECT country, sum(revenue) AS revenue, count(*) FILTER (WHERE lines > 0) AS buyers FROM s_customers GROUP BY country
g_segments|SELECT r * 100 + f * 10 + m AS rfm, count(*) AS customers FROM s_rfm GROUP BY 1
g_customer_360|SELECT c.customer_id, c.name, c.country, c.revenue, r.r, r.f, r.m, CASE WHEN r.r >= 4 THEN 'active' WHEN r.r >= 2 THEN 'cooling' ELSE 'at risk' END AS status FROM s_customers c LEFT JOIN s_rfm r USING (customer_id)
g_top_products|SELECT product_id, name, category, revenue, rank() OVER (PARTITION BY category ORDER BY revenue DESC) AS rank_in_category FROM s_products
g_category_mix|SELECT order_date, category, revenue / sum(revenue) OVER (PARTITION BY order_date) AS share FROM s_category_daily
g_country_trend|SELECT country, date_trunc('month', order_date)::date AS month, sum(revenue) AS revenue FROM s_country_daily GROUP BY 1, 2
g_cohorts|SELECT date_trunc('quarter', signup)::date AS cohort, count(*) AS customers, sum(revenue) AS revenue FROM s_customers GROUP BY 1
g_kpis|SELECT (SELECT sum(revenue) FROM s_daily) AS revenue, (SELECT count(*) FROM s_customers WHERE lines > 0) AS buyers, (SELECT count(*) FROM s_products WHERE units > 0) AS products_sold
g_at_risk|SELECT customer_id, name, revenue FROM g_customer_360 WHERE status = 'at risk' AND revenue > 0
M
)

layer_of() {
	case "$1" in b_*) echo bronze ;; s_*) echo silver ;; *) echo gold ;; esac
}

# register the models (tables everywhere, so the DAG has 24 table models)
while IFS='|' read -r name sql; do
	$PSQL -c "SELECT medallion_create_model('$name', \$m\$$sql\$m\$, layer => '$(layer_of "$name")', materialized => 'table')" >/dev/null
done <<< "$MODELS"
NMODELS=$(echo "$MODELS" | wc -l)

# the hand-written script: same queries, in order, into schema hand; a
# second one also gathers statistics, as medallion does by default
HAND_SQL="$BENCH_DIR/hand.sql"
HAND_ANALYZE_SQL="$BENCH_DIR/hand_analyze.sql"
{
	echo "CREATE SCHEMA IF NOT EXISTS hand; SET search_path = hand, public;"
	while IFS='|' read -r name sql; do
		echo "DROP TABLE IF EXISTS hand.$name; CREATE TABLE hand.$name AS $sql;"
	done <<< "$MODELS"
} > "$HAND_SQL"
sed 's/^\(DROP TABLE IF EXISTS \(hand\.[a-z0-9_]*\);.*\)$/\1 ANALYZE \2;/' "$HAND_SQL" > "$HAND_ANALYZE_SQL"
$PSQL -f "$HAND_SQL" >/dev/null 2>&1	# warm-up, creates the tables
$PSQL -c "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('all')" >/dev/null

# a run that does not build every model stops the benchmark
RUN="SET client_min_messages = warning; SELECT 1 / (count(*) FILTER (WHERE status <> 'success') = 0)::int FROM medallion_run('all')"

hand_times=(); hand_analyze_times=(); run_times=(); run_noanalyze_times=(); hand_1x_times=()
for i in $(seq 1 "$ROUNDS"); do
	t0=$(now_ms)
	$PSQL -f "$HAND_SQL" >/dev/null 2>&1
	t1=$(now_ms)
	$PSQL -1 -f "$HAND_SQL" >/dev/null 2>&1
	t1b=$(now_ms)
	hand_1x_times+=($((t1b - t1)))
	t1=$(now_ms)
	$PSQL -c "$RUN" >/dev/null
	t2=$(now_ms)
	$PSQL -f "$HAND_ANALYZE_SQL" >/dev/null 2>&1
	t3=$(now_ms)
	$PSQL -c "SET medallion.analyze_candidates = off; $RUN" >/dev/null
	t4=$(now_ms)
	hand_times+=($((t1 - t0)))
	run_times+=($((t2 - t1)))
	hand_analyze_times+=($((t3 - t2)))
	run_noanalyze_times+=($((t4 - t3)))
done
hand=$(median "${hand_times[@]}")
hand_1x=$(median "${hand_1x_times[@]}")
run=$(median "${run_times[@]}")
hand_analyze=$(median "${hand_analyze_times[@]}")
run_noanalyze=$(median "${run_noanalyze_times[@]}")

# fixed cost: the same DAG over empty sources, where the SQL costs next to nothing
$PSQL -c "CREATE TABLE src.lines_saved AS SELECT * FROM src.lines; TRUNCATE src.lines, src.customers;" >/dev/null
empty_hand_times=(); empty_run_times=()
for i in $(seq 1 "$ROUNDS"); do
	t0=$(now_ms)
	$PSQL -f "$HAND_SQL" >/dev/null 2>&1
	t1=$(now_ms)
	$PSQL -c "$RUN" >/dev/null
	t2=$(now_ms)
	empty_hand_times+=($((t1 - t0)))
	empty_run_times+=($((t2 - t1)))
done
empty_hand=$(median "${empty_hand_times[@]}")
empty_run=$(median "${empty_run_times[@]}")
$PSQL -c "INSERT INTO src.lines SELECT * FROM src.lines_saved; DROP TABLE src.lines_saved;" >/dev/null
$PSQL -c "INSERT INTO src.customers SELECT g, 'customer ' || g, (ARRAY['NL','DE','FR','BE','US','UK'])[1 + g % 6], date '2020-01-01' + (g % 1000) FROM generate_series(1, 20000) g" >/dev/null
$PSQL -f "$HAND_SQL" >/dev/null 2>&1
$PSQL -c "$RUN" >/dev/null

# both built the same data
diff_rows=$($PSQL -At -c "SELECT count(*) FROM (SELECT * FROM hand.g_customer_360 EXCEPT SELECT * FROM gold.g_customer_360) d")

# the fixed cost of a run: one trivial table model, run after run in one
# warm session (\timing: the time inside the server) and each in a new
# connection, against the same CREATE TABLE AS by hand
$PSQL <<'SQL' >/dev/null
CREATE TABLE src.tiny AS SELECT g AS id FROM generate_series(1, 10) g;
SELECT medallion_create_model('one_model', 'SELECT id FROM src.tiny', layer => 'silver', materialized => 'table');
SET client_min_messages = warning;
SELECT count(*) FROM medallion_run('one_model');
SQL
ONE_RUN="SET client_min_messages = warning; SELECT count(*) FROM medallion_run('one_model')"
ONE_HAND="DROP TABLE IF EXISTS hand.one_model; CREATE TABLE hand.one_model AS SELECT id FROM src.tiny"
warm_ms() {	# median of \timing over 21 statements in one session
	{ echo '\timing on'; echo "SET client_min_messages = warning;"
	  for _ in $(seq 21); do echo "$1;"; done; } |
		$PSQL 2>/dev/null | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 20 |
		sort -g | awk '{a[NR]=$1} END {print (a[10]+a[11])/2}'
}
one_hand_warm=(); one_run_warm=(); one_hand_new=(); one_run_new=()
for i in $(seq 1 "$ROUNDS"); do
	one_hand_warm+=("$(warm_ms "$ONE_HAND")")
	one_run_warm+=("$(warm_ms "SELECT count(*) FROM medallion_run('one_model')")")
	one_hand_new+=("$(time_sql "$ONE_HAND")")
	one_run_new+=("$(time_sql "$ONE_RUN")")
done
$PSQL -c "SELECT medallion_drop_model('one_model')" >/dev/null

# a BI reader (pgbench, one client) querying a 1,000,000-row gold table with
# two indexes while five runs publish it; each query's latency is logged
$PSQL <<'SQL' >/dev/null
CREATE TABLE src.big AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS v FROM generate_series(1, 1000000) g;
SELECT medallion_create_model('g_big', 'SELECT id, k, v FROM src.big', layer => 'gold', materialized => 'table',
                              indexes => ARRAY['id', 'k']);
SET client_min_messages = warning;
SELECT count(*) FROM medallion_run('g_big');
SQL
echo "\set id random(1, 1000000)
SELECT v FROM gold.g_big WHERE id = :id;
SELECT count(*) FROM gold.g_big WHERE k = :id % 1000;" > "$BENCH_DIR/reader.sql"
PGBENCH="$PGBIN/pgbench -h $BENCH_DIR -p $BENCH_PORT -U postgres -n -c 1 -f $BENCH_DIR/reader.sql"
(cd "$BENCH_DIR" && $PGBENCH -T 14 -l --log-prefix=reader bench >/dev/null 2>&1) &
pgbench_pid=$!
sleep 2
publish_times=()
for i in 1 2 3 4 5; do
	publish_times+=("$(time_sql "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('g_big', changed_only => false)")")
	sleep 1
done
wait $pgbench_pid
# pgbench's log: client, transaction, latency (us), ...
read -r big_reads big_median big_worst big_blocked <<< "$(cat "$BENCH_DIR"/reader.* | awk '{print $3 / 1000}' | sort -g |
	awk '{a[NR]=$1} END {m = a[int((NR+1)/2)]; printf "%d %.3f %.1f %.1f", NR, m, a[NR], a[NR] - m}')"

# a BI reader querying gold in a loop, one transaction per query, while runs publish
$PSQL <<'SQL'
CREATE TABLE public.reader_log (ms float8, failed boolean);
CREATE PROCEDURE public.bi_reader(seconds float8) LANGUAGE plpgsql AS $$
DECLARE
	stop timestamptz := clock_timestamp() + make_interval(secs => seconds);
	t0 timestamptz;
BEGIN
	WHILE clock_timestamp() < stop LOOP
		t0 := clock_timestamp();
		BEGIN
			PERFORM sum(revenue) FROM gold.g_country;
			INSERT INTO public.reader_log VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000, false);
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO public.reader_log VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000, true);
		END;
		COMMIT;
	END LOOP;
END $$;
SQL
$PSQL -c "CALL public.bi_reader(2)" >/dev/null		# baseline, no runs
baseline=$($PSQL -At -c "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) FROM public.reader_log")
$PSQL -c "TRUNCATE public.reader_log"
$PSQL -c "CALL public.bi_reader(12)" >/dev/null &
reader=$!
sleep 0.5
for i in 1 2 3; do
	$PSQL -c "SET client_min_messages = warning; SELECT count(*) FROM medallion_run('g_country')" >/dev/null
	sleep 0.5
done
wait $reader
read -r reads errors worst p99 <<< "$($PSQL -At -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE failed), round(max(ms)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM public.reader_log")"
publish_ms=$($PSQL -At -c "SELECT round(avg(extract(epoch FROM finished_at - started_at) * 1000)::numeric, 1) FROM medallion.runs WHERE selector = 'g_country'")

echo "run_overhead: $NMODELS table models over 400,000 order lines, median of $ROUNDS interleaved rounds"
echo "  hand SQL (DROP + CREATE TABLE AS, in order):  ${hand} ms"
echo "  the same + ANALYZE of each table:             ${hand_analyze} ms"
echo "  medallion_run('all'):                          ${run} ms"
echo "  medallion_run('all'), medallion.analyze_candidates = off:${run_noanalyze} ms"
awk -v r="$run" -v h="$hand" -v ha="$hand_analyze" -v rn="$run_noanalyze" -v n="$NMODELS" 'BEGIN {
	printf "  ratio medallion / hand SQL, both with statistics: %.3f (target <= 1.10)\n", r / ha;
	printf "  ratio medallion without ANALYZE / hand SQL:       %.3f (target <= 1.10)\n", rn / h;
	printf "  ratio medallion (default) / hand SQL without ANALYZE: %.3f\n", r / h }'
awk -v r="$run" -v h="$hand_1x" 'BEGIN {
	printf "  ratio medallion (default) / hand SQL in one transaction (psql -1, %s ms): %.3f (target <= 1.05)\n", h, r / h }'
echo "  over empty sources: hand ${empty_hand} ms, medallion ${empty_run} ms"
awk -v r="$empty_run" -v h="$empty_hand" -v n="$NMODELS" 'BEGIN {
	printf "  fixed cost per model: %.1f ms more than hand SQL, %.1f ms in all (target <= 5)\n", (r - h) / n, r / n }'
echo "  rows differing between hand and medallion gold.g_customer_360: $diff_rows"
echo "  BI reader during 3 publishes of gold.g_country: $reads queries, $errors errors,"
echo "    median without runs ${baseline} ms, worst ${worst} ms, p99 ${p99} ms (blocked <= worst - median; target <= 50 ms)"
echo "  (each of those runs took ${publish_ms} ms in all)"
echo "  fixed cost of a run (one trivial table model, median of $ROUNDS rounds):"
echo "    in one warm session (inside the server): medallion_run $(median "${one_run_warm[@]}") ms, CREATE TABLE AS by hand $(median "${one_hand_warm[@]}") ms"
echo "    each in a new connection (psql -c):       medallion_run $(median "${one_run_new[@]}") ms, CREATE TABLE AS by hand $(median "${one_hand_new[@]}") ms"
awk -v r="$(median "${one_run_warm[@]}")" -v h="$(median "${one_hand_warm[@]}")" 'BEGIN {
	printf "    fixed cost: %.1f ms (target <= 10)\n", r - h }'
echo "  BI reader (pgbench, 1 client) on a 1,000,000-row gold table with 2 indexes, 5 publishes"
echo "    (runs of ${publish_times[*]} ms): $big_reads queries, median ${big_median} ms, worst ${big_worst} ms,"
echo "    longest wait ${big_blocked} ms (worst - median; target <= 50 ms)"
