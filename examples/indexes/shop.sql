-- A small shop to try `dbarch indexes` on: 50k customers, 300k orders, 900k order lines,
-- primary keys, two indexes a previous engineer left behind (one duplicates the other's
-- prefix), and no index for the queries in workload.sql. Loads in a few seconds:
--
--   psql postgresql://postgres@127.0.0.1:5432/test -f examples/indexes/shop.sql
--
-- Everything lives in schema `shop_example`; DROP SCHEMA shop_example CASCADE removes it.
DROP SCHEMA IF EXISTS shop_example CASCADE;
CREATE SCHEMA shop_example;
SET search_path TO shop_example;

CREATE TABLE customers (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    country text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL,
    total numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE order_lines (
    order_id bigint NOT NULL REFERENCES orders (id),
    line int NOT NULL,
    sku text NOT NULL,
    quantity int NOT NULL,
    PRIMARY KEY (order_id, line)
);

INSERT INTO customers
SELECT g, 'Customer' || g || '@Example.com', (ARRAY['DE', 'FR', 'NL', 'US', 'GB'])[g % 5 + 1],
       timestamptz '2024-01-01' + g * interval '15 minutes'
FROM generate_series(1, 50000) g;

INSERT INTO orders
SELECT g, (g::bigint * 7919) % 50000 + 1,
       CASE WHEN g % 200 = 0 THEN 'pending' WHEN g % 50 = 0 THEN 'cancelled' ELSE 'shipped' END,
       (g % 500) + 9.99, timestamptz '2024-06-01' + g * interval '1 minute'
FROM generate_series(1, 300000) g;

INSERT INTO order_lines
SELECT o, l, 'SKU-' || ((o * l) % 4000), (o + l) % 5 + 1
FROM generate_series(1, 300000) o, generate_series(1, 3) l;

-- left behind: orders_status duplicates the prefix of orders_status_created
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_status_created ON orders (status, created_at);

VACUUM ANALYZE customers;
VACUUM ANALYZE orders;
VACUUM ANALYZE order_lines;
