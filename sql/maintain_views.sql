--
-- Maintained table models that read views (issue 31,
-- src/analyze_flatten.c, docs/incremental-maintenance.md): the view
-- models a table model reads (and plain views, and ephemeral models) are
-- followed down to their tables, whose row deltas maintain it.  The
-- models are shaped like the AdventureWorks pipeline's: order lines (a
-- header joined to its detail lines) and products with their lookup
-- tables, as bronze views.  Differential: after every kind of write the
-- published table equals the model's query (EXCEPT ALL both ways,
-- mw.diff); the step's message says what ran.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
SET search_path = public, bronze, silver, gold;
CREATE SCHEMA mw;
CREATE TABLE mw.header (id int PRIMARY KEY, customer int, status int, day date);
CREATE TABLE mw.detail (id int PRIMARY KEY, header_id int NOT NULL, product int, qty int, price numeric);
CREATE INDEX ON mw.detail (header_id);
CREATE INDEX ON mw.detail (product);
CREATE TABLE mw.category (id int PRIMARY KEY, name text);
CREATE TABLE mw.subcategory (id int PRIMARY KEY, category int, name text);
CREATE TABLE mw.product (id int PRIMARY KEY, subcategory int, name text, cost numeric, list numeric, color text,
                         weight numeric);
INSERT INTO mw.category SELECT i, 'category ' || i FROM generate_series(1, 30) i;
INSERT INTO mw.subcategory SELECT i, i % 30 + 1, 'subcategory ' || i FROM generate_series(1, 60) i;
INSERT INTO mw.product
  SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 60 + 1 END, 'product ' || i, i * 0.5,
         CASE WHEN i % 17 = 0 THEN -1 ELSE i END, CASE WHEN i % 3 = 0 THEN 'red' ELSE 'blue' END, i % 7
    FROM generate_series(1, 240) i;
INSERT INTO mw.header
  SELECT i, i % 40, CASE WHEN i % 11 = 0 THEN 6 ELSE 1 END, date '2024-01-01' + i % 30
    FROM generate_series(1, 600) i;
INSERT INTO mw.detail SELECT i, i % 600 + 1, i % 240 + 1, i % 4, i % 13 FROM generate_series(1, 3000) i;
ANALYZE mw.header, mw.detail, mw.category, mw.subcategory, mw.product;

-- a run's steps, what varies in messages masked
CREATE FUNCTION mw.run(selector text)
RETURNS TABLE (model text, status text, message text) LANGUAGE sql AS $$
	SELECT r.model, r.status, mhelp.mask(r.message)
	  FROM medallion_run(selector) r ORDER BY r.model
$$;
-- the tables whose deltas are captured
CREATE VIEW mw.captured AS
  SELECT c.relname AS captured, (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
                                  WHERE a.attrelid = l.oid AND a.attnum > 2) AS columns
    FROM pg_class c JOIN pg_class l ON l.relname = 'd' || c.oid
                                   AND l.relnamespace = 'medallion_delta'::regnamespace
   WHERE c.relnamespace = 'mw'::regnamespace ORDER BY 1;

-- the bronze views: order lines (header and detail), products with their
-- subcategory and category (outer joins, as AdventureWorks' brnz_products,
-- and inner joins)
SELECT medallion_create_model('mw_orders', $$
SELECT h.id AS order_id, d.id AS line_id, h.customer, h.day, d.product AS product_id, d.qty, d.price,
       d.qty * d.price AS total
  FROM mw.header h
  JOIN mw.detail d ON d.header_id = h.id
 WHERE d.qty > 0 AND h.status <> 6$$, layer => 'bronze');
SELECT medallion_create_model('mw_products', $$
SELECT p.id AS product_id, p.name AS product_name, p.cost,
       coalesce(s.name, 'no subcategory') AS subcategory, coalesce(c.name, 'uncategorized') AS category
  FROM mw.product p
  LEFT JOIN mw.subcategory s ON s.id = p.subcategory
  LEFT JOIN mw.category c ON c.id = s.category
 WHERE p.list >= 0$$, layer => 'bronze');
SELECT medallion_create_model('mw_catalog', $$
SELECT p.id AS product_id, p.name AS product_name, p.cost, s.name AS subcategory, c.name AS category
  FROM mw.product p
  JOIN mw.subcategory s ON s.id = p.subcategory
  JOIN mw.category c ON c.id = s.category
 WHERE p.list >= 0$$, layer => 'bronze');
-- an ephemeral model over a view model
SELECT medallion_create_model('mw_big_lines', 'SELECT * FROM mw_orders WHERE total >= 10',
                              layer => 'bronze', materialized => 'ephemeral');

