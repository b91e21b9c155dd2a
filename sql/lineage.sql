--
-- Column lineage, checked against an oracle written by hand from the rules
-- in the README ("Column lineage"):
--   projection  the value is computed from the column
--   filter      WHERE, HAVING, aggregate FILTER, LIMIT/OFFSET (and ORDER BY
--               with them, or with DISTINCT ON), the right side of
--               INTERSECT/EXCEPT, subqueries used as predicates
--   join        JOIN ... ON conditions (and USING/NATURAL columns)
--   group       GROUP BY, DISTINCT ON, a window's PARTITION BY / ORDER BY,
--               an aggregate's ORDER BY
-- Row-level items apply to every output column; a column that is
-- projection is not listed again with another kind.
--
-- lin.check(model, expected) prints only the differences: a passing case
-- prints no rows.  Expected lines are column|schema.relation.column|kind.
--
CREATE SCHEMA lin;
CREATE TABLE lin.customers (id int PRIMARY KEY, name text, country text, created_at date);
CREATE TABLE lin.orders (id int PRIMARY KEY, customer_id int, amount numeric, status text, tags text[]);
CREATE TABLE lin.products (id int, name text, category text);
CREATE VIEW lin.big_orders AS SELECT id, customer_id, amount FROM lin.orders WHERE amount > 100;
CREATE VIEW lin.big_orders_nl AS
  SELECT b.id, b.amount, c.name FROM lin.big_orders b JOIN lin.customers c ON c.id = b.customer_id
   WHERE c.country = 'NL';
SELECT medallion_create_model('lin_m_orders', 'SELECT id, customer_id, amount FROM lin.orders',
  layer => 'silver', materialized => 'view');

CREATE FUNCTION lin.check(m text, expected text) RETURNS SETOF text LANGUAGE sql AS $$
  WITH exp AS (
    SELECT split_part(l, '|', 1) AS col, split_part(l, '|', 2) AS src, split_part(l, '|', 3) AS kind
      FROM regexp_split_to_table(btrim(expected, E' \n'), E'\\s*\\n\\s*') AS l WHERE l <> ''),
  got AS (
    SELECT column_name::text, src_schema || '.' || src_relation || '.' || src_column, kind
      FROM medallion.column_lineage WHERE model = m)
  SELECT * FROM (
    SELECT 'missing: ' || col || '|' || src || '|' || kind FROM (SELECT * FROM exp EXCEPT SELECT * FROM got) a
    UNION ALL
    SELECT 'unexpected: ' || c || '|' || s || '|' || k FROM (SELECT * FROM got EXCEPT SELECT * FROM exp) AS b(c, s, k)
  ) d ORDER BY 1
$$;
-- lin.deps(model): the dependencies, for the cases about views and models
CREATE FUNCTION lin.deps(m text) RETURNS TABLE (dep text, kind text, via text) LANGUAGE sql AS $$
  SELECT dep_schema || '.' || dep_name, kind, via FROM medallion.model_dependencies
   WHERE model = m ORDER BY 1, 3
$$;
-- lin.define(model, sql): define a view model in silver
CREATE FUNCTION lin.define(m text, q text) RETURNS text LANGUAGE sql AS $$
  SELECT medallion_create_model(m, q, layer => 'silver', materialized => 'view')
$$;

-- 1. SELECT * expands to every column
SELECT lin.define('lin_01', 'SELECT * FROM lin.customers');
SELECT * FROM lin.check('lin_01', $$
  id|lin.customers.id|projection
  name|lin.customers.name|projection
  country|lin.customers.country|projection
  created_at|lin.customers.created_at|projection $$);

-- 2. aliases and expressions
SELECT lin.define('lin_02', $q$SELECT id AS cid, upper(name) || ' ' || country AS label FROM lin.customers$q$);
SELECT * FROM lin.check('lin_02', $$
  cid|lin.customers.id|projection
  label|lin.customers.name|projection
  label|lin.customers.country|projection $$);

