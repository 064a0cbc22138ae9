-- The upkeep statements every replica runs every few seconds (the reaper's pass, the prune) must
-- find their rows through their own index whatever the statistics say. Autovacuum analyzes the
-- table at arbitrary moments, and two such moments gave plans that read the table on every pass
-- (test/outbox.upkeepPlan.test.ts, 20,000 rows of each kind):
--
-- * After an analyze of a table holding only done or dead rows ("nothing processing"), the
--   reaper's `status = 'processing' and locked_until < now()` was answered by walking
--   outbox_aggregate_open, whose predicate it also implies: the whole pending backlog, 20,000
--   rows, per pass, with 16 leases expired or none. A predicate on status cannot rule that index
--   out, so the reaper now asks `locked_until < now()` alone, which only this index answers (a
--   strict comparison implies `is not null`). Its rows are outbox_leases' rows: the CHECK in 0001
--   sets locked_until exactly on processing rows.
-- * After an analyze of an empty table, the prune's "oldest done rows, up to 500" became a bitmap
--   scan of every done row in the retention window and a sort (18,500 rows read to delete 500, and
--   the pass repeats while it deletes full batches). outbox_prune_done plans it with seqscan and
--   bitmapscan off: the only plan left is the ordered walk of outbox_done_processed (0031) that
--   stops at the limit, then the primary key for the delete.
--
-- Like 0031, the index is built without CONCURRENTLY (migrations run in one transaction): inserts
-- into outbox wait while it is built, one pass over the table.
create index outbox_lease_expiry on outbox (locked_until) where locked_until is not null;
drop index outbox_leases;

create function outbox_prune_done(p_before timestamptz, p_limit integer)
returns integer
language sql
set enable_seqscan = off
set enable_bitmapscan = off
as $$
  with deleted as (
    delete from outbox
    where id = any (array(
      select id from outbox
      where status = 'done' and processed_at < p_before
      order by processed_at
      limit p_limit
      for update skip locked
    ))
    returning 1
  )
  select count(*)::integer from deleted
$$;
