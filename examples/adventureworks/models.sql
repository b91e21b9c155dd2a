--
-- examples/adventureworks/models.sql: the AdventureWorks sales pipeline as a
-- user writes it with medallion, over the source from generate.sql.
--
--   psql -f examples/adventureworks/sources.sql   (or docker/initdb: through tds_fdw)
--   psql -f examples/adventureworks/models.sql
--   SELECT * FROM medallion_run('gold');
--
-- Two sets over the same bronze layer: the medallion set (bronze views,
-- silver tables, gold tables) and the star-schema set (a date dimension,
-- customer and product dimensions as SCD type 2 snapshots, an incremental
-- fact table).  Tests gate what is published.
--
SET client_min_messages = warning;

-- ---------------------------------------------------------------------
-- Bronze: views with snake_case columns and types for PostgreSQL, invalid
-- records filtered
-- ---------------------------------------------------------------------
SELECT medallion_create_model('brnz_sales_orders', $$
SELECT h."SalesOrderID" AS sales_order_id,
       d."SalesOrderDetailID" AS sales_order_detail_id,
       h."SalesOrderNumber" AS sales_order_number,
       h."OrderDate"::date AS order_date,
       h."DueDate"::date AS due_date,
       h."ShipDate"::date AS ship_date,
       h."OnlineOrderFlag" AS online,
       h."CustomerID" AS customer_id,
       h."TerritoryID" AS territory_id,
       d."ProductID" AS product_id,
       d."OrderQty"::int AS order_qty,
       d."UnitPrice"::numeric(19,4) AS unit_price,
       d."UnitPriceDiscount"::numeric(19,4) AS unit_price_discount,
       d."LineTotal"::numeric(19,4) AS line_total,
       greatest(h."ModifiedDate", d."ModifiedDate") AS modified_at
  FROM "Sales"."SalesOrderHeader" h
  JOIN "Sales"."SalesOrderDetail" d ON d."SalesOrderID" = h."SalesOrderID"
 WHERE d."OrderQty" > 0 AND d."UnitPrice" >= 0 AND h."Status" <> 6
$$, layer => 'bronze', description => 'Order lines: the header joined to each detail line');

SELECT medallion_create_model('brnz_customers', $$
SELECT c."CustomerID" AS customer_id,
       c."PersonID" AS person_id,
       c."StoreID" AS store_id,
       c."TerritoryID" AS territory_id,
       c."AccountNumber" AS account_number,
       p."FirstName" AS first_name,
       p."LastName" AS last_name,
       coalesce(p."FirstName" || ' ' || p."LastName", 'Store ' || c."StoreID") AS customer_name,
       c."PersonID" IS NULL AS is_store,
       coalesce(p."EmailPromotion", 0) AS email_promotion
  FROM "Sales"."Customer" c
  LEFT JOIN "Person"."Person" p ON p."BusinessEntityID" = c."PersonID"
 WHERE c."AccountNumber" IS NOT NULL
$$, layer => 'bronze', description => 'Customers with the person behind each (stores have none)');

SELECT medallion_create_model('brnz_products', $$
SELECT p."ProductID" AS product_id,
       p."Name" AS product_name,
       p."ProductNumber" AS product_number,
       p."Color" AS color,
       p."StandardCost" AS standard_cost,
       p."ListPrice" AS list_price,
       p."Weight" AS weight,
       coalesce(s."Name", 'No subcategory') AS subcategory,
       coalesce(c."Name", 'Uncategorized') AS category,
       p."SellStartDate"::date AS sell_start_date
  FROM "Production"."Product" p
  LEFT JOIN "Production"."ProductSubcategory" s ON s."ProductSubcategoryID" = p."ProductSubcategoryID"
  LEFT JOIN "Production"."ProductCategory" c ON c."ProductCategoryID" = s."ProductCategoryID"
 WHERE p."ListPrice" >= 0
$$, layer => 'bronze', description => 'Products with their subcategory and category');

