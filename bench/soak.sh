#!/bin/bash
# bench/soak.sh: many runs in one long-lived session, as a pooled
# connection or a minute schedule makes them.
#
# A 20-model pipeline (4 bronze views, 8 silver tables, 8 gold tables, 10
# tests) over sources a writer changes between runs.  $RUNS runs (default
# 1,000) of medallion_run('all', threads => $THREADS) in one session; every
# $EVERY runs the session samples itself: its memory contexts (all of them,
# and CacheMemoryContext alone), WAL written, OIDs consumed (one large
# object created and dropped gives the OID counter), the size of the
# catalogs runs churn, the ledger's size, and time per run.  Target
# (issue 14): all contexts grow by less than 1 MB over 1,000 runs.  The
# growth is counted from the first sample after the first $EVERY runs:
# those fill the session's caches once (about 2 MB here).
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-1000}
EVERY=${EVERY:-100}
THREADS=${THREADS:-1}
start_cluster

$PSQL >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA src;
CREATE TABLE src.customers (id int PRIMARY KEY, region int NOT NULL, name text NOT NULL);
CREATE TABLE src.products (id int PRIMARY KEY, category int NOT NULL, price numeric NOT NULL);
CREATE TABLE src.orders (id int PRIMARY KEY, customer_id int NOT NULL, ordered_on date NOT NULL);
CREATE TABLE src.lines (order_id int NOT NULL, line int NOT NULL, product_id int NOT NULL, qty int NOT NULL,
	PRIMARY KEY (order_id, line));
INSERT INTO src.customers SELECT g, g % 20, 'customer ' || g FROM generate_series(1, 1000) g;
INSERT INTO src.products SELECT g, g % 30, 1 + g % 97 FROM generate_series(1, 1000) g;
INSERT INTO src.orders SELECT g, 1 + g % 1000, date '2026-01-01' + g % 300 FROM generate_series(1, 5000) g;
INSERT INTO src.lines SELECT o, l, 1 + (o * l) % 1000, 1 + (o + l) % 5 FROM generate_series(1, 5000) o, generate_series(1, 2) l;
ANALYZE;
SELECT medallion_create_model('brz_' || t, format('SELECT * FROM src.%I', t), layer => 'bronze')
  FROM unnest(ARRAY['customers', 'products', 'orders', 'lines']) t;
