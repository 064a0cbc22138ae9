-- The upkeep statements every replica runs every few seconds (the reaper's pass, the prune, the
-- outbox.rows counts) must find their rows through their own index whatever the statistics say.
-- Autovacuum analyzes the table at arbitrary moments, and such moments gave plans that read the
-- table on every pass (test/outbox.upkeepPlan.test.ts, 20,000 rows of each kind):
--
-- * After an analyze of a table holding only done or dead rows ("nothing processing"), the
--   reaper's `status = 'processing' and locked_until < now()` was answered by walking
--   outbox_aggregate_open, whose predicate it also implies: the whole pending backlog, 20,000
--   rows, per pass, with 16 leases expired or none. A predicate on status cannot rule that index
--   out, so the reaper now asks `locked_until < now()` alone, which only outbox_lease_expiry
--   answers (a strict comparison implies `is not null`). For that to find processing rows only,
--   outbox_lease_until_processing makes locked_until set exactly on processing rows: 0001's
--   outbox_lease_consistent lets a row that is not processing keep locked_until as long as one
--   of the other lease columns is null (no statement writes that, but the reaper would then have
--   put a done row back to pending).
-- * After an analyze of an empty table, the prune's "oldest 500 done rows" became a bitmap scan of
--   every done row in the retention window and a sort (18,500 rows read to delete 500, and the
--   pass repeats while it deletes full batches). outbox_prune_done plans it with seqscan and
--   bitmapscan off: the only plan left is the ordered walk of outbox_done_processed (0031) that
--   stops at the limit, then the primary key for the delete.
-- * The counts for the outbox.rows gauge read two to four times the rows they counted (a sequential
--   scan, or the open-rows index for processing rows). outbox_row_counts counts each status
--   through the one index that holds only it.
--
-- Locks: the index is dropped first, so the migration takes the table's ACCESS EXCLUSIVE lock
-- before anything else and never upgrades a weaker lock it holds (building the index first, then
-- dropping the old one, could deadlock with a transaction that reads outbox and then writes it,
-- such as `outbox replay`). Reads and writes of outbox wait while the constraint is checked and the
-- index built, one pass over the table each; lock_timeout makes the migration fail in 5 s
-- ("canceling statement due to lock timeout"; the whole batch rolls back) rather than queue every
-- statement on outbox behind a long transaction.
set local lock_timeout = '5s';

drop index outbox_leases;

alter table outbox add constraint outbox_lease_until_processing
  check ((locked_until is not null) = (status = 'processing'));

create index outbox_lease_expiry on outbox (locked_until) where locked_until is not null;

set local lock_timeout to default;

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

create function outbox_row_counts(out pending integer, out processing integer, out dead integer)
language sql
stable
set enable_seqscan = off
set enable_bitmapscan = off
as $$
  select (select count(*) from outbox where status = 'pending')::integer,
         (select count(*) from outbox where locked_until is not null)::integer,
         (select count(*) from outbox where status = 'dead')::integer
$$;
