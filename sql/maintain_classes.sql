--
-- The maintained classes beyond GROUP BY and inner joins (issue 31,
-- src/analyze_maintain.c, docs/incremental-maintenance.md): SELECT
-- DISTINCT (keyed by the whole output row), window functions of one
-- PARTITION BY (keyed by the partition), joins keyed by a driving table
-- with LEFT JOINs after it, GROUP BY and windows over LEFT JOINs (keyed
-- by their left side), UNION ALL of branches keyed alike.  Differential:
-- after inserts, updates of keys
-- and values, deletes and NULL keys the published table equals the
-- model's query (EXCEPT ALL both ways, mc.diffs); the step's message says
-- what ran.  And the plan's reasons for what stays outside.
--
-- settings, mhelp.diff and mhelp.mask: sql/helpers/maintained.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/helpers/maintained.sql
CREATE SCHEMA mc;
CREATE TABLE mc.regions (id int PRIMARY KEY, label text);
CREATE TABLE mc.customers (id int PRIMARY KEY, name text, region_id int);
CREATE TABLE mc.orders (id int PRIMARY KEY, customer_id int, amount numeric, status text);
CREATE INDEX ON mc.orders (customer_id);
CREATE INDEX ON mc.customers (region_id);
INSERT INTO mc.regions VALUES (1, 'north'), (2, 'south'), (3, 'east'), (4, NULL);
INSERT INTO mc.customers
  SELECT i, 'c' || i, CASE WHEN i % 9 = 0 THEN NULL ELSE i % 5 END FROM generate_series(1, 60) i;
-- customer ids up to 65: some orders join no customer; every 11th has none
INSERT INTO mc.orders
  SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE i % 65 + 1 END, (i % 13) * 2.5,
         CASE WHEN i % 4 = 0 THEN 'void' ELSE 'ok' END
    FROM generate_series(1, 2000) i;
ANALYZE mc.regions, mc.customers, mc.orders;

CREATE FUNCTION mc.run(selector text)
RETURNS TABLE (model text, status text, message text) LANGUAGE sql AS $$
	SELECT r.model, r.status, mhelp.mask(r.message)
	  FROM medallion_run(selector) r ORDER BY r.model
$$;

-- DISTINCT over one table (a NULL key column) and over a join
SELECT medallion_create_model('mc_statuses',
  'SELECT DISTINCT customer_id, status FROM mc.orders WHERE amount > 0', layer => 'gold');
SELECT medallion_create_model('mc_pairs',
  'SELECT DISTINCT c.name, o.status FROM mc.orders o JOIN mc.customers c ON c.id = o.customer_id',
  layer => 'gold');
-- window functions of one PARTITION BY: over one table, over a join, over groups
SELECT medallion_create_model('mc_ranked',
  $$SELECT id, customer_id, amount, rank() OVER (PARTITION BY customer_id ORDER BY amount, id) AS r,
           sum(amount) OVER (PARTITION BY customer_id) AS total, count(*) OVER w AS n
      FROM mc.orders WHERE status <> 'void' WINDOW w AS (PARTITION BY customer_id)$$, layer => 'gold');
SELECT medallion_create_model('mc_label_share',
  $$SELECT o.id, r.label, o.amount, sum(o.amount) OVER (PARTITION BY r.label) AS label_total
      FROM mc.orders o JOIN mc.customers c ON c.id = o.customer_id JOIN mc.regions r ON r.id = c.region_id$$,
  layer => 'gold');
SELECT medallion_create_model('mc_status_rank',
  $$SELECT customer_id, status, sum(amount) AS amount,
           dense_rank() OVER (PARTITION BY customer_id ORDER BY sum(amount)) AS r
      FROM mc.orders GROUP BY customer_id, status HAVING count(*) > 1$$, layer => 'gold');
