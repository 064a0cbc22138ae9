-- The edge API's private data: its Idempotency-Key records. (Its shared data, order_ledger and the
-- catalogue, lives in public beside the outbox.) The key row is inserted first in the effect's own
-- transaction, so a concurrent duplicate blocks on the primary key until the first commits, then
-- reads the stored response. `fingerprint` hashes the endpoint and the request body.
create schema edge;

create table edge.idempotency_keys (
  key         text primary key,
  fingerprint text not null,
  response    jsonb,
  created_at  timestamptz not null default now()
);
