-- The transactional outbox. Producers INSERT the first block of columns in their own transaction;
-- the orchestrator owns the processing columns.
create table outbox (
  id             bigint generated always as identity primary key,
  event_id       uuid not null unique default gen_random_uuid(),
  aggregate_type text not null,
  aggregate_id   text not null,
  event_type     text not null,
  payload        jsonb not null,
  headers        jsonb not null default '{}',
  created_at     timestamptz not null default now(),

  status         text not null default 'pending'
                 check (status in ('pending', 'processing', 'done', 'dead')),
  attempts       integer not null default 0 check (attempts >= 0),
  available_at   timestamptz not null default now(),
  locked_by      text,
  locked_until   timestamptz,
  -- Fencing token: every write after the claim must present it, so a worker whose lease expired
  -- (and was re-claimed by another) cannot overwrite the new owner's result.
  lease_token    uuid,
  last_error     text,
  processed_at   timestamptz,

  constraint outbox_lease_consistent check (
    (status = 'processing') = (lease_token is not null and locked_by is not null and locked_until is not null)
  )
);

-- What the claim query walks, in id order. Partial, so done/dead rows cost nothing here.
create index outbox_claimable on outbox (id) where status = 'pending';

-- Per-aggregate ordering: "is an earlier event of this aggregate still open?" is an index probe.
create index outbox_aggregate_open on outbox (aggregate_id, id) where status in ('pending', 'processing');

-- The reaper's lookup of expired leases.
create index outbox_leases on outbox (locked_until) where status = 'processing';

-- Wake listeners on commit. Statement-level: one notification per INSERT statement, not per row,
-- so a 50,000-row insert sends one. The payload is non-empty; listeners treat it only as a hint.
create function outbox_notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('order_events', 'outbox');
  return null;
end
$$;

create trigger outbox_notify
  after insert on outbox
  for each statement execute function outbox_notify();
