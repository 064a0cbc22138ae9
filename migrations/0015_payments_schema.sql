-- The payments service's own data. Only the `payments` role may touch this schema.
create schema payments;

-- One authorization per order; its status moves AUTHORIZED -> CAPTURED -> REFUNDED, or
-- AUTHORIZED -> VOIDED. Each transition is one conditional UPDATE, so a capture happens once.
create table payments.authorizations (
  authorization_id uuid primary key,
  order_id         uuid not null unique,
  amount           bigint not null check (amount > 0),
  currency         char(3) not null,
  card_token       text not null,
  status           text not null check (status in ('AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED')),
  created_at       timestamptz not null default now(),
  captured_at      timestamptz,
  voided_at        timestamptz,
  refunded_at      timestamptz
);

create table payments.idempotency_keys (
  key         text primary key,
  fingerprint text not null,
  response    jsonb,
  created_at  timestamptz not null default now()
);
