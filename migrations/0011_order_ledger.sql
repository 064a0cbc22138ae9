-- One row per checkout, written by the edge API in the same transaction as the OrderPlaced outbox
-- row; the orchestrator moves status out of PENDING when the saga ends. `items` keeps the priced
-- lines so a later cancellation event can carry everything the saga needs.
create table order_ledger (
  order_id         uuid primary key,
  customer_id      text not null,
  items            jsonb not null,
  amount           bigint not null check (amount > 0),
  currency         char(3) not null,
  authorization_id uuid not null,
  status           text not null default 'PENDING'
                   check (status in ('PENDING', 'CONFIRMED', 'CANCELLED', 'NEEDS_ATTENTION')),
  reason           text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
