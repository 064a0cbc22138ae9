-- The orders service's own data. Only the `orders` role may touch this schema.
create schema orders;

create table orders.orders (
  order_id    uuid primary key,
  customer_id text not null,
  items       jsonb not null,
  amount      bigint not null check (amount > 0),
  currency    char(3) not null,
  status      text not null default 'PENDING' check (status in ('PENDING', 'CONFIRMED', 'CANCELLED')),
  reason      text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table orders.idempotency_keys (
  key         text primary key,
  fingerprint text not null,
  response    jsonb,
  created_at  timestamptz not null default now()
);
