-- Every checkout that may authorize a card, recorded (in its own short statement) BEFORE the edge
-- calls payments, so a hold whose order never committed can always be found and released:
--   open    -> placed   in the transaction that writes the order's ledger and outbox rows;
--   open    -> voiding  by the edge's recovery (attempts older than CHECKOUT_RECOVERY_MS) or by a
--                       checkout that failed after authorizing; exactly one of the two wins;
--   voiding -> voided   once payments has voided the order's authorization (or has none).
-- A `voiding` row whose claim is old belonged to an edge that died mid-void: recovery takes it again
-- (the void is idempotent). Payments keeps one authorization per order, so order_id finds it.
create table edge.checkout_attempts (
  order_id   uuid primary key,
  status     text not null default 'open' check (status in ('open', 'placed', 'voiding', 'voided')),
  created_at timestamptz not null default now(),
  claimed_at timestamptz,
  updated_at timestamptz not null default now()
);

-- What recovery walks: unfinished attempts, oldest first. Placed and voided rows cost nothing here.
create index checkout_attempts_unfinished on edge.checkout_attempts (created_at) where status in ('open', 'voiding');