-- table models over them: AdventureWorks' slvr_sales_orders (the order and
-- its lines, joined to products through their outer joins); the same over
-- the inner-joined catalog, keyed by the order (the first table whose key
-- the output carries) and by the line; GROUP BYs over views
SELECT medallion_create_model('mw_sales', $$
SELECT o.order_id, o.line_id, o.customer, o.qty, o.total, p.category,
       round(o.qty * p.cost, 2) AS line_cost, o.total - round(o.qty * p.cost, 2) AS line_profit
  FROM mw_orders o
  JOIN mw_products p USING (product_id)$$, layer => 'silver');
SELECT medallion_create_model('mw_order_lines', $$
SELECT o.order_id, o.line_id, o.customer, o.qty, o.total, p.category, round(o.qty * p.cost, 2) AS line_cost
  FROM mw_orders o
  JOIN mw_catalog p USING (product_id)$$, layer => 'silver');
SELECT medallion_create_model('mw_lines', $$
SELECT o.line_id, o.day, p.product_name, p.category, round(o.qty * p.cost, 2) AS line_cost
  FROM mw_orders o
  JOIN mw_catalog p USING (product_id)$$, layer => 'silver', maintain => 'incremental');
SELECT medallion_create_model('mw_by_category', $$
SELECT p.category, count(*) AS lines, sum(o.total) AS total, max(p.product_name) AS last_product
  FROM mw_orders o
  JOIN mw_catalog p USING (product_id)
 GROUP BY p.category$$, layer => 'gold');
SELECT medallion_create_model('mw_by_customer',
  'SELECT customer, count(*) AS lines, sum(total) AS total FROM mw_orders GROUP BY customer', layer => 'gold');
SELECT medallion_create_model('mw_big_by_day',
  'SELECT day, count(*) AS lines, sum(total) AS total FROM mw_big_lines GROUP BY day', layer => 'gold');
CREATE VIEW mw.diffs AS
  SELECT mhelp.diff('mw_sales') AS sales, mhelp.diff('mw_order_lines') AS order_lines, mhelp.diff('mw_lines') AS lines,
         mhelp.diff('mw_by_category') AS by_category, mhelp.diff('mw_by_customer') AS by_customer,
         mhelp.diff('mw_big_by_day') AS big_by_day;
\set models 'mw_sales mw_order_lines mw_lines mw_by_category mw_by_customer mw_big_by_day'

-- the plan follows the views down to their tables
SELECT model, maintain FROM medallion_plan(:'models') ORDER BY model;
-- the tables under the views are captured, with the columns the models read
SELECT * FROM mw.captured;

-- the first build is whole
SELECT model, status FROM medallion_run(:'models') ORDER BY model;
SELECT * FROM mw.diffs;

-- new lines of existing orders: through the view, to the orders, lines and groups they touch
INSERT INTO mw.detail VALUES (3001, 7, 3, 2, 5), (3002, 8, 4, 1, 7), (3003, 8, 40, 3, 11);
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;
-- a product's standard cost: a change to a table under the other view
UPDATE mw.product SET cost = cost + 1 WHERE id IN (3, 4);
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;
-- lines deleted, one leaving the view's WHERE clause
DELETE FROM mw.detail WHERE id IN (100, 101, 3002);
UPDATE mw.detail SET qty = 0 WHERE id = 102;
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;
-- a lookup row renamed: the lines of its products, and two groups (old name, new)
UPDATE mw.category SET name = 'category one' WHERE id = 1;
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;
SELECT category, lines FROM gold.mw_by_category WHERE category IN ('category 1', 'category one');
-- a new order: its header and its lines both change (more than one table);
-- mw_lines (maintain => 'incremental') would fail: it is left for later
INSERT INTO mw.header VALUES (601, 3, 1, date '2024-02-01');
INSERT INTO mw.detail VALUES (3004, 601, 5, 2, 8);
SELECT * FROM mw.run('mw_sales mw_order_lines mw_by_category mw_by_customer mw_big_by_day');
SELECT sales, order_lines, by_category, by_customer, big_by_day FROM mw.diffs;

-- A view model redefined: the models reading it are rebuilt whole once,
-- never maintained from a plan read off the old definition (mw_lines too:
-- a definition changed is not a failure of maintain => 'incremental'),
-- then maintained again.  The new definition reads a column of product no
-- model read: it is captured from now on.
SELECT medallion_create_model('mw_catalog', $$
SELECT p.id AS product_id, p.name AS product_name, p.cost, s.name AS subcategory, c.name AS category
  FROM mw.product p
  JOIN mw.subcategory s ON s.id = p.subcategory
  JOIN mw.category c ON c.id = s.category
 WHERE p.list >= 0 AND p.color <> 'red'$$, layer => 'bronze');
