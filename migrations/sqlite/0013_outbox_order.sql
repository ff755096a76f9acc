-- Messages that must reach a platform in order (the steps of one to-do item,
-- the milestones of one case) share an order key: the dispatcher sends a
-- message only when no earlier one with its key is still waiting.
ALTER TABLE outbox ADD COLUMN order_key TEXT;
CREATE INDEX outbox_order ON outbox (order_key, id);
