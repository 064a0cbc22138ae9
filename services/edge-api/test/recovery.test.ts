/**
 * No card hold without an order: whatever stops a checkout between the authorization and the commit
 * (payments' answer lost, the client gone, the edge process SIGKILLed), the attempt recorded before
 * the authorization lets the recovery loop void the hold once CHECKOUT_RECOVERY_MS has passed. Real
 * payments and edge servers on loopback, a real HTTP proxy between them; the edge OS process killed
 * is in recovery.process.test.ts.
 */
import { IdempotencyKey } from "@ecommerce/contracts"
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { orderIdFor } from "../src/OrderKeys.ts"
import {
  awaitChecks,
  awaitReleased,
  order,
  paymentsProxy,
  shortWindow,
  startEdge,
  stateOf,
  TestLive
} from "./recoveryFixtures.ts"

layer(TestLive, { excludeTestServices: true })("checkout recovery", (it) => {
  it.scoped(
    "payments' answer to the check is lost: 503, then the hold is voided and no order exists",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, shortWindow)
        proxy.setMode("drop")
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-lost-answer")
        const error = yield* Effect.flip(
          edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        )
        expect(error).toMatchObject({ _tag: "UpstreamUnavailable", service: "payments" })
        const orderId = orderIdFor(request.customerId, key)
        expect(yield* awaitReleased(orderId)).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
        // The key's retry learns that the hold is gone instead of placing an order on it.
        proxy.setMode("pass")
        const retried = yield* Effect.flip(
          edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        )
        expect(retried._tag).toBe("IdempotencyKeyReused")
        expect(yield* stateOf(orderId)).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
      }),
    90_000
  )

  it.scoped(
    "a 503 leaves the hold for a retry with the same key within the window; the retry places the order",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, { CHECKOUT_RECOVERY_MS: "120000" })
        proxy.setMode("drop")
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-retry-same-key")
        yield* Effect.flip(edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request }))
        proxy.setMode("pass")
        const placed = yield* edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        expect(yield* stateOf(placed.orderId)).toEqual({ ledger: 1, payment: "AUTHORIZED", attempt: "placed" })
      }),
    90_000
  )

  it.scoped(
    "the client disconnects mid-checkout: the hold is voided and no order exists, or the order exists",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, shortWindow)
        proxy.setMode("hold")
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-walks-away")
        const orderId = orderIdFor(request.customerId, key)
        const inFlight = yield* Effect.fork(
          edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        )
        yield* awaitChecks(proxy, 1)
        // Interrupting the client fiber aborts its request: the edge sees the connection close.
        yield* Fiber.interrupt(inFlight)
        proxy.setMode("pass")
        proxy.release()
        const settled = yield* stateOf(orderId).pipe(
          Effect.filterOrFail((state) =>
            (state.ledger === 1 && state.payment === "AUTHORIZED") || state.payment === "VOIDED"
          ),
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds")))
        )
        if (settled.ledger === 0) expect(settled).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
        else expect(settled).toEqual({ ledger: 1, payment: "AUTHORIZED", attempt: "placed" })
      }),
    90_000
  )

  it.scoped(
    "checkouts waiting on payments hold no database connection: /health answers while 12 wait",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, { CHECKOUT_RECOVERY_MS: "120000", PAYMENTS_TIMEOUT: "60 seconds" })
        proxy.setMode("hold")
        // The edge's test pool has 10 connections; each of these waits on payments after authorizing.
        const waiting = yield* Effect.fork(Effect.all(
          Array.from({ length: 12 }, (_, i) =>
            edge.client.checkout.checkout({
              headers: { "idempotency-key": IdempotencyKey.make(randomUUID()) },
              payload: order(`cust-slow-${i}`)
            })),
          { concurrency: "unbounded" }
        ))
        yield* awaitChecks(proxy, 12)
        const health = yield* edge.client.health.health().pipe(Effect.timeout("20 seconds"))
        expect(health.status).toBe("ok")
        proxy.setMode("pass")
        proxy.release()
        const placed = yield* Fiber.join(waiting)
        expect(placed).toHaveLength(12)
      }),
    120_000
  )
})
