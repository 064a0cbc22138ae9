-- The step log: one row per saga, step and phase. A resumed saga skips every step whose forward
-- row is `succeeded` and every compensation that is `succeeded`; nothing is replayed.
create table saga_steps (
  saga_id     uuid not null references saga_instances (id) on delete cascade,
  step        text not null,
  phase       text not null check (phase in ('forward', 'compensation')),
  status      text not null check (status in ('running', 'waiting', 'succeeded', 'failed')),
  attempts    integer not null default 0 check (attempts >= 0),
  -- Set once an attempt ended in a way that may have applied the effect (timeout, 5xx, transport
  -- error): such a step is compensated even though it never succeeded.
  outcome_unknown boolean not null default false,
  started_at  timestamptz not null,
  ended_at    timestamptz,
  last_error  text,
  primary key (saga_id, step, phase)
);
