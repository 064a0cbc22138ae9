/**
 * Shutdown is bounded even when a completion statement never answers: another session holds the
 * row's lock, so the worker's UPDATE waits. Shutdown interrupts the flusher's write rather than
 * wait for it (making the write uninterruptible, to close a rarer window, hung this test).
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { insert, ownSession, rowUntil } from "./fixtures/outboxRows.ts"

layer(WorkerTestDatabase, { excludeTestServices: true })("worker shutdown", (it) => {
  it.effect("finishes while its completion statement waits on a row lock held elsewhere", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const locker = yield* ownSession(db.url)
      const scope = yield* Scope.make()
      yield* startWorker(db, { SHUTDOWN_GRACE_MS: "500" }).pipe(Scope.extend(scope))
      const id = yield* insert("hang-1", "Sleep", { ms: [1_000] })
      yield* rowUntil(id, (r) => r.status === "processing", "claimed")
      // While the handler sleeps, lock the row: its completion will wait for this transaction.
      yield* Effect.promise(() => locker.query("begin"))
      yield* Effect.promise(() => locker.query("select id from outbox where id = $1 for update", [id]))
      yield* Effect.sleep("2 seconds") // the handler finished; its completion is waiting
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      const seconds = (Date.now() - started) / 1000
      yield* Effect.promise(() => locker.query("rollback"))
      // A write that waits for its answer never returns here (the test times out). The final
      // write waits on the same lock for its 5 s bound; the limit is loose.
      expect(seconds).toBeLessThan(30)
    }).pipe(Effect.scoped), 60_000)
})
