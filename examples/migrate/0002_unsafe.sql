-- The kind of migration dbarch lint flags: each statement here blocks traffic on a filled table.
CREATE INDEX orders_created_at_idx ON orders (created_at);
ALTER TABLE orders ADD COLUMN token double precision DEFAULT random();
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
