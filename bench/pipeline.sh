#!/bin/bash
# bench/pipeline.sh: the AdventureWorks reference pipeline, medallion against
# the same SQL by hand, at each scale factor in $SFS (default "1 10").
#
# For each sf, in one cluster, median of $ROUNDS interleaved rounds:
#   full run      medallion_run('all', full_refresh => true), tests included
#                 vs  every model's SQL as CREATE TABLE AS (views as
#                 CREATE VIEW), with the same indexes and ANALYZE, in plan
#                 order, then one query per test;
#   incremental   1% new orders (and their lines) in the source, then
#                 medallion_run('all')  vs  the same by hand, the fact
#                 table merged with INSERT ... ON CONFLICT past its mark,
#                 then the test queries;
#   tests         medallion_test('all')  vs  one query per test (the way
#                 dbt runs them);
#   gold queries  three BI questions answered from gold  vs  the same
#                 answers computed from the bronze views (answers checked
#                 equal).
# Ratios are medallion / by hand (gold: gold / bronze).
#
# Change-aware runs, in the same rounds, against a run that builds every
# model (medallion_run('all', changed_only => false): incremental models
# take only new rows) and against the full run above (full_refresh):
#   nothing changed   medallion_run('all', changed_only => true) right after
#                     a full run (target <= 0.01);
#   1% new orders     the same after 1% new orders (target <= 0.5 at sf 10);
#                     its gold tables are checked equal to those of a full
#                     refresh that follows it, and the models it built are
#                     counted.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-5}
SFS=${SFS:-"1 10"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
start_cluster

# by hand: every model's SQL in plan order, into schema hand (search_path
# hand first, so models read each other there); snapshots as their first build
hand_sql() {
	$PSQL -At -c "
SELECT 'SET client_min_messages = warning; DROP SCHEMA IF EXISTS hand CASCADE; CREATE SCHEMA hand; SET search_path = hand, public;'
UNION ALL
SELECT CASE m.materialized
         WHEN 'view' THEN format('CREATE VIEW hand.%I AS %s;', m.name, m.sql)
         WHEN 'snapshot' THEN format('CREATE TABLE hand.%I AS SELECT q.*, now() AS valid_from, NULL::timestamptz AS valid_to FROM (%s) q; ANALYZE hand.%I;', m.name, m.sql, m.name)
         ELSE format('CREATE TABLE hand.%I AS %s;', m.name, m.sql) ||
              (SELECT coalesce(string_agg(format(' CREATE INDEX ON hand.%I (%I);', m.name, i), ''), '') FROM unnest(m.indexes) i) ||
              CASE WHEN m.unique_key IS NOT NULL AND m.materialized = 'incremental'
                   THEN format(' CREATE UNIQUE INDEX ON hand.%I (%s);', m.name, (SELECT string_agg(quote_ident(k), ', ') FROM unnest(m.unique_key) k))
                   ELSE '' END ||
              format(' ANALYZE hand.%I;', m.name)
       END
  FROM medallion_plan('all') p JOIN medallion.models m ON m.name = p.model"
}

# by hand after new source rows: rebuild the tables, merge the fact past its mark
hand_incremental_sql() {
	$PSQL -At -c "
SELECT 'SET client_min_messages = warning; SET search_path = hand, public;'
UNION ALL
SELECT CASE m.materialized
         WHEN 'view' THEN ''
         WHEN 'snapshot' THEN ''
         WHEN 'incremental' THEN format('INSERT INTO hand.%I SELECT * FROM (%s) q WHERE q.%I > (SELECT max(%I) - %L::interval FROM hand.%I) ON CONFLICT (%s) DO UPDATE SET %s; ANALYZE hand.%I;',
              m.name, m.sql, m.watermark, m.watermark, coalesce(m.lookback, '0'), m.name,
              (SELECT string_agg(quote_ident(k), ', ') FROM unnest(m.unique_key) k),
              (SELECT string_agg(format('%I = EXCLUDED.%I', a.attname, a.attname), ', ')
                 FROM pg_attribute a WHERE a.attrelid = format('hand.%I', m.name)::regclass AND a.attnum > 0),
              m.name)
         ELSE format('DROP TABLE hand.%I CASCADE; CREATE TABLE hand.%I AS %s;', m.name, m.name, m.sql) ||
              (SELECT coalesce(string_agg(format(' CREATE INDEX ON hand.%I (%I);', m.name, i), ''), '') FROM unnest(m.indexes) i) ||
              format(' ANALYZE hand.%I;', m.name)
       END
  FROM medallion_plan('all') p JOIN medallion.models m ON m.name = p.model"
}

# one query per test, over the published relations ($1 = layer) or the
# hand-built ones ($1 = hand)
tests_sql() {
	$PSQL -At -c "
CREATE OR REPLACE FUNCTION pg_temp.r(m medallion.models) RETURNS text LANGUAGE sql AS
  \$\$ SELECT format('%I.%I', CASE WHEN '$1' = 'hand' THEN 'hand' ELSE m.layer END, m.name) \$\$;
SELECT format('SELECT count(*) FROM %s WHERE ', r) || CASE t.kind
         WHEN 'not_null' THEN format('%I IS NULL;', t.columns[1])
         WHEN 'accepted_values' THEN format('%I::text NOT IN (%s);', t.columns[1], (SELECT string_agg(quote_literal(a), ', ') FROM unnest(t.accepted) a))
         WHEN 'expression' THEN format('NOT (%s);', t.expression)
         ELSE 'false;' END
  FROM medallion.tests t JOIN medallion.models m ON m.name = t.model,
       LATERAL (SELECT pg_temp.r(m) AS r) rel
 WHERE t.kind IN ('not_null', 'accepted_values', 'expression')
UNION ALL
SELECT format('SELECT count(*) FROM (SELECT %I FROM %s WHERE %I IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d;', t.columns[1], pg_temp.r(m), t.columns[1])
  FROM medallion.tests t JOIN medallion.models m ON m.name = t.model WHERE t.kind = 'unique'
UNION ALL
SELECT format('SELECT count(*) FROM %s c WHERE c.%I IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %s p WHERE p.%I = c.%I);',
              pg_temp.r(m), t.columns[1], pg_temp.r(tm), t.to_column, t.columns[1])
  FROM medallion.tests t JOIN medallion.models m ON m.name = t.model JOIN medallion.models tm ON tm.name = t.to_model
 WHERE t.kind = 'relationships'
UNION ALL
SELECT format('SELECT count(*) FROM %s;', pg_temp.r(m))
  FROM medallion.tests t JOIN medallion.models m ON m.name = t.model WHERE t.kind = 'row_count'
UNION ALL
SELECT format('SELECT max(%I) FROM %s;', t.columns[1], pg_temp.r(m))
  FROM medallion.tests t JOIN medallion.models m ON m.name = t.model WHERE t.kind = 'freshness'"
}

# three BI questions, from gold and from bronze
GOLD_Q="SELECT sum(revenue) FROM gold.gld_sales_summary WHERE order_date BETWEEN '2013-01-01' AND '2013-12-31';
SELECT category, max(revenue) FROM gold.gld_product_performance GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM gold.gld_customer_metrics WHERE orders > 0 AND last_order_date < '2014-01-01';"
BRONZE_Q="SELECT sum(line_total) FROM bronze.brnz_sales_orders WHERE order_date BETWEEN '2013-01-01' AND '2013-12-31';
SELECT category, max(revenue) FROM (SELECT p.category, sum(o.line_total) AS revenue FROM bronze.brnz_sales_orders o JOIN bronze.brnz_products p USING (product_id) GROUP BY p.product_id, p.category) x GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM (SELECT customer_id FROM bronze.brnz_sales_orders GROUP BY 1 HAVING max(order_date) < '2014-01-01') x;"

RUN="SET client_min_messages = warning; SELECT 1 / (count(*) FILTER (WHERE status NOT IN ('success', 'up_to_date')) = 0)::int FROM"

gold_digest() {	# one digest of every gold table's rows
	$PSQL -At -c "SELECT string_agg(format('%s:%s', c.relname,
	                  (xpath('/row/d/text()', query_to_xml(format('SELECT md5(string_agg(t::text, ''|'' ORDER BY t::text)) AS d FROM gold.%I t', c.relname), false, true, '')))[1]), ' ' ORDER BY c.relname)
	                 FROM pg_class c WHERE c.relnamespace = 'gold'::regnamespace AND c.relkind = 'r'"
}
new_orders() {	# 1% new orders of 4 lines, dated after everything
	$PSQL -q -c "
INSERT INTO \"Sales\".\"SalesOrderHeader\" (\"SalesOrderID\", \"OrderDate\", \"DueDate\", \"ShipDate\", \"OnlineOrderFlag\",
	\"SalesOrderNumber\", \"CustomerID\", \"TerritoryID\", \"ModifiedDate\")
SELECT m + k, d, d + 12, d + 7, true, 'SO' || (m + k), 11000 + k, 1, d + 7
  FROM (SELECT max(\"SalesOrderID\") AS m, (max(\"OrderDate\") + interval '1 day')::date AS d FROM \"Sales\".\"SalesOrderHeader\") x,
       generate_series(1, (SELECT count(*) / 100 FROM \"Sales\".\"SalesOrderHeader\")) k;
INSERT INTO \"Sales\".\"SalesOrderDetail\"
SELECT h.\"SalesOrderID\", (SELECT max(\"SalesOrderDetailID\") FROM \"Sales\".\"SalesOrderDetail\") + row_number() OVER (), NULL, 1, j, 1, 10, 0, 10, h.\"ModifiedDate\"
  FROM \"Sales\".\"SalesOrderHeader\" h, generate_series(1, 4) j
 WHERE h.\"SalesOrderID\" > (SELECT max(\"SalesOrderID\") FROM \"Sales\".\"SalesOrderDetail\");
ANALYZE \"Sales\".\"SalesOrderHeader\", \"Sales\".\"SalesOrderDetail\";"
}

printf '%s\n' "pipeline: AdventureWorks reference pipeline (13 models, 73 tests), median of $ROUNDS, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
printf '%-4s %-12s %12s %12s %8s\n' sf step medallion "by hand" ratio
for sf in $SFS; do
	$PSQL -q -v sf="$sf" -v seed=42 -f "$ROOT/examples/adventureworks/generate.sql"
	$PSQL -q -c "SET client_min_messages = warning; DROP EXTENSION IF EXISTS medallion CASCADE; CREATE EXTENSION medallion" >/dev/null
	$PSQL -q -f "$ROOT/examples/adventureworks/sources.sql" >/dev/null
	$PSQL -q -f "$ROOT/examples/adventureworks/models.sql" >/dev/null
	$PSQL -q -c "$RUN medallion_run('all')" >/dev/null
	hand=$(hand_sql)
	$PSQL -q -c "$hand"
	hand_tests=$(tests_sql hand)
	full=(); hfull=(); inc=(); hinc=(); tst=(); htst=(); gold=(); bronze=()
	fullc=(); idle=(); chg=(); built=""
	for _ in $(seq 1 "$ROUNDS"); do
		# change-aware runs against a full run
		$PSQL -q -c "$RUN medallion_run('all', changed_only => true)" >/dev/null
		fullc+=("$(time_sql "$RUN medallion_run('all', changed_only => false)")")
		idle+=("$(time_sql "$RUN medallion_run('all', changed_only => true)")")
		new_orders
		chg+=("$(time_sql "$RUN medallion_run('all', changed_only => true)")")
		built=$($PSQL -At -c "SELECT count(*) FILTER (WHERE status = 'success') || ' of ' || count(*) FROM medallion.run_models WHERE run_id = (SELECT max(run_id) FROM medallion.runs)")
		changed_gold=$(gold_digest)
		$PSQL -q -c "$RUN medallion_run('all', full_refresh => true)" >/dev/null
		if [ "$changed_gold" != "$(gold_digest)" ]; then
			echo "gold after a change-aware run differs from a full refresh at sf $sf" >&2
			exit 1
		fi
		full+=("$(time_sql "$RUN medallion_run('all', full_refresh => true)")")
		hfull+=("$(time_sql "$hand $hand_tests")")
		new_orders
		hinc_sql=$(hand_incremental_sql)
		inc+=("$(time_sql "$RUN medallion_run('all')")")
		hinc+=("$(time_sql "$hinc_sql $hand_tests")")
		tests=$(tests_sql layer)
		tst+=("$(time_sql "SET client_min_messages = warning; SELECT count(*) FROM medallion_test('all')")")
		htst+=("$(time_sql "$tests")")
		gold+=("$(time_sql "$GOLD_Q")")
		bronze+=("$(time_sql "$BRONZE_Q")")
	done
	# the answers agree
	if [ "$($PSQL -At -c "$GOLD_Q" | md5sum)" != "$($PSQL -At -c "$BRONZE_Q" | md5sum)" ]; then
		echo "gold and bronze answers differ at sf $sf" >&2
		exit 1
	fi
	for pair in "full run:full:hfull" "incremental 1%:inc:hinc" "tests:tst:htst" "gold queries:gold:bronze"; do
		IFS=: read -r label a b <<<"$pair"
		declare -n A="$a" B="$b"
		ma=$(median "${A[@]}"); mb=$(median "${B[@]}")
		printf '%-4s %-14s %10s ms %10s ms %8s\n' "$sf" "$label" "$ma" "$mb" "$(awk -v x="$ma" -v y="$mb" 'BEGIN { printf "%.2f", x / y }')"
	done
	for pair in "nothing changed:idle:fullc" "1% new orders:chg:fullc"; do
		IFS=: read -r label a b <<<"$pair"
		declare -n A="$a" B="$b"
		ma=$(median "${A[@]}"); mb=$(median "${B[@]}"); mf=$(median "${full[@]}")
		printf '%-4s %-14s %10s ms %10s ms %8s  (change-aware ÷ a run building everything; range %s-%s ms; ÷ the full run above: %s)\n' \
			"$sf" "$label" "$ma" "$mb" \
			"$(awk -v x="$ma" -v y="$mb" 'BEGIN { printf "%.3f", x / y }')" \
			"$(printf '%s\n' "${A[@]}" | sort -g | head -1)" "$(printf '%s\n' "${A[@]}" | sort -g | tail -1)" \
			"$(awk -v x="$ma" -v y="$mf" 'BEGIN { printf "%.3f", x / y }')"
	done
	echo "     after 1% new orders the change-aware run built $built models; gold equal to a full refresh's"
done