-- 3. WHERE filters every output column
SELECT lin.define('lin_03', $q$SELECT id, name FROM lin.customers WHERE country = 'NL'$q$);
SELECT * FROM lin.check('lin_03', $$
  id|lin.customers.id|projection
  id|lin.customers.country|filter
  name|lin.customers.name|projection
  name|lin.customers.country|filter $$);

-- 4. CASE: conditions and results both flow into the value
SELECT lin.define('lin_04', $q$SELECT id, CASE WHEN amount > 100 THEN 'big' ELSE status END AS size FROM lin.orders$q$);
SELECT * FROM lin.check('lin_04', $$
  id|lin.orders.id|projection
  size|lin.orders.amount|projection
  size|lin.orders.status|projection $$);

-- 5. aggregate, GROUP BY, HAVING (count(*) reads no column)
SELECT lin.define('lin_05', 'SELECT customer_id, sum(amount) AS total FROM lin.orders GROUP BY customer_id HAVING count(*) > 1');
SELECT * FROM lin.check('lin_05', $$
  customer_id|lin.orders.customer_id|projection
  total|lin.orders.amount|projection
  total|lin.orders.customer_id|group $$);

-- 6. count(*) alone: only what filters it
SELECT lin.define('lin_06', $q$SELECT count(*) AS n FROM lin.orders WHERE status = 'ok'$q$);
SELECT * FROM lin.check('lin_06', $$
  n|lin.orders.status|filter $$);

-- 7. an aggregate's FILTER and ORDER BY concern only its column
SELECT lin.define('lin_07', $q$SELECT customer_id, sum(amount) FILTER (WHERE status = 'ok') AS ok_total,
  string_agg(status, ',' ORDER BY id) AS statuses FROM lin.orders GROUP BY customer_id$q$);
SELECT * FROM lin.check('lin_07', $$
  customer_id|lin.orders.customer_id|projection
  ok_total|lin.orders.amount|projection
  ok_total|lin.orders.status|filter
  ok_total|lin.orders.customer_id|group
  statuses|lin.orders.status|projection
  statuses|lin.orders.id|group
  statuses|lin.orders.customer_id|group $$);

