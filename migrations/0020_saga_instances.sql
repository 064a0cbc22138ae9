-- One saga per triggering outbox event. `trigger_event_id` is unique, so a re-delivered event (a
-- crash after the saga finished but before the outbox row was marked done) finds the saga it
-- already started instead of starting a second one.
create table saga_instances (
  id               uuid primary key,
  saga_type        text not null,
  trigger_event_id uuid not null unique,
  aggregate_id     text not null,
  state            text not null default 'running'
                   check (state in ('running', 'compensating', 'completed', 'compensated', 'needs_attention')),
  -- The step the saga is at (forward) or undoing (compensating); what deploy safety checks.
  current_step     text,
  -- Typed data the steps need, validated with the saga's Schema whenever it is loaded.
  context          jsonb not null,
  -- Why the saga is compensating or needs attention: {message, details: {saga: {...}}}.
  error            jsonb,
  -- Fencing token: each handler run takes the saga by writing a fresh token, and every later write
  -- presents it, so a run whose outbox lease expired cannot overwrite the progress of the run that
  -- took over (the newest run always wins: the outbox lease guarantees it is the legitimate one).
  run_token        uuid,
  deadline_at      timestamptz not null,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);

-- Deploy safety and operators look for unfinished sagas.
create index saga_instances_in_flight on saga_instances (saga_type, current_step)
  where state in ('running', 'compensating');
create index saga_instances_aggregate on saga_instances (aggregate_id);
