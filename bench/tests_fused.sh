#!/bin/bash
# bench/tests_fused.sh: k column tests of one model as one fused scan,
# against the same tests as one query each (what dbt runs).
#
# A gold table of 1,000,000 order lines (13 columns, shaped like
# AdventureWorks' Sales.SalesOrderDetail joined to its header) with k = 5
# column tests
# (not_null x2, accepted_values, expression, freshness).  Interleaved, median
# of 5: medallion_test('model') (one fused query) against the five queries
# run one after another in one psql session.  Target (DESIGN):
# fused / separate <= 1/k + 0.1.  A second line adds a unique test (k = 6),
# whose DISTINCT aggregate is the expensive part on both sides.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
start_cluster

$PSQL <<'SQL'
CREATE SCHEMA src;
CREATE TABLE src.lines AS
SELECT g AS id, 1 + g / 4 AS order_id, 1 + (g::bigint * 7919) % 20000 AS customer_id,
       1 + (g::bigint * 104729) % 500 AS product_id,
       date '2024-01-01' + (g % 300) AS order_date,
       (ARRAY['shipped', 'returned', 'pending'])[1 + g % 3] AS status,
       1 + g % 5 AS qty, (g % 500) / 10.0 AS unit_price, (g % 10) / 100.0 AS discount,
       ((1 + g % 5) * (g % 500) / 10.0)::numeric(12,2) AS amount,
       timestamptz '2024-01-01' + g * interval '1 second' AS modified_at,
       upper(substr(md5(g::text), 1, 12)) || '-' || (g % 997) AS carrier_tracking,
       'line ' || g || ' of order ' || (1 + g / 4) || ', packed in warehouse ' || (g % 7) AS comment
  FROM generate_series(1, 1000000) g;
ANALYZE src.lines;
SET client_min_messages = warning;
SELECT medallion_create_model('fact_lines', 'SELECT * FROM src.lines', layer => 'gold');
SELECT count(*) FROM medallion_run('fact_lines');
SELECT medallion_add_test('fact_lines', 'not_null', column_name => 'customer_id');
SELECT medallion_add_test('fact_lines', 'not_null', column_name => 'order_date');
SELECT medallion_add_test('fact_lines', 'accepted_values', column_name => 'status', accepted => ARRAY['shipped', 'returned', 'pending']);
SELECT medallion_add_test('fact_lines', 'expression', expression => 'amount >= 0', name => 'amount_positive');
SELECT medallion_add_test('fact_lines', 'freshness', column_name => 'order_date', max_age => '100 years');
SQL

# one query per test, in two forms: the cheapest we could write by hand,
# and the shape of the SQL dbt generates for the same tests (a count over
# the test query; accepted_values groups by the column first)
SEPARATE="$BENCH_DIR/separate.sql"
cat > "$SEPARATE" <<'SQL'
SELECT count(*) FROM gold.fact_lines WHERE customer_id IS NULL;
SELECT count(*) FROM gold.fact_lines WHERE order_date IS NULL;
SELECT count(*) FROM gold.fact_lines WHERE status IS NOT NULL AND status NOT IN ('shipped', 'returned', 'pending');
SELECT count(*) FROM gold.fact_lines WHERE NOT (amount >= 0);
SELECT max(order_date) FROM gold.fact_lines;
SQL
DBT="$BENCH_DIR/dbt.sql"
cat > "$DBT" <<'SQL'
SELECT count(*) AS failures FROM (SELECT * FROM gold.fact_lines WHERE customer_id IS NULL) t;
SELECT count(*) AS failures FROM (SELECT * FROM gold.fact_lines WHERE order_date IS NULL) t;
SELECT count(*) AS failures FROM (WITH all_values AS (SELECT status AS value_field, count(*) AS n_records
  FROM gold.fact_lines GROUP BY status) SELECT * FROM all_values
  WHERE value_field NOT IN ('shipped', 'returned', 'pending')) t;
SELECT count(*) AS failures FROM (SELECT * FROM gold.fact_lines WHERE NOT (amount >= 0)) t;
SELECT max(order_date) FROM gold.fact_lines;
SQL
UNIQUE_SQL="SELECT count(*) FROM (SELECT id FROM gold.fact_lines WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1) d;"
FUSED="SELECT 1 / (count(*) FILTER (WHERE status <> 'pass') = 0)::int FROM medallion_test('fact_lines')"

measure() {		# prints "fused separate dbt" medians
	local f=() s=() d=()
	for i in $(seq 1 "$ROUNDS"); do
		t0=$(now_ms); $PSQL -f "$SEPARATE" >/dev/null; t1=$(now_ms)
		$PSQL -c "$FUSED" >/dev/null; t2=$(now_ms)
		$PSQL -f "$DBT" >/dev/null; t3=$(now_ms)
		s+=($((t1 - t0))); f+=($((t2 - t1))); d+=($((t3 - t2)))
	done
	echo "$(median "${f[@]}") $(median "${s[@]}") $(median "${d[@]}")"
}
$PSQL -f "$SEPARATE" >/dev/null; $PSQL -c "$FUSED" >/dev/null	# warm the cache
read -r fused separate dbt <<< "$(measure)"
queries=$($PSQL -At -c "SELECT count(DISTINCT ms) FROM medallion.test_results WHERE run_id = (SELECT max(run_id) FROM medallion.runs)")

$PSQL -c "SELECT medallion_add_test('fact_lines', 'unique', column_name => 'id')" >/dev/null
echo "$UNIQUE_SQL" >> "$SEPARATE"
echo "SELECT count(*) AS failures FROM (SELECT id AS unique_field, count(*) AS n_records FROM gold.fact_lines WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1) t;" >> "$DBT"
read -r fused6 separate6 dbt6 <<< "$(measure)"

echo "tests_fused: 1,000,000-row gold table, median of $ROUNDS interleaved rounds"
echo "  k = 5 column tests: fused (medallion_test, $queries query) ${fused} ms; one query per test: ${separate} ms as cheapest by hand, ${dbt} ms in dbt's shape"
awk -v f="$fused" -v s="$separate" -v d="$dbt" 'BEGIN {
	printf "  ratio fused / cheapest separate queries: %.3f (target <= 1/5 + 0.1 = 0.300)\n", f / s;
	printf "  ratio fused / dbt-shaped queries:        %.3f\n", f / d }'
echo "  k = 6 with a unique test: fused ${fused6} ms; one query per test: ${separate6} ms by hand, ${dbt6} ms in dbt's shape"
awk -v f="$fused6" -v s="$separate6" -v d="$dbt6" 'BEGIN {
	printf "  ratio fused / cheapest separate queries: %.3f (target <= 1/6 + 0.1 = 0.267)\n", f / s;
	printf "  ratio fused / dbt-shaped queries:        %.3f\n", f / d }'
