/**
 * The run-token fence of every saga write: once a newer run has taken the saga (the older run's
 * outbox lease expired), each write of the older run fails with SagaTakenOver and changes nothing.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import { SagaRepo } from "../../src/saga/SagaRepo.ts"
import { EngineDatabase, newOrder } from "../saga-fixtures/fixtures.ts"

/** Everything the saga tables hold for one saga, as text, to compare before and after. */
const snapshot = (sagaId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`select to_jsonb(i) as row from saga_instances i where id = ${sagaId}`,
      sql`select to_jsonb(s) as row from saga_steps s where saga_id = ${sagaId} order by step, phase`
    ])).pipe(Effect.map((rows) => JSON.stringify(rows)))

layer(EngineDatabase(), { excludeTestServices: true })("saga writes are fenced by the run token", (it) => {
  it.effect("every write of a taken-over run fails and changes nothing; the newer run's writes go through", () =>
    Effect.gen(function*() {
      const repo = yield* SagaRepo
      const order = newOrder()
      const eventId = randomUUID()
      const sagaId = randomUUID()
      const saga = {
        id: sagaId,
        type: "OrderPlaced",
        eventId,
        aggregateId: order.orderId,
        context: order,
        deadlineMs: Date.now() + 60_000,
        firstStep: "verifyOrder"
      }
      const old = { sagaId, runToken: randomUUID() }
      expect((yield* repo.open({ ...saga, runToken: old.runToken })).created).toBe(true)
      const none = Option.none()
      const verified = Option.some({ step: "verifyOrder", phase: "forward", context: none } as const)
      yield* repo.startAttempt({ ...old, step: "createOrder", phase: "forward", attempt: 1, done: verified })
      const newer = { sagaId, runToken: randomUUID() }
      // A re-delivered event opens the same saga (a fresh id would be a second saga) and takes it.
      const reopened = yield* repo.open({ ...saga, id: randomUUID(), runToken: newer.runToken })
      expect({ created: reopened.created, id: reopened.row.id }).toEqual({ created: false, id: sagaId })
      const before = yield* snapshot(sagaId)

      const step = { ...old, step: "createOrder", phase: "forward" } as const
      const error = {
        message: "stale",
        details: { saga: { id: sagaId, type: "OrderPlaced", step: "createOrder", state: "x" } }
      }
      const done = Option.some(
        { step: "createOrder", phase: "forward", context: Option.some({ overwritten: true }) } as const
      )
      const writes = {
        startAttempt: repo.startAttempt({ ...step, attempt: 2, done: none }),
        startAttemptOfAnotherStep: repo.startAttempt({ ...step, step: "reserveStock", attempt: 1, done: none }),
        startAttemptCarryingASuccess: repo.startAttempt({ ...step, step: "reserveStock", attempt: 1, done }),
        succeeded: repo.succeeded({ ...step, context: Option.some({ overwritten: true }) }),
        failed: repo.failed({ ...step, status: "failed", attempts: 9, error: "stale", outcomeUnknown: true }),
        waiting: repo.failed({ ...step, status: "waiting", attempts: 9, error: "stale", outcomeUnknown: true }),
        beginCompensation: repo.beginCompensation({ ...old, error }),
        finish: repo.finish({ ...old, state: "completed", error: undefined, done: none }),
        finishCarryingASuccess: repo.finish({ ...old, state: "completed", error: undefined, done })
      }
      for (const [name, write] of Object.entries(writes)) {
        const outcome = yield* Effect.flip(write as Effect.Effect<unknown, { readonly _tag: string }>)
        expect({ name, tag: outcome._tag }).toEqual({ name, tag: "SagaTakenOver" })
        expect(yield* snapshot(sagaId)).toBe(before)
      }

      // The fence is the token, not a broken table: the newer run writes the same statements.
      yield* repo.startAttempt({ ...newer, step: "createOrder", phase: "forward", attempt: 2, done: none })
      yield* repo.succeeded({ ...newer, step: "createOrder", phase: "forward", context: none })
      yield* repo.startAttempt({ ...newer, step: "reserveStock", phase: "forward", attempt: 1, done: none })
      yield* repo.finish({ ...newer, state: "completed", error: undefined, done })
      expect(yield* snapshot(sagaId)).not.toBe(before)
    }))
})