-- LEFT JOINs after the driving table; one whose WHERE keeps NULL-extended rows; inner, then LEFT
SELECT medallion_create_model('mc_left',
  $$SELECT o.id, o.amount, c.name, r.label
      FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id
      LEFT JOIN mc.regions r ON r.id = c.region_id$$, layer => 'gold');
SELECT medallion_create_model('mc_left_where',
  $$SELECT o.id, c.name FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id AND c.name <> 'c3'
     WHERE c.region_id IS NULL OR o.status = 'void'$$, layer => 'gold');
SELECT medallion_create_model('mc_inner_left',
  $$SELECT o.id, c.name, r.label
      FROM mc.orders o JOIN mc.customers c ON c.id = o.customer_id
      LEFT JOIN mc.regions r ON r.id = c.region_id AND r.label <> 'south'
     WHERE o.status = 'ok'$$, layer => 'gold');
-- GROUP BY and windows over LEFT JOINs, keyed by the left side's columns: customers with their
-- orders (the ON filters them); by customer, status and region (keyed by the first two); ranks of each
-- region's customers by their orders
SELECT medallion_create_model('mc_left_group',
  $$SELECT c.id, c.name, count(o.id) AS orders, sum(o.amount) AS amount, max(o.status) AS last_status
      FROM mc.customers c LEFT JOIN mc.orders o ON o.customer_id = c.id AND o.status <> 'void'
     GROUP BY c.id, c.name$$, layer => 'gold');
SELECT medallion_create_model('mc_left_by_status',
  $$SELECT o.customer_id, o.status, r.label, count(*) AS n, sum(o.amount) AS amount
      FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id
      LEFT JOIN mc.regions r ON r.id = c.region_id
     GROUP BY o.customer_id, o.status, r.label HAVING count(*) > 1$$, layer => 'gold');
SELECT medallion_create_model('mc_left_window',
  $$SELECT c.id, c.region_id, o.id AS order_id,
           rank() OVER (PARTITION BY c.region_id ORDER BY o.amount, o.id, c.id) AS r
      FROM mc.customers c LEFT JOIN mc.orders o ON o.customer_id = c.id
     WHERE o.status IS DISTINCT FROM 'void'$$, layer => 'gold');
-- UNION ALL of branches keyed by the same output column: two GROUP BYs; a LEFT JOIN keyed by
-- orders and a GROUP BY of regions
SELECT medallion_create_model('mc_union',
  $$SELECT customer_id AS k, 'orders' AS what, count(*) AS n FROM mc.orders GROUP BY customer_id
    UNION ALL SELECT region_id, 'customers', count(*) FROM mc.customers GROUP BY region_id$$, layer => 'gold');
SELECT medallion_create_model('mc_union_keyed',
  $$SELECT o.id, c.name FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id
    UNION ALL SELECT r.id, max(r.label) FROM mc.regions r GROUP BY r.id$$, layer => 'gold');
SELECT model, maintain FROM medallion_plan('mc_statuses mc_pairs mc_ranked mc_label_share mc_status_rank mc_left mc_left_where mc_inner_left mc_left_group mc_left_by_status mc_left_window mc_union mc_union_keyed')
 ORDER BY model;

CREATE VIEW mc.diffs AS
  SELECT mhelp.diff('mc_statuses') AS statuses, mhelp.diff('mc_pairs') AS pairs, mhelp.diff('mc_ranked') AS ranked,
         mhelp.diff('mc_label_share') AS label_share, mhelp.diff('mc_status_rank') AS status_rank,
         mhelp.diff('mc_left') AS "left", mhelp.diff('mc_left_where') AS left_where,
         mhelp.diff('mc_inner_left') AS inner_left, mhelp.diff('mc_left_group') AS left_group,
         mhelp.diff('mc_left_by_status') AS left_by_status, mhelp.diff('mc_left_window') AS left_window,
         mhelp.diff('mc_union') AS "union",
         mhelp.diff('mc_union_keyed') AS union_keyed;