-- ---------------------------------------------------------------------
-- Silver: tables, cleaned and enriched
-- ---------------------------------------------------------------------
SELECT medallion_create_model('slvr_sales_orders', $$
SELECT o.sales_order_id, o.sales_order_detail_id, o.order_date, o.ship_date, o.online,
       o.customer_id, o.territory_id, o.product_id, o.order_qty, o.unit_price, o.unit_price_discount,
       o.line_total,
       round(o.order_qty * p.standard_cost, 4) AS line_cost,
       o.line_total - round(o.order_qty * p.standard_cost, 4) AS line_profit,
       extract(year FROM o.order_date)::int AS order_year,
       extract(quarter FROM o.order_date)::int AS order_quarter,
       extract(month FROM o.order_date)::int AS order_month,
       extract(isodow FROM o.order_date)::int AS order_day_of_week,
       CASE WHEN o.line_total < 100 THEN 'small' WHEN o.line_total < 1000 THEN 'medium' ELSE 'large' END
         AS order_value_tier,
       o.ship_date - o.order_date AS shipping_days,
       o.modified_at
  FROM brnz_sales_orders o
  JOIN brnz_products p USING (product_id)
$$, layer => 'silver', indexes => ARRAY['customer_id', 'product_id', 'order_date'],
  description => 'Order lines with time intelligence, value tier, shipping days, cost and profit');

SELECT medallion_create_model('slvr_customers', $$
WITH orders AS (
  SELECT customer_id, min(order_date) AS first_order_date, max(order_date) AS last_order_date,
         count(DISTINCT sales_order_id) AS orders, sum(line_total) AS lifetime_value
    FROM slvr_sales_orders GROUP BY customer_id),
as_of AS (SELECT max(order_date) AS day FROM slvr_sales_orders),
scored AS (
  SELECT c.customer_id, c.customer_name, c.is_store, c.territory_id, o.first_order_date, o.last_order_date,
         coalesce(o.orders, 0) AS orders, coalesce(o.lifetime_value, 0) AS lifetime_value,
         (SELECT day FROM as_of) - o.last_order_date AS recency_days,
         CASE WHEN o.orders IS NOT NULL THEN ntile(5) OVER (PARTITION BY o.orders IS NOT NULL ORDER BY o.last_order_date, c.customer_id) END AS r_score,
         CASE WHEN o.orders IS NOT NULL THEN ntile(5) OVER (PARTITION BY o.orders IS NOT NULL ORDER BY o.orders, c.customer_id) END AS f_score,
         CASE WHEN o.orders IS NOT NULL THEN ntile(5) OVER (PARTITION BY o.orders IS NOT NULL ORDER BY o.lifetime_value, c.customer_id) END AS m_score
    FROM brnz_customers c LEFT JOIN orders o USING (customer_id))
SELECT customer_id, customer_name, is_store, territory_id, first_order_date, last_order_date, orders,
       lifetime_value, recency_days, r_score, f_score, m_score,
       CASE WHEN orders = 0 THEN 'prospect'
            WHEN r_score >= 4 AND f_score >= 4 THEN 'champion'
            WHEN r_score >= 3 AND f_score >= 3 THEN 'loyal'
            WHEN r_score >= 4 THEN 'new'
            WHEN r_score <= 2 AND f_score >= 3 THEN 'at_risk'
            ELSE 'hibernating' END AS rfm_segment,
       CASE WHEN orders = 0 THEN 'prospect'
            WHEN recency_days <= 90 THEN 'active'
            WHEN recency_days <= 365 THEN 'lapsing'
            ELSE 'churned' END AS lifecycle_stage
  FROM scored
$$, layer => 'silver', indexes => ARRAY['customer_id'],
  description => 'Customers with RFM scores and segment, lifetime value, first and last order, lifecycle stage');

