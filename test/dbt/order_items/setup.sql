-- test/dbt/order_items's source: order lines; an order is its lines with a
-- quantity (orders reads order_items), and each line's order_id must be an
-- order (a relationships test of order_items referring to orders).
CREATE SCHEMA raw_oi;
CREATE TABLE raw_oi.order_items (order_item_id integer, order_id integer, quantity integer, unit_price numeric);
INSERT INTO raw_oi.order_items VALUES
	(1, 100, 2, 5.00), (2, 100, 1, 10.00), (3, 101, 3, 2.50), (4, 102, 1, 40.00);
