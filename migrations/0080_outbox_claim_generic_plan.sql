-- outbox_claim (0003, 0030) as PL/pgSQL with a forced generic plan: planned once per connection
-- instead of on every call.
--
-- A SQL function that carries SET clauses is never inlined, and Postgres plans its body again on
-- every call: about 0.35 ms of a claim was planning, more than claiming 16 rows. PL/pgSQL keeps
-- the plan of each statement for the session, and `plan_cache_mode = force_generic_plan` makes it
-- keep one plan for every argument (no custom plans for the first five calls, no switching back
-- and forth). Planning once per connection must not bring back what 0003 protects against: a plan
-- chosen while the statistics are stale (right after a bulk insert, "almost no open rows"). The
-- shape does not depend on statistics: the head-of-aggregate test is a scalar subquery (always a
-- parameterized probe of outbox_aggregate_open), and with seqscan and bitmapscan disabled for the
-- function the only way to produce candidates in id order is the ordered walk of
-- outbox_claimable, stopping after p_limit rows. The update finds the claimed rows with
-- `id = any (array(...))`, an index condition on the primary key, rather than a join with the
-- candidates: a join planned on an empty table became a nested loop that walked every row of the
-- table once per candidate (measured: 225 ms for 16 rows out of 20,000 pending, against 1 ms).
-- A generic plan has no value for p_limit, so it cannot be tuned to a small limit either.
-- (test/outbox.claim-plan.test.ts plans the claim against an analyzed empty table, then claims
-- from 20,000 pending rows, and checks the plan Postgres runs.)
create or replace function outbox_claim(p_worker text, p_limit integer, p_lease_ms integer)
returns setof outbox
language plpgsql
set enable_seqscan = off
set enable_bitmapscan = off
set plan_cache_mode = force_generic_plan
as $$
begin
  return query
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
  where o.id = any (array(select id from candidates))
  returning o.*;
end
$$;