SELECT * FROM mw.captured WHERE captured = 'product';
UPDATE mw.detail SET qty = qty + 1 WHERE id = 200;
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;
-- even when nothing else changed
SELECT medallion_create_model('mw_catalog', $$
SELECT p.id AS product_id, p.name AS product_name, p.cost, s.name AS subcategory, c.name AS category
  FROM mw.product p
  JOIN mw.subcategory s ON s.id = p.subcategory
  JOIN mw.category c ON c.id = s.category
 WHERE p.list >= 0 AND p.color <> 'green'$$, layer => 'bronze');
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;
UPDATE mw.product SET color = 'green' WHERE id = 5;
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;

-- A plain view, the model owner's: followed too.  Redefined with CREATE
-- OR REPLACE VIEW, which medallion does not see: the next build is whole,
-- and a column the new definition reads that is not captured keeps the
-- model whole until it is defined again.
CREATE VIEW mw.costs AS SELECT id, cost FROM mw.product WHERE list >= 0;
CREATE VIEW mw.costs2 AS SELECT id, cost * 2 AS cost2 FROM mw.costs;
SELECT medallion_create_model('mw_costs',
  'SELECT o.line_id, o.qty * c.cost2 AS cost FROM mw_orders o JOIN mw.costs2 c ON c.id = o.product_id',
  layer => 'silver');
SELECT model, maintain FROM medallion_plan('mw_costs');
SELECT model, status FROM medallion_run('mw_costs');
UPDATE mw.product SET cost = cost + 1 WHERE id = 6;
SELECT * FROM mw.run('mw_costs');
SELECT mhelp.diff('mw_costs') AS costs;
CREATE OR REPLACE VIEW mw.costs AS SELECT id, cost FROM mw.product WHERE list >= 0 AND weight < 6;
UPDATE mw.product SET cost = cost + 1 WHERE id = 6;
SELECT * FROM mw.run('mw_costs');
SELECT mhelp.diff('mw_costs') AS costs;
SELECT model, maintain FROM medallion_plan('mw_costs');
SELECT medallion_create_model('mw_costs',
  'SELECT o.line_id, o.qty * c.cost2 AS cost FROM mw_orders o JOIN mw.costs2 c ON c.id = o.product_id',
  layer => 'silver');
SELECT model, maintain FROM medallion_plan('mw_costs');
UPDATE mw.product SET weight = 6 WHERE id = 14;
SELECT * FROM mw.run('mw_costs');
SELECT mhelp.diff('mw_costs') AS costs;
UPDATE mw.product SET weight = 0 WHERE id = 14;
SELECT * FROM mw.run('mw_costs');
SELECT mhelp.diff('mw_costs') AS costs;
-- redefined again, reading what is captured: rebuilt whole once
CREATE OR REPLACE VIEW mw.costs AS SELECT id, cost FROM mw.product WHERE list >= 0 AND weight < 5;
SELECT * FROM mw.run('mw_costs');
SELECT mhelp.diff('mw_costs') AS costs;
-- maintain => 'incremental' over a view redefined out of the class: its
-- change-aware runs fail, a full refresh rebuilds it
SELECT medallion_create_model('mw_costs_strict',
  'SELECT o.line_id, o.qty * c.cost2 AS cost FROM mw_orders o JOIN mw.costs2 c ON c.id = o.product_id',
  layer => 'silver', maintain => 'incremental');
SELECT model, status FROM medallion_run('mw_costs_strict');
CREATE OR REPLACE VIEW mw.costs AS SELECT DISTINCT id, cost FROM mw.product WHERE list >= 0 AND weight < 5;
SELECT model, maintain FROM medallion_plan('mw_costs_strict');
SELECT * FROM mw.run('mw_costs_strict');
SELECT model, status FROM medallion_run('mw_costs_strict', full_refresh => true);
SELECT mhelp.diff('mw_costs_strict') AS costs_strict;

