-- bench/soak_pipeline.sql: the pipeline of soak.sh and of parallel.sh's
-- bronze-view case, as users lay one out.  psql variable scale (1: 1,000
-- customers, 5,000 orders, 10,000 order lines; sizes grow with it).
--
-- 4 bronze views over the sources; 10 silver models (among them an
-- incremental and a snapshot model, and two joined by a relationships
-- test); 10 gold tables; 12 tests.  Every model is tagged soak.
SET client_min_messages = warning;
CREATE SCHEMA src;
CREATE TABLE src.customers (id int PRIMARY KEY, region int NOT NULL, name text NOT NULL);
CREATE TABLE src.products (id int PRIMARY KEY, category int NOT NULL, price numeric NOT NULL);
CREATE TABLE src.orders (id int PRIMARY KEY, customer_id int NOT NULL, ordered_on date NOT NULL);
CREATE TABLE src.lines (order_id int NOT NULL, line int NOT NULL, product_id int NOT NULL, qty int NOT NULL,
	PRIMARY KEY (order_id, line));
INSERT INTO src.customers SELECT g, g % 20, 'customer ' || g FROM generate_series(1, 1000 * :scale) g;
INSERT INTO src.products SELECT g, g % 30, 1 + g % 97 FROM generate_series(1, 1000) g;
INSERT INTO src.orders SELECT g, 1 + g % (1000 * :scale), date '2026-01-01' + g % 300
  FROM generate_series(1, 5000 * :scale) g;
INSERT INTO src.lines SELECT o, l, 1 + (o * l) % 1000, 1 + (o + l) % 5
  FROM generate_series(1, 5000 * :scale) o, generate_series(1, 2) l;
ANALYZE;
SELECT medallion_create_model('brz_' || t, format('SELECT * FROM src.%I', t), layer => 'bronze', tags => '{soak}')
  FROM unnest(ARRAY['customers', 'products', 'orders', 'lines']) t;
SELECT medallion_create_model('slv_order_lines', 'SELECT l.order_id, o.customer_id, o.ordered_on, l.product_id, l.qty, l.qty * p.price AS amount
	FROM brz_lines l JOIN brz_orders o ON o.id = l.order_id JOIN brz_products p ON p.id = l.product_id', layer => 'silver', tags => '{soak}');
SELECT medallion_create_model('slv_customers', 'SELECT id AS customer_id, region, name FROM brz_customers', layer => 'silver', tags => '{soak}');
SELECT medallion_create_model('slv_products', 'SELECT id AS product_id, category, price FROM brz_products', layer => 'silver', tags => '{soak}');
SELECT medallion_create_model('slv_orders', 'SELECT o.id AS order_id, o.customer_id, o.ordered_on, count(*) AS lines, sum(l.qty) AS qty
	FROM brz_orders o JOIN brz_lines l ON l.order_id = o.id GROUP BY 1, 2, 3', layer => 'silver', tags => '{soak}');
SELECT medallion_create_model('slv_customer_' || k, format('SELECT customer_id, %s(amount) AS v FROM slv_order_lines GROUP BY 1', k),
  layer => 'silver', tags => '{soak}')
  FROM unnest(ARRAY['sum', 'max', 'min', 'avg']) k;
SELECT medallion_create_model('slv_lines_inc', 'SELECT order_id, line, product_id, qty FROM brz_lines', layer => 'silver',
  materialized => 'incremental', unique_key => ARRAY['order_id', 'line'], tags => '{soak}');
SELECT medallion_create_model('slv_customers_snap', 'SELECT id AS customer_id, region, name FROM brz_customers', layer => 'silver',
  materialized => 'snapshot', unique_key => ARRAY['customer_id'], tags => '{soak}');
SELECT medallion_create_model('gld_region_' || k, format('SELECT c.region, sum(x.v) AS v FROM slv_customer_%s x JOIN slv_customers c USING (customer_id) GROUP BY 1', k),
  layer => 'gold', tags => '{soak}')
  FROM unnest(ARRAY['sum', 'max', 'min', 'avg']) k;
SELECT medallion_create_model('gld_category_' || k, format('SELECT p.category, %s(l.amount) AS v FROM slv_order_lines l JOIN slv_products p USING (product_id) GROUP BY 1', k),
  layer => 'gold', tags => '{soak}')
  FROM unnest(ARRAY['sum', 'max', 'min', 'avg']) k;
SELECT medallion_create_model('gld_product_qty', 'SELECT product_id, sum(qty) AS qty FROM slv_lines_inc GROUP BY 1', layer => 'gold', tags => '{soak}');
SELECT medallion_create_model('gld_customer_versions', 'SELECT customer_id, count(*) AS versions FROM slv_customers_snap GROUP BY 1',
  layer => 'gold', tags => '{soak}');
SELECT medallion_add_test('slv_customers', 'unique', column_name => 'customer_id');
SELECT medallion_add_test('slv_customers', 'not_null', column_name => 'name');
SELECT medallion_add_test('slv_products', 'unique', column_name => 'product_id');
SELECT medallion_add_test('slv_orders', 'unique', column_name => 'order_id');
SELECT medallion_add_test('slv_orders', 'relationships', column_name => 'customer_id', to_model => 'slv_customers', to_column => 'customer_id');
SELECT medallion_add_test('slv_order_lines', 'not_null', column_name => 'amount');
SELECT medallion_add_test('slv_customer_sum', 'expression', expression => 'v >= 0');
SELECT medallion_add_test('slv_lines_inc', 'not_null', column_name => 'qty');
SELECT medallion_add_test('gld_region_sum', 'row_count', min_rows => 20, max_rows => 20);
SELECT medallion_add_test('gld_category_sum', 'row_count', min_rows => 30, max_rows => 30);
SELECT medallion_add_test('gld_category_avg', 'not_null', column_name => 'v');
SELECT medallion_add_test('gld_customer_versions', 'unique', column_name => 'customer_id');
SELECT count(*) FROM medallion_run('all');
