-- The shop's source tables (what the project's sources point at).
CREATE SCHEMA shop_raw;
CREATE TABLE shop_raw.customers (id int PRIMARY KEY, name text, country char(2), updated_at timestamp, loaded_at timestamptz DEFAULT now());
CREATE TABLE shop_raw.products (id int PRIMARY KEY, name text, category text, price_cents int, updated_at timestamp);
CREATE TABLE shop_raw.orders (id int PRIMARY KEY, customer_id int, status text, ordered_at date, loaded_at timestamptz DEFAULT now());
CREATE TABLE shop_raw.order_items (id int PRIMARY KEY, order_id int, product_id int, quantity int);
INSERT INTO shop_raw.customers (id, name, country, updated_at) VALUES
	(1, 'Ann', 'NL', '2026-01-01'), (2, 'Bob', 'DE', '2026-01-01'), (3, 'Cas', 'NL', '2026-01-01'),
	(4, 'Dee', 'FR', '2026-01-01'), (5, 'Eve', 'DE', '2026-01-01');
INSERT INTO shop_raw.products VALUES
	(1, 'Pen', 'office', 150, '2026-01-01'), (2, 'Mug', 'kitchen', 800, '2026-01-01'),
	(3, 'Lamp', 'home', 2500, '2026-01-01'), (4, 'Desk', 'office', 12000, '2026-01-01');
INSERT INTO shop_raw.orders (id, customer_id, status, ordered_at) VALUES
	(1, 1, 'completed', '2026-01-01'), (2, 1, 'completed', '2026-01-02'), (3, 2, 'shipped', '2026-01-02'),
	(4, 3, 'completed', '2026-01-03'), (5, 4, 'cancelled', '2026-01-03'), (6, 5, 'completed', '2026-01-04'),
	(7, 2, 'returned', '2026-01-04'), (8, 3, 'shipped', '2026-01-05');
INSERT INTO shop_raw.order_items VALUES
	(1, 1, 1, 2), (2, 1, 2, 1), (3, 2, 3, 1), (4, 3, 4, 1), (5, 3, 1, 4), (6, 4, 2, 2),
	(7, 5, 3, 1), (8, 6, 1, 10), (9, 6, 2, 1), (10, 7, 4, 1), (11, 8, 3, 2), (12, 8, 1, 1);
