-- The same change, written the way dbarch lint's fixes say: nothing here blocks traffic.
-- (Rows with a NULL status would first be filled in batches: dbarch migrate plan writes that step.)
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
ALTER TABLE orders ADD COLUMN token double precision;
ALTER TABLE orders ALTER COLUMN token SET DEFAULT random();
ALTER TABLE orders ADD CONSTRAINT orders_status_not_null CHECK (status IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_status_not_null;
