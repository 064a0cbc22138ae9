-- What operators did through the `orchestrator` CLI, kept beside the records they changed: a
-- resolved saga's note, a retried saga's state and error before the retry, a replayed event's
-- last error before the replay (the replay clears it so a later success does not show a stale
-- error). Append-only; nothing in the orchestrator reads it back.
create table operator_actions (
  id         bigint generated always as identity primary key,
  action     text not null check (action in ('saga_retry', 'saga_resolve', 'outbox_replay')),
  saga_id    uuid,
  outbox_id  bigint,
  note       text,
  -- The state the action replaced: {state, error, ledger_status, last_error, ...}.
  previous   jsonb not null default '{}',
  actor      text not null default current_user,
  created_at timestamptz not null default now()
);

create index operator_actions_saga on operator_actions (saga_id) where saga_id is not null;
create index operator_actions_outbox on operator_actions (outbox_id) where outbox_id is not null;

-- `orchestrator saga resolve`: an operator handled a needs_attention saga outside the system. The
-- engine never takes a resolved saga up again (its writes all require running or compensating).
alter table saga_instances drop constraint saga_instances_state_check;
alter table saga_instances add constraint saga_instances_state_check
  check (state in ('running', 'compensating', 'completed', 'compensated', 'needs_attention', 'resolved'));