\set models 'mc_statuses mc_pairs mc_ranked mc_label_share mc_status_rank mc_left mc_left_where mc_inner_left mc_left_group mc_left_by_status mc_left_window mc_union mc_union_keyed'
SELECT model, status FROM mc.run(:'models');
SELECT * FROM mc.diffs;

-- orders: new ones (one with no customer, one a new status), a value changed
INSERT INTO mc.orders VALUES (3001, 7, 10, 'ok'), (3002, NULL, 4, 'held'), (3003, 64, 0, 'ok');
UPDATE mc.orders SET amount = amount + 1 WHERE id IN (5, 6);
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;
-- keys updated: an order to another customer (another partition, distinct row), a status
UPDATE mc.orders SET customer_id = 8 WHERE id = 7;
UPDATE mc.orders SET status = 'held' WHERE id IN (9, 10);
UPDATE mc.orders SET customer_id = NULL WHERE id = 12;
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;
-- deletes: an order, every order of a customer, a NULL-keyed one
DELETE FROM mc.orders WHERE id = 13 OR customer_id = 20 OR id = 22;
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;
-- customers: renamed, moved to another region, to none; one deleted (its orders NULL-extended
-- in mc_left), one made for orders that joined none
UPDATE mc.customers SET name = 'renamed' WHERE id = 7;
UPDATE mc.customers SET region_id = 2 WHERE id = 8;
UPDATE mc.customers SET region_id = NULL WHERE id = 11;
DELETE FROM mc.customers WHERE id = 14;
INSERT INTO mc.customers VALUES (62, 'c62', 1), (3, 'c3', 3) ON CONFLICT (id) DO UPDATE SET region_id = 4;
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;
-- regions: relabelled to NULL, deleted, made
UPDATE mc.regions SET label = NULL WHERE id = 3;
DELETE FROM mc.regions WHERE id = 2;
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;
INSERT INTO mc.regions VALUES (2, 'south'), (5, 'west');
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;
-- two tables changed: the joins are rebuilt whole, the others maintained
UPDATE mc.orders SET amount = 0 WHERE id = 30;
UPDATE mc.customers SET name = 'again' WHERE id = 31;
SELECT * FROM mc.run(:'models');
SELECT * FROM mc.diffs;

-- outside the classes: the plan names the construct
SELECT medallion_create_model('mc_o1', 'SELECT id, rank() OVER (ORDER BY amount) AS r FROM mc.orders', layer => 'gold');
SELECT medallion_create_model('mc_o2',
  'SELECT id, customer_id, status, rank() OVER (PARTITION BY customer_id ORDER BY id) AS r, count(*) OVER (PARTITION BY status) AS n FROM mc.orders',
  layer => 'gold');
SELECT medallion_create_model('mc_o3', 'SELECT id, count(*) OVER (PARTITION BY status) AS n FROM mc.orders', layer => 'gold');
SELECT medallion_create_model('mc_o4',
  'SELECT customer_id, rank() OVER (PARTITION BY sum(amount) ORDER BY customer_id) AS r FROM mc.orders GROUP BY customer_id',
  layer => 'gold');
SELECT medallion_create_model('mc_o5', 'SELECT DISTINCT ON (customer_id) customer_id, amount FROM mc.orders', layer => 'gold');
SELECT medallion_create_model('mc_o6', 'SELECT DISTINCT customer_id, count(*) AS n FROM mc.orders GROUP BY customer_id, status', layer => 'gold');
SELECT medallion_create_model('mc_o7',
  'SELECT DISTINCT customer_id, count(*) OVER (PARTITION BY customer_id) AS n FROM mc.orders', layer => 'gold');
SELECT medallion_create_model('mc_o8',
  'SELECT customer_id, status FROM mc.orders UNION ALL SELECT region_id, name FROM mc.customers', layer => 'gold');
SELECT medallion_create_model('mc_o9',
  'SELECT customer_id FROM mc.orders UNION SELECT region_id FROM mc.customers', layer => 'gold');
