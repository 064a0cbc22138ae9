/** Rows no handler can process as they are: each ends with a completion and a reason, and the worker keeps going. */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { afterEach } from "vitest"
import { expectNoLeakedWorkers, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { insert, row, rowUntil, settled } from "./fixtures/outboxRows.ts"

afterEach(expectNoLeakedWorkers)

layer(WorkerTestDatabase, { excludeTestServices: true })("worker and poison rows", (it) => {
  it.effect("poison rows are dead-lettered with the exact reason, and the worker keeps going", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { MAX_PAYLOAD_BYTES: "1048576" })
      const unknown = yield* insert("poison-1", "NoSuchEvent", {})
      const missing = yield* insert("poison-2", "Typed", { label: "x" })
      const wrongTypes = yield* insert("poison-3", "Typed", { n: "seven", label: 7 })
      const notAnObject = yield* insert("poison-4", "Typed", [1, 2, 3])
      const huge = yield* insert("poison-5", "Ping", { blob: "x".repeat(1_100_000) })
      const large = yield* insert("poison-6", "Ping", { blob: "y".repeat(900_000) })
      const good = yield* insert("poison-7", "Typed", { n: 7, label: "fine" })

      const reason = (id: string) => Effect.map(rowUntil(id, settled, "settled"), (r) => [r.status, r.last_error])
      expect(yield* reason(unknown)).toEqual([
        "dead",
        `unknown event_type "NoSuchEvent": no handler is registered for it (known: Ping, Record, Sleep, Fail, FailUntil, Typed, BadDecoder, Crash)`
      ])
      const [missingStatus, missingError] = yield* reason(missing)
      expect(missingStatus).toBe("dead")
      expect(missingError).toBe(`payload does not match Typed: ["n"] is missing`)
      const [wrongStatus, wrongError] = yield* reason(wrongTypes)
      expect(wrongStatus).toBe("dead")
      expect(wrongError).toMatch(/\["n"\].*Expected number, actual "seven"/)
      expect(wrongError).toMatch(/\["label"\].*Expected string, actual 7/)
      const [arrayStatus, arrayError] = yield* reason(notAnObject)
      expect(arrayStatus).toBe("dead")
      expect(arrayError).toMatch(/payload does not match Typed: .*Expected .*actual \[1,2,3\]/)
      const [hugeStatus, hugeError] = yield* reason(huge)
      expect(hugeStatus).toBe("dead")
      expect(hugeError).toMatch(/^payload is 11000\d\d bytes, over MAX_PAYLOAD_BYTES \(1048576\)$/)
      expect(yield* reason(large)).toEqual(["done", null])
      expect(yield* reason(good)).toEqual(["done", null])
      for (const id of [unknown, missing, wrongTypes, notAnObject, huge]) expect((yield* row(id)).attempts).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("rows nested 6,000 deep end with a completion and a reason on the first attempt; the worker keeps going", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* startWorker(db)
      const deep = "[".repeat(6_000) + "]".repeat(6_000)
      const insertRaw = (aggregateId: string, eventType: string, json: string) =>
        sql<{ id: string }>`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload)
          values ('test', ${aggregateId}, ${eventType}, ${json}::jsonb) returning id::text as id`.pipe(
          Effect.map((rows) => rows[0]!.id)
        )
      const asPayload = yield* insertRaw("deep-1", "Typed", deep)
      const asField = yield* insertRaw("deep-2", "Typed", `{"n": 1, "label": ${deep}}`)
      const asPing = yield* insertRaw("deep-3", "Ping", deep)
      const asDefect = yield* insertRaw("deep-4", "Crash", deep)
      const after = yield* insert("deep-5", "Record", {})
      const payloadRow = yield* rowUntil(asPayload, settled, "deep payload settled")
      expect(payloadRow).toMatchObject({ status: "dead", attempts: 1 })
      expect(payloadRow.last_error).toMatch(/^payload does not match Typed: /)
      const fieldRow = yield* rowUntil(asField, settled, "deep field settled")
      expect(fieldRow).toMatchObject({ status: "dead", attempts: 1 })
      expect(fieldRow.last_error).toMatch(/^payload does not match Typed: \["label"\] /)
      expect(yield* rowUntil(asPing, settled, "deep Ping settled")).toMatchObject({ status: "done", attempts: 1 })
      expect(yield* rowUntil(after, settled, "the next row settled")).toMatchObject({ status: "done" })
      // A defect that cannot be printed is still a retryable crash with a reason, not a stalled slot.
      const defectRow = yield* rowUntil(
        asDefect,
        (r) => r.status !== "processing" && r.last_error !== null,
        "crash recorded"
      )
      expect(defectRow.last_error).toMatch(/handler crashed: a defect that cannot be printed/)
    }).pipe(Effect.scoped))

  it.effect("a throwing decoder sends the row dead on its first attempt, naming the cause", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db)
      const id = yield* insert("decoder-1", "BadDecoder", {})
      expect(yield* rowUntil(id, settled, "dead")).toMatchObject({
        status: "dead",
        attempts: 1,
        last_error: "payload does not match BadDecoder: its decoder threw Error: decoder bug"
      })
    }).pipe(Effect.scoped))

  it.effect("rows with values only a superuser can write go dead with a reason, and the next rows still run", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const absurd = yield* insert("absurd-1", "Record", {})
      yield* sql`update outbox set attempts = 2147483647 where id = ${absurd}`
      const infinite = yield* insert("absurd-2", "Record", {})
      yield* sql`update outbox set created_at = 'infinity' where id = ${infinite}`
      const sameAggregate = yield* insert("absurd-1", "Record", {})
      const other = yield* insert("absurd-3", "Record", {})
      yield* startWorker(db)
      const absurdRow = yield* rowUntil(absurd, settled, "absurd attempts settled")
      expect(absurdRow.status).toBe("dead")
      expect(absurdRow.last_error).toMatch(/^attempts is 2147483647 at claim, over MAX_ATTEMPTS \(10\)/)
      const infiniteRow = yield* rowUntil(infinite, settled, "infinite created_at settled")
      expect(infiniteRow.status).toBe("dead")
      expect(infiniteRow.last_error).toMatch(/^created_at is Infinity, not a finite timestamp/)
      expect((yield* rowUntil(sameAggregate, settled, "next row of the aggregate")).status).toBe("done")
      expect((yield* rowUntil(other, settled, "another aggregate's row")).status).toBe("done")
    }).pipe(Effect.scoped))
})
