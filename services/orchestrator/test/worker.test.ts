/**
 * The in-process worker when handlers fail: backoff then dead after MAX_ATTEMPTS, a success after
 * retries, HANDLER_TIMEOUT_MS, non-retryable failures and defects, and the dead-letter warning.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { afterEach } from "vitest"
import { expectNoLeakedWorkers, type LogLine, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { insert, rowUntil, settled } from "./fixtures/outboxRows.ts"

afterEach(expectNoLeakedWorkers)

layer(WorkerTestDatabase, { excludeTestServices: true })("worker", (it) => {
  it.effect("a retryable failure backs off, then goes dead after MAX_ATTEMPTS with the reason", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { MAX_ATTEMPTS: "3", RETRY_BASE_MS: "100", RETRY_MAX_MS: "400" })
      const id = yield* insert("retry-1", "Fail", { retryable: true, message: "downstream said 503" })
      const final = yield* rowUntil(id, settled, "dead after 3 attempts")
      expect(final.status).toBe("dead")
      expect(final.attempts).toBe(3)
      expect(final.last_error).toBe("gave up after 3 attempts (MAX_ATTEMPTS=3): downstream said 503")
      expect(final.lease_token).toBeNull()
      const sql = yield* SqlClient.SqlClient
      const calls = yield* sql<
        { attempt: number; at: Date }
      >`select attempt, at from test_calls where outbox_id = ${id} order by seq`
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3])
      // Backoff with equal jitter: the first retry waits at least RETRY_BASE_MS / 2, the second at least RETRY_BASE_MS.
      expect(calls[1]!.at.getTime() - calls[0]!.at.getTime()).toBeGreaterThanOrEqual(50)
      expect(calls[2]!.at.getTime() - calls[1]!.at.getTime()).toBeGreaterThanOrEqual(100)
    }).pipe(Effect.scoped))

  it.effect("a retryable failure that later succeeds ends done, with every attempt counted", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { RETRY_BASE_MS: "50", RETRY_MAX_MS: "100" })
      const id = yield* insert("retry-2", "FailUntil", { attempt: 3 })
      const final = yield* rowUntil(id, settled, "done on attempt 3")
      expect(final).toMatchObject({ status: "done", attempts: 3, last_error: "attempt 2 fails on purpose" })
    }).pipe(Effect.scoped))

  it.effect("a handler running past HANDLER_TIMEOUT_MS is interrupted and retried, then dead", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* startWorker(db, {
        HANDLER_TIMEOUT_MS: "300",
        LEASE_MS: "600",
        MAX_ATTEMPTS: "2",
        RETRY_BASE_MS: "50",
        RETRY_MAX_MS: "50"
      })
      const id = yield* insert("slow-1", "Sleep", { ms: [60_000, 60_000] })
      const final = yield* rowUntil(id, settled, "dead after two timed-out runs")
      expect(final).toMatchObject({
        status: "dead",
        attempts: 2,
        last_error:
          "gave up after 2 attempts (MAX_ATTEMPTS=2): handler did not finish within HANDLER_TIMEOUT_MS (300 ms)"
      })
      const runs = yield* sql<{ attempt: number }>`select attempt from test_calls where outbox_id = ${id} order by seq`
      expect(runs.map((r) => r.attempt)).toEqual([1, 2])
    }).pipe(Effect.scoped))

  it.effect("a non-retryable failure goes dead at once", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db)
      const id = yield* insert("fatal-1", "Fail", { retryable: false, message: "card permanently rejected" })
      const final = yield* rowUntil(id, settled, "dead")
      expect(final).toMatchObject({ status: "dead", attempts: 1, last_error: "card permanently rejected" })
    }).pipe(Effect.scoped))

  it.effect("a handler defect is retried, then dead with the crash as the reason", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { MAX_ATTEMPTS: "2", RETRY_BASE_MS: "50", RETRY_MAX_MS: "50" })
      const id = yield* insert("crash-1", "Crash", { boom: true })
      const final = yield* rowUntil(id, settled, "dead after 2 attempts")
      expect(final).toMatchObject({ status: "dead", attempts: 2 })
      expect(final.last_error).toMatch(/^gave up after 2 attempts \(MAX_ATTEMPTS=2\): handler crashed: /)
    }).pipe(Effect.scoped))

  it.effect("dead-lettering logs one warning line with the event id, type and reason", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const logs: Array<LogLine> = []
      yield* startWorker(db, {}, { logs })
      const id = yield* insert("deadlog-1", "Fail", { retryable: false, message: "card permanently rejected" })
      yield* rowUntil(id, settled, "dead")
      const [{ event_id }] = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ event_id: string }>`select event_id::text as event_id from outbox where id = ${id}`)
      const lines = yield* Effect.sync(() =>
        logs.filter((l) =>
          l.annotations["event_id"] === event_id && l.level === "WARN"
        )
      ).pipe(
        Effect.filterOrFail((found) => found.length > 0),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.timeout("5 seconds")
      )
      expect(lines).toHaveLength(1)
      expect(lines[0]!.message).toContain("card permanently rejected")
      expect(lines[0]!.annotations).toMatchObject({ event_id, event_type: "Fail" })
    }).pipe(Effect.scoped))
})