SELECT medallion_create_model('mc_o10',
  'SELECT o.id, c.name FROM mc.orders o RIGHT JOIN mc.customers c ON c.id = o.customer_id', layer => 'gold');
SELECT medallion_create_model('mc_o11',
  'SELECT o.id, c.name FROM mc.orders o FULL JOIN mc.customers c ON c.id = o.customer_id', layer => 'gold');
SELECT medallion_create_model('mc_o12',
  'SELECT c.name, count(*) AS n FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id GROUP BY c.name',
  layer => 'gold');
SELECT medallion_create_model('mc_o13',
  'SELECT o.id, c.name FROM mc.orders o LEFT JOIN (mc.customers c JOIN mc.regions r ON r.id = c.region_id) ON c.id = o.customer_id',
  layer => 'gold');
SELECT medallion_create_model('mc_o14',
  'SELECT o.id, r.label FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id JOIN mc.regions r ON r.id = c.region_id',
  layer => 'gold');
SELECT medallion_create_model('mc_o15',
  'SELECT o.id, r.label FROM mc.regions r, mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id WHERE r.id = c.region_id',
  layer => 'gold');
SELECT medallion_create_model('mc_o16',
  'SELECT c.id, o.amount FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id', layer => 'gold');
SELECT medallion_create_model('mc_o17',
  'SELECT DISTINCT c.name FROM mc.orders o LEFT JOIN mc.customers c ON c.id = o.customer_id', layer => 'gold');
SELECT medallion_create_model('mc_o18',
  $$SELECT customer_id, max(status) AS s FROM mc.orders GROUP BY customer_id
    UNION ALL SELECT region_id, name FROM mc.customers GROUP BY region_id, name$$, layer => 'gold');
SELECT medallion_create_model('mc_o19',
  $$SELECT customer_id::bigint AS k, count(*) AS n FROM mc.orders GROUP BY 1
    UNION ALL SELECT region_id, count(*) FROM mc.customers GROUP BY region_id$$, layer => 'gold');
SELECT medallion_create_model('mc_o20',
  $$SELECT customer_id, count(*) AS n FROM mc.orders GROUP BY customer_id
    UNION ALL SELECT id, rank() OVER (ORDER BY id) FROM mc.customers$$, layer => 'gold');
SELECT medallion_create_model('mc_o21',
  $$SELECT customer_id, count(*) AS n FROM mc.orders GROUP BY customer_id
    UNION ALL SELECT status::int, count(*) FROM mc.orders WHERE status ~ '^[0-9]+$' GROUP BY status::int$$, layer => 'gold');
SELECT model, maintain FROM medallion_plan('mc_o1 mc_o2 mc_o3 mc_o4 mc_o5 mc_o6 mc_o7 mc_o8 mc_o9 mc_o10 mc_o11 mc_o12 mc_o13 mc_o14 mc_o15 mc_o16 mc_o17 mc_o18 mc_o19 mc_o20 mc_o21')
 ORDER BY length(model), model;
-- maintain => 'incremental' refuses them with the reason
\set VERBOSITY default
SELECT medallion_create_model('mc_strict',
  'SELECT id, customer_id, status, rank() OVER (PARTITION BY customer_id ORDER BY id) AS r, count(*) OVER (PARTITION BY status) AS n FROM mc.orders',
  layer => 'gold', maintain => 'incremental');
SELECT medallion_create_model('mc_strict',
  'SELECT o.id, c.name FROM mc.orders o FULL JOIN mc.customers c ON c.id = o.customer_id',
  layer => 'gold', maintain => 'incremental');
\set VERBOSITY terse
SELECT count(*) AS strict_models FROM medallion.models WHERE name = 'mc_strict';

DROP VIEW mc.diffs;
SELECT count(*) FROM (SELECT medallion_drop_model(name) FROM medallion.models WHERE name LIKE 'mc\_%') d;
DROP SCHEMA mc CASCADE;
