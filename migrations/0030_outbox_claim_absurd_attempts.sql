-- outbox_claim (0003) with one change: a row whose attempts is already at the integer maximum
-- (only a superuser can write one; producer roles cannot set processing columns) no longer makes
-- `attempts + 1` fail with "integer out of range", which failed every claim for every replica
-- while that row was claimable. The row is claimed with attempts unchanged and the worker sends
-- it to dead because its attempts exceed MAX_ATTEMPTS (see Runner.ts).
create or replace function outbox_claim(p_worker text, p_limit integer, p_lease_ms integer)
returns setof outbox
language sql
set enable_seqscan = off
set enable_bitmapscan = off
as $$
  with candidates as materialized (
    select o.id
    from outbox o
    where o.status = 'pending'
      and o.available_at <= now()
      and o.id = (
        select head.id from outbox head
        where head.aggregate_id = o.aggregate_id
          and head.status in ('pending', 'processing')
        order by head.id
        limit 1
      )
    order by o.id
    limit p_limit
    for update of o skip locked
  )
  update outbox o
  set status = 'processing',
      attempts = case when o.attempts < 2147483647 then o.attempts + 1 else o.attempts end,
      locked_by = p_worker,
      locked_until = now() + p_lease_ms * interval '1 millisecond',
      lease_token = gen_random_uuid()
  from candidates c
  where o.id = c.id
  returning o.*
$$;
