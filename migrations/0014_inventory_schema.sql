-- The inventory service's own data. Only the `inventory` role may touch this schema.
create schema inventory;

-- available = on_hand - reserved. The checks are the last line of defence: the reserve path locks
-- the rows and tests availability first, so a violation here is a bug, never a user error.
create table inventory.stock (
  sku        text primary key,
  on_hand    integer not null check (on_hand >= 0),
  reserved   integer not null default 0 check (reserved >= 0),
  updated_at timestamptz not null default now(),
  constraint stock_reserved_within_on_hand check (reserved <= on_hand)
);

-- One reservation per order (the natural key behind the Idempotency-Key). A release of an order
-- that never reserved leaves a RELEASED row with no items, so a late reserve cannot resurrect it.
create table inventory.reservations (
  order_id    uuid primary key,
  status      text not null check (status in ('HELD', 'RELEASED')),
  created_at  timestamptz not null default now(),
  released_at timestamptz
);

create table inventory.reservation_items (
  order_id uuid not null references inventory.reservations (order_id),
  sku      text not null,
  quantity integer not null check (quantity > 0),
  primary key (order_id, sku)
);

create table inventory.idempotency_keys (
  key         text primary key,
  fingerprint text not null,
  response    jsonb,
  created_at  timestamptz not null default now()
);

insert into inventory.stock (sku, on_hand) values
  ('TSHIRT-RED-M', 100),
  ('MUG-BLUE', 100),
  ('SOCKS-3PACK', 100),
  ('POSTER-MAP', 100),
  ('HOODIE-GREY-L', 100);