SELECT medallion_create_model('slvr_products', $$
SELECT p.product_id, p.product_name, p.category, p.subcategory, p.color, p.list_price, p.standard_cost,
       coalesce(sum(o.order_qty), 0)::bigint AS units_sold,
       coalesce(sum(o.line_total), 0) AS revenue,
       coalesce(sum(o.line_cost), 0) AS cost,
       coalesce(sum(o.line_profit), 0) AS profit,
       CASE WHEN sum(o.line_total) > 0 THEN round(sum(o.line_profit) / sum(o.line_total), 4) END AS margin,
       count(o.sales_order_detail_id) > 0 AS ever_sold
  FROM brnz_products p
  LEFT JOIN slvr_sales_orders o USING (product_id)
 GROUP BY p.product_id, p.product_name, p.category, p.subcategory, p.color, p.list_price, p.standard_cost
$$, layer => 'silver', indexes => ARRAY['product_id'],
  description => 'Products with sales, cost, profit and margin');

-- ---------------------------------------------------------------------
-- Gold: what BI reads
-- ---------------------------------------------------------------------
SELECT medallion_create_model('gld_sales_summary', $$
WITH days AS (
  SELECT order_date, count(DISTINCT sales_order_id) AS orders, sum(line_total) AS revenue
    FROM slvr_sales_orders GROUP BY order_date)
SELECT d.order_date, d.orders, d.revenue,
       round(d.revenue / d.orders, 4) AS avg_order_value,
       round(avg(d.revenue) OVER (ORDER BY d.order_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW), 4) AS revenue_ma_7d,
       round(avg(d.revenue) OVER (ORDER BY d.order_date ROWS BETWEEN 29 PRECEDING AND CURRENT ROW), 4) AS revenue_ma_30d,
       sum(d.revenue) OVER (PARTITION BY extract(year FROM d.order_date) ORDER BY d.order_date) AS revenue_ytd,
       ly.revenue AS revenue_same_day_last_year
  FROM days d
  LEFT JOIN days ly ON ly.order_date = (d.order_date - interval '1 year')::date
$$, layer => 'gold', indexes => ARRAY['order_date'],
  description => 'One row per order date: orders, revenue, average order value, moving averages, YTD, last year');

SELECT medallion_create_model('gld_customer_metrics', $$
SELECT customer_id, customer_name, is_store, territory_id, first_order_date, last_order_date, orders,
       lifetime_value, recency_days, rfm_segment, lifecycle_stage,
       CASE WHEN orders = 0 THEN 'none'
            WHEN recency_days > 365 THEN 'high'
            WHEN recency_days > 180 THEN 'medium'
            ELSE 'low' END AS churn_risk,
       CASE WHEN lifetime_value >= 10000 THEN 'platinum'
            WHEN lifetime_value >= 5000 THEN 'gold'
            WHEN lifetime_value >= 1000 THEN 'silver'
            ELSE 'bronze' END AS clv_tier
  FROM slvr_customers
$$, layer => 'gold', indexes => ARRAY['customer_id'],
  description => 'Customer 360: orders, value, segment, churn risk from recency, CLV tier');

SELECT medallion_create_model('gld_product_performance', $$
SELECT product_id, product_name, category, subcategory, units_sold, revenue, cost, profit, margin,
       rank() OVER (PARTITION BY category ORDER BY revenue DESC, product_id) AS rank_in_category,
       CASE WHEN revenue > 0 THEN round(revenue / sum(revenue) OVER (PARTITION BY category), 6) END AS share_of_category
  FROM slvr_products
 WHERE ever_sold
$$, layer => 'gold', description => 'Sold products: KPIs and rank within their category');

-- ---------------------------------------------------------------------
-- Star schema: dimensions (customers and products as SCD type 2
-- snapshots) and an incremental fact table
-- ---------------------------------------------------------------------
SELECT medallion_create_model('dim_date', $$
SELECT d::date AS date_key, extract(year FROM d)::int AS year, extract(quarter FROM d)::int AS quarter,
       extract(month FROM d)::int AS month, to_char(d, 'Month') AS month_name,
       extract(isodow FROM d)::int AS day_of_week, extract(isodow FROM d) IN (6, 7) AS is_weekend
  FROM generate_series(date '2011-01-01', date '2014-12-31', interval '1 day') d
$$, layer => 'gold', description => 'Calendar from 2011 to 2014');