SELECT medallion_create_model('slv_order_lines', 'SELECT l.order_id, o.customer_id, o.ordered_on, l.product_id, l.qty, l.qty * p.price AS amount
	FROM brz_lines l JOIN brz_orders o ON o.id = l.order_id JOIN brz_products p ON p.id = l.product_id', layer => 'silver');
SELECT medallion_create_model('slv_customers', 'SELECT id AS customer_id, region, name FROM brz_customers', layer => 'silver');
SELECT medallion_create_model('slv_products', 'SELECT id AS product_id, category, price FROM brz_products', layer => 'silver');
SELECT medallion_create_model('slv_orders', 'SELECT o.id AS order_id, o.customer_id, o.ordered_on, count(*) AS lines, sum(l.qty) AS qty
	FROM brz_orders o JOIN brz_lines l ON l.order_id = o.id GROUP BY 1, 2, 3', layer => 'silver');
SELECT medallion_create_model('slv_customer_' || k, format('SELECT customer_id, %s(amount) AS v FROM slv_order_lines GROUP BY 1', k), layer => 'silver')
  FROM unnest(ARRAY['sum', 'max', 'min', 'avg']) k;
SELECT medallion_create_model('gld_region_' || k, format('SELECT c.region, sum(x.v) AS v FROM slv_customer_%s x JOIN slv_customers c USING (customer_id) GROUP BY 1', k), layer => 'gold')
  FROM unnest(ARRAY['sum', 'max', 'min', 'avg']) k;
SELECT medallion_create_model('gld_category_' || k, format('SELECT p.category, %s(l.amount) AS v FROM slv_order_lines l JOIN slv_products p USING (product_id) GROUP BY 1', k), layer => 'gold')
  FROM unnest(ARRAY['sum', 'max', 'min', 'avg']) k;
SELECT medallion_add_test('slv_customers', 'unique', column_name => 'customer_id');
SELECT medallion_add_test('slv_customers', 'not_null', column_name => 'name');
SELECT medallion_add_test('slv_products', 'unique', column_name => 'product_id');
SELECT medallion_add_test('slv_orders', 'unique', column_name => 'order_id');
SELECT medallion_add_test('slv_orders', 'relationships', column_name => 'customer_id', to_model => 'slv_customers', to_column => 'customer_id');
SELECT medallion_add_test('slv_order_lines', 'not_null', column_name => 'amount');
SELECT medallion_add_test('slv_customer_sum', 'expression', expression => 'v >= 0');
SELECT medallion_add_test('gld_region_sum', 'row_count', min_rows => 20, max_rows => 20);
SELECT medallion_add_test('gld_category_sum', 'row_count', min_rows => 30, max_rows => 30);
SELECT medallion_add_test('gld_category_avg', 'not_null', column_name => 'v');
SELECT count(*) FROM medallion_run('all');
SQL

# one session: runs, a source change before each, and a sample every $EVERY
script=$BENCH_DIR/soak.sql
{
	echo "SET client_min_messages = warning;"
	for ((i = 0; i <= RUNS; i += EVERY)); do
		echo "SELECT $i, (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
			(SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext'),
			pg_current_wal_insert_lsn() - '0/0', (SELECT o FROM lo_create(0) o, lo_unlink(o)),
			(SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['pg_class', 'pg_type', 'pg_attribute', 'pg_depend', 'pg_statistic']::regclass[]) c),
			(SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['medallion.runs', 'medallion.run_models', 'medallion.test_results']::regclass[]) c),
			extract(epoch FROM clock_timestamp()) * 1000;"
		[ "$i" -lt "$RUNS" ] || break
		echo '\o /dev/null'
		for ((j = 0; j < EVERY; j++)); do
			echo "UPDATE src.lines SET qty = 1 + qty % 5 WHERE order_id = 1 + (random() * 4999)::int;"
			echo "SELECT 1 / (count(*) FILTER (WHERE status <> 'success') = 0)::int FROM medallion_run('all', threads => $THREADS);"
		done
		echo '\o'
	done
} >"$script"

echo "soak: $RUNS runs of a 20-model pipeline with 10 tests in one session, threads => $THREADS"
printf '%6s %12s %12s %12s %10s %10s %10s %9s\n' runs all_ctx_kB cache_ctx_kB wal_kB/run oids/run catalog_kB ledger_kB ms/run
$PSQL -At -F ' ' -f "$script" | awk -v every="$EVERY" '
NR == 2 { first_all = $2; first_cache = $3; first_runs = $1 }
{
	if (NR > 1)
		printf "%6d %12.0f %12.0f %12.0f %10.0f %10.0f %10.0f %9.1f\n", $1, $2 / 1024, $3 / 1024,
			($4 - wal) / 1024 / every, ($5 - oid) / every, $6 / 1024, $7 / 1024, ($8 - t) / every;
	else
		printf "%6d %12.0f %12.0f %12s %10s %10.0f %10.0f %9s\n", $1, $2 / 1024, $3 / 1024, "-", "-", $6 / 1024, $7 / 1024, "-";
	wal = $4; oid = $5; t = $8; last_all = $2; last_cache = $3; runs = $1
}
END {
	printf "growth from run %d to run %d (the first runs fill the caches): all contexts %+.0f kB (%.2f kB/run), CacheMemoryContext %+.0f kB\n",
		first_runs, runs, (last_all - first_all) / 1024, (last_all - first_all) / 1024 / (runs - first_runs),
		(last_cache - first_cache) / 1024
}'
