-- The shop's queries, as `dbarch indexes --workload` reads them: `-- name:` labels a query,
-- `-- weight:` says how often it runs relative to the others (here: calls per second).

-- name: login
-- weight: 40
SELECT id FROM customers WHERE lower(email) = lower('Customer4242@example.com');

-- name: customer_orders
-- weight: 120
SELECT id, status, total, created_at FROM orders
WHERE customer_id = 4242 ORDER BY created_at DESC LIMIT 20;

-- name: order_page
-- weight: 200
SELECT o.id, o.total, l.sku, l.quantity
FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.id = 123456;

-- name: pending_queue
-- weight: 5
SELECT id FROM orders WHERE status = 'pending' AND created_at < now() - interval '1 hour'
ORDER BY created_at LIMIT 100;

-- name: sku_sales
-- weight: 1
SELECT sum(quantity) FROM order_lines WHERE sku = 'SKU-17';

-- name: new_order
-- weight: 20
INSERT INTO orders (id, customer_id, status, total, created_at)
VALUES (400001, 4242, 'pending', 19.99, now());