-- 8. window functions: PARTITION BY and ORDER BY of each window, for its column only
SELECT lin.define('lin_08', 'SELECT id, rank() OVER (PARTITION BY customer_id ORDER BY amount DESC) AS rnk,
  sum(amount) OVER (PARTITION BY status) AS status_total FROM lin.orders');
SELECT * FROM lin.check('lin_08', $$
  id|lin.orders.id|projection
  rnk|lin.orders.customer_id|group
  rnk|lin.orders.amount|group
  status_total|lin.orders.amount|projection
  status_total|lin.orders.status|group $$);

-- 9. chained CTEs: their filters carry up to the columns of the query reading them
SELECT lin.define('lin_09', $q$WITH nl AS (SELECT id, name FROM lin.customers WHERE country = 'NL'),
  o AS (SELECT customer_id, amount FROM lin.orders)
  SELECT nl.name, o.amount FROM nl JOIN o ON o.customer_id = nl.id$q$);
SELECT * FROM lin.check('lin_09', $$
  name|lin.customers.name|projection
  name|lin.customers.country|filter
  name|lin.customers.id|join
  name|lin.orders.customer_id|join
  amount|lin.orders.amount|projection
  amount|lin.customers.country|filter
  amount|lin.customers.id|join
  amount|lin.orders.customer_id|join $$);

-- 10. recursive CTE: the constant base of n derives from nothing
SELECT lin.define('lin_10', $q$WITH RECURSIVE r(n, cid) AS (
  SELECT 1, id FROM lin.customers WHERE country = 'NL'
  UNION ALL SELECT n + 1, cid FROM r WHERE n < 3) SELECT n, cid FROM r$q$);
SELECT * FROM lin.check('lin_10', $$
  n|lin.customers.country|filter
  cid|lin.customers.id|projection
  cid|lin.customers.country|filter $$);

-- 11. subquery in FROM; an outer WHERE on an aggregate of it
SELECT lin.define('lin_11', $q$SELECT s.cid, s.total FROM (SELECT customer_id AS cid, sum(amount) AS total
  FROM lin.orders WHERE status = 'ok' GROUP BY customer_id) s WHERE s.total > 10$q$);
SELECT * FROM lin.check('lin_11', $$
  cid|lin.orders.customer_id|projection
  cid|lin.orders.status|filter
  cid|lin.orders.amount|filter
  total|lin.orders.amount|projection
  total|lin.orders.customer_id|group
  total|lin.orders.status|filter $$);

-- 12. IN (subquery) in WHERE: all of it filters
SELECT lin.define('lin_12', $q$SELECT name FROM lin.customers WHERE id IN (SELECT customer_id FROM lin.orders WHERE status = 'ok')$q$);
SELECT * FROM lin.check('lin_12', $$
  name|lin.customers.name|projection
  name|lin.customers.id|filter
  name|lin.orders.customer_id|filter
  name|lin.orders.status|filter $$);

-- 13. correlated EXISTS
SELECT lin.define('lin_13', 'SELECT c.id FROM lin.customers c WHERE EXISTS
  (SELECT 1 FROM lin.orders o WHERE o.customer_id = c.id AND o.amount > 5)');
SELECT * FROM lin.check('lin_13', $$
  id|lin.customers.id|projection
  id|lin.orders.customer_id|filter
  id|lin.orders.amount|filter $$);

-- 14. NOT EXISTS
SELECT lin.define('lin_14', 'SELECT c.name FROM lin.customers c WHERE NOT EXISTS
  (SELECT 1 FROM lin.orders o WHERE o.customer_id = c.id)');
SELECT * FROM lin.check('lin_14', $$
  name|lin.customers.name|projection
  name|lin.customers.id|filter
  name|lin.orders.customer_id|filter $$);

-- 15. scalar subquery in the SELECT list
SELECT lin.define('lin_15', 'SELECT c.id, (SELECT max(o.amount) FROM lin.orders o WHERE o.customer_id = c.id) AS max_amount
  FROM lin.customers c');
SELECT * FROM lin.check('lin_15', $$
  id|lin.customers.id|projection
  max_amount|lin.orders.amount|projection
  max_amount|lin.orders.customer_id|filter
  max_amount|lin.customers.id|filter $$);

-- 16. x IN (subquery) as a value: both sides flow
SELECT lin.define('lin_16', 'SELECT c.id, c.id IN (SELECT customer_id FROM lin.orders) AS has_orders FROM lin.customers c');
SELECT * FROM lin.check('lin_16', $$
  id|lin.customers.id|projection
  has_orders|lin.customers.id|projection
  has_orders|lin.orders.customer_id|projection $$);

-- 17. EXISTS as a value: what its WHERE reads keeps its kind
SELECT lin.define('lin_17', 'SELECT c.id, EXISTS (SELECT 1 FROM lin.orders o WHERE o.customer_id = c.id) AS has_orders
  FROM lin.customers c');
SELECT * FROM lin.check('lin_17', $$
  id|lin.customers.id|projection
  has_orders|lin.orders.customer_id|filter
  has_orders|lin.customers.id|filter $$);

-- 18. UNION: column i from column i of every branch
SELECT lin.define('lin_18', 'SELECT id, name FROM lin.customers UNION SELECT id, name FROM lin.products');
SELECT * FROM lin.check('lin_18', $$
  id|lin.customers.id|projection
  id|lin.products.id|projection
  name|lin.customers.name|projection
  name|lin.products.name|projection $$);

-- 19. UNION ALL with a filtered branch
SELECT lin.define('lin_19', $q$SELECT id FROM lin.customers WHERE country = 'NL' UNION ALL SELECT customer_id FROM lin.orders$q$);
SELECT * FROM lin.check('lin_19', $$
  id|lin.customers.id|projection
  id|lin.orders.customer_id|projection
  id|lin.customers.country|filter $$);

-- 20. INTERSECT: the right side only decides which rows stay
SELECT lin.define('lin_20', 'SELECT id FROM lin.customers INTERSECT SELECT customer_id FROM lin.orders');
SELECT * FROM lin.check('lin_20', $$
  id|lin.customers.id|projection
  id|lin.orders.customer_id|filter $$);

-- 21. EXCEPT compares whole rows: every right column filters every column
SELECT lin.define('lin_21', 'SELECT id, name FROM lin.customers EXCEPT SELECT id, name FROM lin.products');
SELECT * FROM lin.check('lin_21', $$
  id|lin.customers.id|projection
  id|lin.products.id|filter
  id|lin.products.name|filter
  name|lin.customers.name|projection
  name|lin.products.id|filter
  name|lin.products.name|filter $$);

-- 22. LATERAL subquery: its outer reference resolves to the outer table
SELECT lin.define('lin_22', 'SELECT c.id, l.total FROM lin.customers c
  CROSS JOIN LATERAL (SELECT sum(o.amount) AS total FROM lin.orders o WHERE o.customer_id = c.id) l');
SELECT * FROM lin.check('lin_22', $$
  id|lin.customers.id|projection
  id|lin.orders.customer_id|filter
  total|lin.orders.amount|projection
  total|lin.orders.customer_id|filter
  total|lin.customers.id|filter $$);

-- 23. a set-returning function over a column (LATERAL)
SELECT lin.define('lin_23', 'SELECT o.id, t.tag FROM lin.orders o, unnest(o.tags) AS t(tag)');
SELECT * FROM lin.check('lin_23', $$
  id|lin.orders.id|projection
  tag|lin.orders.tags|projection $$);

-- 24. a set-returning function of constants derives from nothing
SELECT lin.define('lin_24', 'SELECT g AS n FROM generate_series(1, 10) g');
SELECT * FROM lin.check('lin_24', '');

-- 25. INNER JOIN ... ON
SELECT lin.define('lin_25', 'SELECT c.name, o.amount FROM lin.customers c JOIN lin.orders o ON o.customer_id = c.id');
SELECT * FROM lin.check('lin_25', $$
  name|lin.customers.name|projection
  name|lin.customers.id|join
  name|lin.orders.customer_id|join
  amount|lin.orders.amount|projection
  amount|lin.customers.id|join
  amount|lin.orders.customer_id|join $$);

-- 26. LEFT JOIN with a condition on the right table: it is a join condition
SELECT lin.define('lin_26', $q$SELECT c.name, o.amount FROM lin.customers c
  LEFT JOIN lin.orders o ON o.customer_id = c.id AND o.status = 'ok'$q$);
SELECT * FROM lin.check('lin_26', $$
  name|lin.customers.name|projection
  name|lin.customers.id|join
  name|lin.orders.customer_id|join
  name|lin.orders.status|join
  amount|lin.orders.amount|projection
  amount|lin.customers.id|join
  amount|lin.orders.customer_id|join
  amount|lin.orders.status|join $$);

-- 27. RIGHT JOIN USING: the merged column is the right side's
SELECT lin.define('lin_27', 'SELECT id, p.name FROM lin.customers c RIGHT JOIN lin.products p USING (id)');
SELECT * FROM lin.check('lin_27', $$
  id|lin.products.id|projection
  id|lin.customers.id|join
  name|lin.products.name|projection
  name|lin.customers.id|join
  name|lin.products.id|join $$);

-- 28. FULL JOIN USING: the merged column is COALESCE of both
SELECT lin.define('lin_28', 'SELECT id FROM lin.customers FULL JOIN lin.products USING (id)');
SELECT * FROM lin.check('lin_28', $$
  id|lin.customers.id|projection
  id|lin.products.id|projection $$);

-- 29. NATURAL JOIN on id and name, SELECT *
SELECT lin.define('lin_29', 'SELECT * FROM lin.customers NATURAL JOIN lin.products');
SELECT * FROM lin.check('lin_29', $$
  id|lin.customers.id|projection
  id|lin.products.id|join
  id|lin.customers.name|join
  id|lin.products.name|join
  name|lin.customers.name|projection
  name|lin.products.name|join
  name|lin.customers.id|join
  name|lin.products.id|join
  country|lin.customers.country|projection
  country|lin.customers.id|join
  country|lin.products.id|join
  country|lin.customers.name|join
  country|lin.products.name|join
  created_at|lin.customers.created_at|projection
  created_at|lin.customers.id|join
  created_at|lin.products.id|join
  created_at|lin.customers.name|join
  created_at|lin.products.name|join
  category|lin.products.category|projection
  category|lin.customers.id|join
  category|lin.products.id|join
  category|lin.customers.name|join
  category|lin.products.name|join $$);

-- 30. comma join with a WHERE on one side
SELECT lin.define('lin_30', $q$SELECT c.id, p.id AS pid FROM lin.customers c, lin.products p WHERE p.category = 'x'$q$);
SELECT * FROM lin.check('lin_30', $$
  id|lin.customers.id|projection
  id|lin.products.category|filter
  pid|lin.products.id|projection
  pid|lin.products.category|filter $$);

-- 31. VALUES alone derives from nothing
SELECT lin.define('lin_31', $q$SELECT v.code, v.label FROM (VALUES (1, 'a'), (2, 'b')) AS v(code, label)$q$);
SELECT * FROM lin.check('lin_31', '');

-- 32. VALUES joined to a table
SELECT lin.define('lin_32', $q$SELECT c.name, v.label FROM lin.customers c
  JOIN (VALUES ('NL', 'Netherlands')) AS v(code, label) ON v.code = c.country$q$);
SELECT * FROM lin.check('lin_32', $$
  name|lin.customers.name|projection
  name|lin.customers.country|join
  label|lin.customers.country|join $$);

-- 33. DISTINCT ON: the key groups, and the ORDER BY picks the row kept
SELECT lin.define('lin_33', 'SELECT DISTINCT ON (customer_id) customer_id, amount FROM lin.orders
  ORDER BY customer_id, amount DESC');
SELECT * FROM lin.check('lin_33', $$
  customer_id|lin.orders.customer_id|projection
  customer_id|lin.orders.amount|filter
  amount|lin.orders.amount|projection
  amount|lin.orders.customer_id|group
  amount|lin.orders.customer_id|filter $$);

-- 34. ORDER BY with LIMIT decides which rows there are
SELECT lin.define('lin_34', 'SELECT name FROM lin.customers ORDER BY created_at DESC LIMIT 5');
SELECT * FROM lin.check('lin_34', $$
  name|lin.customers.name|projection
  name|lin.customers.created_at|filter $$);

-- 35. ORDER BY without LIMIT does not
SELECT lin.define('lin_35', 'SELECT name FROM lin.customers ORDER BY created_at');
SELECT * FROM lin.check('lin_35', $$
  name|lin.customers.name|projection $$);

-- 36. a whole-row reference reads every column
SELECT lin.define('lin_36', 'SELECT row_to_json(c) AS doc FROM lin.customers c');
SELECT * FROM lin.check('lin_36', $$
  doc|lin.customers.id|projection
  doc|lin.customers.name|projection
  doc|lin.customers.country|projection
  doc|lin.customers.created_at|projection $$);

-- 37. a plain view is read through to its table, and recorded
SELECT lin.define('lin_37', 'SELECT id, amount FROM lin.big_orders');
SELECT * FROM lin.check('lin_37', $$
  id|lin.orders.id|projection
  id|lin.orders.amount|filter
  amount|lin.orders.amount|projection $$);
SELECT * FROM lin.deps('lin_37');

-- 38. nested plain views: the join and filters of both carry up
SELECT lin.define('lin_38', 'SELECT name, amount FROM lin.big_orders_nl');
SELECT * FROM lin.check('lin_38', $$
  name|lin.customers.name|projection
  name|lin.customers.id|join
  name|lin.orders.customer_id|join
  name|lin.customers.country|filter
  name|lin.orders.amount|filter
  amount|lin.orders.amount|projection
  amount|lin.customers.id|join
  amount|lin.orders.customer_id|join
  amount|lin.customers.country|filter $$);
SELECT * FROM lin.deps('lin_38');

-- 39. a model is not read through: lineage stops at its columns
SELECT lin.define('lin_39', 'SELECT customer_id, sum(amount) AS total FROM lin_m_orders GROUP BY 1');
SELECT * FROM lin.check('lin_39', $$
  customer_id|silver.lin_m_orders.customer_id|projection
  total|silver.lin_m_orders.amount|projection
  total|silver.lin_m_orders.customer_id|group $$);
SELECT * FROM lin.deps('lin_39');

-- 40. ROLLUP: every grouping column groups every column
SELECT lin.define('lin_40', 'SELECT country, created_at, count(*) AS n FROM lin.customers GROUP BY ROLLUP (country, created_at)');
SELECT * FROM lin.check('lin_40', $$
  country|lin.customers.country|projection
  country|lin.customers.created_at|group
  created_at|lin.customers.created_at|projection
  created_at|lin.customers.country|group
  n|lin.customers.country|group
  n|lin.customers.created_at|group $$);

-- 41. a column that is projected and filtered is listed once, as projection
SELECT lin.define('lin_41', 'SELECT amount FROM lin.orders WHERE amount > 0');
SELECT * FROM lin.check('lin_41', $$
  amount|lin.orders.amount|projection $$);

-- 42. self-join: both sides are the same columns
SELECT lin.define('lin_42', 'SELECT a.id, b.id AS other FROM lin.orders a JOIN lin.orders b
  ON a.customer_id = b.customer_id AND a.id < b.id');
SELECT * FROM lin.check('lin_42', $$
  id|lin.orders.id|projection
  id|lin.orders.customer_id|join
  other|lin.orders.id|projection
  other|lin.orders.customer_id|join $$);

-- 43. ORDER BY ... LIMIT over a set operation picks rows of every branch:
--     each branch's sort column filters every output column
SELECT lin.define('lin_43', 'SELECT id AS a, name AS b FROM lin.customers
  UNION ALL SELECT id, category FROM lin.products ORDER BY b DESC LIMIT 5');
SELECT * FROM lin.check('lin_43', $$
  a|lin.customers.id|projection
  a|lin.products.id|projection
  a|lin.customers.name|filter
  a|lin.products.category|filter
  b|lin.customers.name|projection
  b|lin.products.category|projection $$);

-- 44. de-duplication with row_number(): the outer WHERE decides which rows
--     exist, so the partition and order columns filter every column
SELECT lin.define('lin_44', 'SELECT q.id, q.name FROM (SELECT id, name, row_number() OVER
  (PARTITION BY country ORDER BY created_at DESC) AS rn FROM lin.customers) q WHERE rn = 1');
SELECT * FROM lin.check('lin_44', $$
  id|lin.customers.id|projection
  id|lin.customers.country|filter
  id|lin.customers.created_at|filter
  name|lin.customers.name|projection
  name|lin.customers.country|filter
  name|lin.customers.created_at|filter $$);

-- every case above defined a model
SELECT count(*) AS cases FROM medallion.models WHERE name ~ '^lin_[0-9]+$';

SELECT * FROM medallion_drop_model('lin_m_orders', cascade => true);
SELECT count(*) FROM (SELECT medallion_drop_model(name) FROM medallion.models WHERE name ~ '^lin_[0-9]+$') d;
DROP SCHEMA lin CASCADE;
