import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { expect, it as plain, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import pg from "pg"
import { pruneFinishedSagas } from "../../src/saga/Retention.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import { retryAtStartup } from "../../src/saga/Startup.ts"
import { EngineDatabase, insertSaga, newOrder, testSettings } from "../saga-fixtures/fixtures.ts"

/** A saga in `state` whose last change was `hoursAgo` ago, with one step row. */
const sagaAged = (state: "running" | "completed" | "compensated" | "needs_attention", hoursAgo: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sagaId = yield* insertSaga({ order: newOrder(), currentStep: "createOrder" })
    yield* sql`update saga_instances set state = ${state}, updated_at = now() - make_interval(hours => ${hoursAgo})
               where id = ${sagaId}`
    yield* sql`insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
               values (${sagaId}, 'createOrder', 'forward', 'succeeded', 1, now())`
    return sagaId
  })

const remaining = (ids: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all({
      sagas: sql<{ id: string }>`select id::text as id from saga_instances where ${sql.in("id", ids)}`,
      steps: sql<{ id: string }>`select saga_id::text as id from saga_steps where ${sql.in("saga_id", ids)}`
    })).pipe(
      Effect.map(({ sagas, steps }) => ({ sagas: sagas.map((r) => r.id).sort(), steps: steps.map((r) => r.id).sort() }))
    )

const settings = Layer.succeed(SagaSettings, testSettings({ retentionHours: 24 }))

layer(Layer.merge(EngineDatabase(), settings), { excludeTestServices: true })("saga retention", (it) => {
  it.effect("deletes finished sagas (and their steps) past SAGA_RETENTION_HOURS in batches; keeps the rest", () =>
    Effect.gen(function*() {
      const old = yield* Effect.all([sagaAged("completed", 48), sagaAged("compensated", 30), sagaAged("completed", 25)])
      const kept = yield* Effect.all([
        sagaAged("completed", 1),
        sagaAged("needs_attention", 500),
        sagaAged("running", 500)
      ])
      // Batches of 2: 2, then 1 (a short batch ends the pass).
      expect(yield* pruneFinishedSagas(2)).toBe(3)
      const left = yield* remaining([...old, ...kept])
      expect(left).toEqual({ sagas: [...kept].sort(), steps: [...kept].sort() })
      expect(yield* pruneFinishedSagas(2)).toBe(0)
    }))

  it.scoped("one replica at a time: while another session holds the retention lock, a pass deletes nothing", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const doomed = yield* sagaAged("completed", 48)
      const other = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: db.url })
          await client.connect()
          await client.query("begin")
          await client.query("select pg_advisory_xact_lock(hashtext('saga_retention'))")
          return client
        }),
        (client) => Effect.promise(() => client.end())
      )
      expect(yield* pruneFinishedSagas(10)).toBe(0)
      expect((yield* remaining([doomed])).sagas).toEqual([doomed])
      yield* Effect.promise(() => other.query("commit"))
      expect(yield* pruneFinishedSagas(10)).toBe(1)
    }))
})

const outage = () =>
  new SqlError({
    message: "Failed to execute statement",
    cause: new Error("terminating connection due to administrator command")
  })

plain.live(
  "startup database steps: retried while the database is unavailable; the failure line carries the root cause",
  () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = Effect.suspend(() => ++calls < 3 ? Effect.fail(outage()) : Effect.succeed("checked"))
      expect(yield* retryAtStartup("deploy safety check", flaky)).toBe("checked")
      expect(calls).toBe(3)

      const down = yield* Effect.flip(
        retryAtStartup("deploy safety check", Effect.fail(outage())).pipe(
          Effect.provideService(SagaSettings, testSettings({ startupTimeoutMs: 300 }))
        )
      )
      expect(down.message).toBe(
        "deploy safety check: database unavailable for STARTUP_TIMEOUT_MS (300 ms): terminating connection due to administrator command"
      )

      // A refusal is an answer, not an outage: not retried.
      calls = 0
      const refused = Effect.suspend(() => (calls++, Effect.fail({ _tag: "UnknownSagaSteps", message: "no" } as const)))
      expect(yield* Effect.flip(retryAtStartup("deploy safety check", refused))).toMatchObject({
        _tag: "UnknownSagaSteps"
      })
      expect(calls).toBe(1)
    }).pipe(Effect.provideService(SagaSettings, testSettings()))
)
