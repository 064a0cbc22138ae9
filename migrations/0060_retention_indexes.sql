-- Retention (IDEMPOTENCY_RETENTION_HOURS): each service deletes its oldest idempotency keys, and
-- orders its oldest cancellation marks, in small batches ordered by created_at. Without these
-- indexes every batch would scan the whole table to find the oldest rows.
create index idempotency_keys_created_at on edge.idempotency_keys (created_at);
create index idempotency_keys_created_at on orders.idempotency_keys (created_at);
create index idempotency_keys_created_at on inventory.idempotency_keys (created_at);
create index idempotency_keys_created_at on payments.idempotency_keys (created_at);
create index cancellation_marks_created_at on orders.cancellation_marks (created_at);