SELECT medallion_create_model('dim_customers', $$
SELECT customer_id, customer_name, is_store, territory_id, email_promotion FROM brnz_customers
$$, layer => 'gold', materialized => 'snapshot', unique_key => ARRAY['customer_id'],
  snapshot_strategy => 'check', check_columns => ARRAY['customer_name', 'territory_id', 'email_promotion'],
  description => 'Customers, a version per change (SCD type 2)');

SELECT medallion_create_model('dim_products', $$
SELECT product_id, product_name, category, subcategory, color, list_price, standard_cost FROM brnz_products
$$, layer => 'gold', materialized => 'snapshot', unique_key => ARRAY['product_id'],
  snapshot_strategy => 'check', check_columns => ARRAY['product_name', 'category', 'subcategory', 'list_price', 'standard_cost'],
  description => 'Products, a version per change (SCD type 2)');

SELECT medallion_create_model('fact_order_items', $$
SELECT sales_order_detail_id, sales_order_id, order_date AS date_key, customer_id, product_id,
       order_qty, unit_price, unit_price_discount, line_total, modified_at
  FROM brnz_sales_orders
$$, layer => 'gold', materialized => 'incremental', unique_key => ARRAY['sales_order_detail_id'],
  watermark => 'modified_at', lookback => '1 day', indexes => ARRAY['customer_id', 'product_id', 'date_key'],
  description => 'One row per order line; merged on the line key past the modified date');

-- ---------------------------------------------------------------------
-- Tests
-- ---------------------------------------------------------------------
-- keys: unique and not null
SELECT medallion_add_test(m, 'unique', column_name => k), medallion_add_test(m, 'not_null', column_name => k)
  FROM (VALUES ('slvr_sales_orders', 'sales_order_detail_id'), ('slvr_customers', 'customer_id'),
               ('slvr_products', 'product_id'), ('gld_sales_summary', 'order_date'),
               ('gld_customer_metrics', 'customer_id'), ('gld_product_performance', 'product_id'),
               ('dim_date', 'date_key'), ('fact_order_items', 'sales_order_detail_id')) t(m, k);
-- required columns
SELECT medallion_add_test(m, 'not_null', column_name => c)
  FROM (VALUES ('slvr_sales_orders', 'sales_order_id'), ('slvr_sales_orders', 'order_date'),
               ('slvr_sales_orders', 'customer_id'), ('slvr_sales_orders', 'product_id'),
               ('slvr_sales_orders', 'line_total'), ('slvr_sales_orders', 'order_value_tier'),
               ('slvr_customers', 'customer_name'), ('slvr_customers', 'rfm_segment'),
               ('slvr_customers', 'lifecycle_stage'), ('slvr_products', 'category'),
               ('gld_sales_summary', 'revenue'), ('gld_customer_metrics', 'churn_risk'),
               ('gld_customer_metrics', 'clv_tier'), ('gld_product_performance', 'rank_in_category'),
               ('dim_customers', 'customer_id'), ('dim_products', 'product_id'),
               ('fact_order_items', 'date_key'), ('fact_order_items', 'customer_id'),
               ('fact_order_items', 'product_id')) t(m, c);
-- accepted values of segments and tiers
SELECT medallion_add_test('slvr_sales_orders', 'accepted_values', column_name => 'order_value_tier',
  accepted => ARRAY['small', 'medium', 'large']);
SELECT medallion_add_test('slvr_sales_orders', 'accepted_values', column_name => 'order_quarter',
  accepted => ARRAY['1', '2', '3', '4']);
SELECT medallion_add_test('slvr_customers', 'accepted_values', column_name => 'rfm_segment',
  accepted => ARRAY['prospect', 'champion', 'loyal', 'new', 'at_risk', 'hibernating']);
SELECT medallion_add_test('slvr_customers', 'accepted_values', column_name => 'lifecycle_stage',
  accepted => ARRAY['prospect', 'active', 'lapsing', 'churned']);
SELECT medallion_add_test('gld_customer_metrics', 'accepted_values', column_name => 'churn_risk',
  accepted => ARRAY['none', 'low', 'medium', 'high']);
SELECT medallion_add_test('gld_customer_metrics', 'accepted_values', column_name => 'clv_tier',
  accepted => ARRAY['bronze', 'silver', 'gold', 'platinum']);
