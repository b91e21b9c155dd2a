-- examples/adventureworks/distribute.sql: the AdventureWorks pipeline on a
-- Citus cluster.  Run after models.sql, on the coordinator of a database
-- with the citus extension and its worker nodes added: the order lines,
-- the customers (silver table and snapshot dimension), the customer
-- metrics and the incremental fact table become tables hash-distributed
-- by customer_id (colocated, so joins on it stay on each node); products
-- (silver table and snapshot dimension) and the calendar become reference
-- tables (a copy on every node).  Bronze views and the sources stay on
-- the coordinator (docs/scale-out.md).
--
-- Each model is defined again with all its settings as they are, plus its
-- distribution: medallion_create_model takes the whole definition.
DO $distribute$
DECLARE
	m medallion.models;
	d record;
BEGIN
	FOR d IN SELECT * FROM (VALUES
			('slvr_sales_orders', 'customer_id', NULL, NULL),
			('slvr_customers', 'customer_id', 'slvr_sales_orders', NULL),
			('gld_customer_metrics', 'customer_id', 'slvr_sales_orders', NULL),
			('fact_order_items', 'customer_id', 'slvr_sales_orders', NULL),
			('dim_customers', 'customer_id', 'slvr_sales_orders', NULL),
			('dim_products', NULL, NULL, 'reference'),
			('slvr_products', NULL, NULL, 'reference'),
			('dim_date', NULL, NULL, 'reference')) AS v (model, distributed_by, colocate_with, distribution)
	LOOP
		SELECT * INTO STRICT m FROM medallion.models WHERE name = d.model;
		PERFORM medallion_create_model(m.name, m.sql, m.layer, m.materialized, m.tags, m.description,
			m.unique_key, m.indexes, m.column_descriptions, m.on_schema_change, m.statement_timeout,
			m.enabled, m.strategy, m.watermark, m.lookback, m.full_refresh_threshold,
			m.snapshot_strategy, m.updated_at_column, m.check_columns, m.hard_deletes,
			distributed_by => d.distributed_by, colocate_with => d.colocate_with,
			distribution => d.distribution);
	END LOOP;
END
$distribute$;
