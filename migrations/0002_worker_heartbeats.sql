-- Live orchestrator replicas, for operators: who runs where, and when each was last seen.
-- A row whose last_seen_at is older than a few lease periods belongs to a replica that died.
create table worker_heartbeats (
  worker_id    text primary key,
  host         text not null,
  pid          integer not null,
  concurrency  integer not null,
  started_at   timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);