-- Views that are not followed: the model is rebuilt whole, and says why
CREATE VIEW mw.per_product AS SELECT product, sum(qty) AS qty FROM mw.detail GROUP BY product;
CREATE VIEW mw.distinct_products AS SELECT DISTINCT product FROM mw.detail;
CREATE VIEW mw.first_lines AS SELECT id, product FROM mw.detail ORDER BY id LIMIT 10;
CREATE VIEW mw.stamped AS SELECT id, product, now() AS seen FROM mw.detail;
CREATE VIEW mw.barrier WITH (security_barrier) AS SELECT id, cost FROM mw.product;
CREATE ROLE mw_other;
GRANT USAGE ON SCHEMA mw TO mw_other;
GRANT SELECT ON mw.product TO mw_other;
CREATE VIEW mw.theirs AS SELECT id, cost FROM mw.product;
ALTER VIEW mw.theirs OWNER TO mw_other;
SELECT medallion_create_model('mw_x_grouped',
  'SELECT p.id, v.qty FROM mw.product p JOIN mw.per_product v ON v.product = p.id', layer => 'silver');
SELECT medallion_create_model('mw_x_distinct',
  'SELECT p.id, p.name FROM mw.product p JOIN mw.distinct_products v ON v.product = p.id', layer => 'silver');
SELECT medallion_create_model('mw_x_limit',
  'SELECT v.id, p.name FROM mw.first_lines v JOIN mw.product p ON p.id = v.product', layer => 'silver');
SELECT medallion_create_model('mw_x_volatile',
  'SELECT v.id, p.name FROM mw.stamped v JOIN mw.product p ON p.id = v.product', layer => 'silver');
SELECT medallion_create_model('mw_x_barrier',
  'SELECT o.line_id, b.cost FROM mw_orders o JOIN mw.barrier b ON b.id = o.product_id', layer => 'silver');
SELECT medallion_create_model('mw_x_theirs',
  'SELECT o.line_id, t.cost FROM mw_orders o JOIN mw.theirs t ON t.id = o.product_id', layer => 'silver');
-- on the nullable side of an outer join: a computed column (coalesce) is not
-- NULL for a missing row, so the view is not followed; plain columns are
SELECT medallion_create_model('mw_x_nullable', $$
SELECT d.id, p.subcategory FROM mw.detail d LEFT JOIN mw_products p ON p.product_id = d.product$$,
  layer => 'silver');
SELECT medallion_create_model('mw_x_nullable_plain', $$
SELECT d.id, p.subcategory FROM mw.detail d LEFT JOIN mw_catalog p ON p.product_id = d.product$$,
  layer => 'silver');
SELECT model, maintain FROM medallion_plan('mw_x_grouped mw_x_distinct mw_x_limit mw_x_volatile mw_x_barrier mw_x_theirs mw_x_nullable mw_x_nullable_plain')
 ORDER BY model;
-- maintain => 'incremental' refuses a model over a view it cannot follow
\set VERBOSITY default
SELECT medallion_create_model('mw_x_strict',
  'SELECT p.id, v.qty FROM mw.product p JOIN mw.per_product v ON v.product = p.id',
  layer => 'silver', maintain => 'incremental');
\set VERBOSITY terse
SELECT medallion_drop_model(m)
  FROM unnest(ARRAY['mw_x_grouped', 'mw_x_distinct', 'mw_x_limit', 'mw_x_volatile', 'mw_x_barrier', 'mw_x_theirs',
                    'mw_x_nullable', 'mw_x_nullable_plain']) m;

-- A view model that no longer reads a table: no model needs its deltas,
-- whose log and triggers go
SELECT medallion_create_model('mw_catalog', $$
SELECT p.id AS product_id, p.name AS product_name, p.cost, s.name AS subcategory, s.name AS category
  FROM mw.product p
  JOIN mw.subcategory s ON s.id = p.subcategory
 WHERE p.list >= 0 AND p.color <> 'green'$$, layer => 'bronze');
SELECT * FROM mw.captured;
SELECT count(*) AS category_triggers FROM pg_trigger
 WHERE tgrelid = 'mw.category'::regclass AND tgname LIKE 'medallion_deltas%';
UPDATE mw.subcategory SET name = 'subcategory three' WHERE id = 3;
SELECT * FROM mw.run(:'models');
SELECT * FROM mw.diffs;

-- the models dropped: nothing is captured any more
SELECT medallion_drop_model(m)
  FROM unnest(ARRAY['mw_sales', 'mw_order_lines', 'mw_lines', 'mw_by_category', 'mw_by_customer', 'mw_big_by_day',
                    'mw_costs', 'mw_costs_strict', 'mw_big_lines', 'mw_orders', 'mw_products', 'mw_catalog']) m;
SELECT * FROM mw.captured;
SELECT count(*) AS triggers FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'mw'::regnamespace AND t.tgname LIKE 'medallion_deltas%';
DROP SCHEMA mw CASCADE;
DROP ROLE mw_other;