SELECT medallion_add_test('gld_product_performance', 'accepted_values', column_name => 'category',
  accepted => ARRAY['Bikes', 'Components', 'Clothing', 'Accessories']);
SELECT medallion_add_test('slvr_products', 'accepted_values', column_name => 'category',
  accepted => ARRAY['Bikes', 'Components', 'Clothing', 'Accessories', 'Uncategorized']);
-- relationships: order lines to customers and products, fact to dimensions
SELECT medallion_add_test('slvr_sales_orders', 'relationships', column_name => 'customer_id',
  to_model => 'brnz_customers', to_column => 'customer_id');
SELECT medallion_add_test('slvr_sales_orders', 'relationships', column_name => 'product_id',
  to_model => 'brnz_products', to_column => 'product_id');
SELECT medallion_add_test('gld_customer_metrics', 'relationships', column_name => 'customer_id',
  to_model => 'dim_customers', to_column => 'customer_id');
SELECT medallion_add_test('fact_order_items', 'relationships', column_name => 'customer_id',
  to_model => 'dim_customers', to_column => 'customer_id');
SELECT medallion_add_test('fact_order_items', 'relationships', column_name => 'product_id',
  to_model => 'dim_products', to_column => 'product_id');
SELECT medallion_add_test('fact_order_items', 'relationships', column_name => 'date_key',
  to_model => 'dim_date', to_column => 'date_key');
-- expressions
SELECT medallion_add_test(m, 'expression', expression => e)
  FROM (VALUES ('slvr_sales_orders', 'line_total >= 0'), ('slvr_sales_orders', 'order_qty > 0'),
               ('slvr_sales_orders', 'unit_price_discount BETWEEN 0 AND 1'),
               ('slvr_sales_orders', 'shipping_days >= 0'),
               ('slvr_sales_orders', 'order_day_of_week BETWEEN 1 AND 7'),
               ('slvr_customers', 'lifetime_value >= 0'), ('slvr_customers', 'orders >= 0'),
               ('slvr_customers', 'first_order_date <= last_order_date'),
               ('slvr_products', 'revenue >= 0'), ('slvr_products', 'units_sold >= 0'),
               ('slvr_products', 'margin IS NULL OR margin <= 1'),
               ('gld_sales_summary', 'revenue >= 0'), ('gld_sales_summary', 'orders > 0'),
               ('gld_sales_summary', 'revenue_ytd >= revenue'),
               ('gld_product_performance', 'rank_in_category >= 1'),
               ('gld_customer_metrics', 'lifetime_value >= 0'),
               ('fact_order_items', 'line_total >= 0'),
               ('dim_date', 'day_of_week BETWEEN 1 AND 7')) t(m, e);
-- row counts
SELECT medallion_add_test('dim_date', 'row_count', min_rows => 1461, max_rows => 1461);
SELECT medallion_add_test('gld_product_performance', 'row_count', min_rows => 1, max_rows => 504);
SELECT medallion_add_test('slvr_products', 'row_count', min_rows => 1);
SELECT medallion_add_test('gld_sales_summary', 'row_count', min_rows => 1, max_rows => 1461);
-- freshness: a warning, not a gate.  The generated data is a snapshot that
-- ends in 2014, so its age counts from when it was registered: fresh at
-- first, it warns once no new order came in for 2 days after that.
SELECT medallion_add_test('fact_order_items', 'freshness', column_name => 'modified_at',
  max_age => (SELECT date_trunc('second', now() - max("ModifiedDate")) + interval '2 days'
                FROM "Sales"."SalesOrderDetail"),
  severity => 'warn');
SELECT medallion_add_test('gld_sales_summary', 'freshness', column_name => 'order_date',
  max_age => (SELECT date_trunc('day', now() - max("OrderDate")) + interval '2 days'
                FROM "Sales"."SalesOrderHeader"),
  severity => 'warn');

RESET client_min_messages;
SELECT count(*) AS models FROM medallion.models;
SELECT count(*) AS tests FROM medallion.tests;
