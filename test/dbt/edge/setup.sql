CREATE SCHEMA edge_raw;
CREATE TABLE edge_raw.payments (id int, "user" text, amount_cents int, status text);
INSERT INTO edge_raw.payments VALUES (1, 'ann', 500, 'paid'), (2, 'bob', 700, 'paid'), (3, NULL, 300, 'failed');
