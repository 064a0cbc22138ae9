import { Effect, Ref } from "effect"
import { call, retried } from "./Http.ts"
import type { ChaosSettings } from "./Settings.ts"
import { direct, type System } from "./System.ts"
import { workload } from "./Workload.ts"

export interface Accepted {
  readonly index: number
  readonly orderId: string
  readonly cancelRequested: boolean
}

/**
 * Places `settings.orders` checkouts through the edge API, `settings.concurrency` at a time, each
 * retried with its idempotency key; cancels some right away and the late ones after all are placed.
 * `placedCount` counts attempts as they finish (the Postgres restart waits for it).
 */
export const placeCheckouts = (settings: ChaosSettings, system: System, runId: string, placedCount: Ref.Ref<number>) =>
  Effect.gen(function*() {
    const edge = direct(system.port.edge)
    const accepted: Array<Accepted> = []
    const checkoutFailures: Array<string> = []
    let declined = 0
    const cancel = (orderId: string, index: number) =>
      call("POST", `${edge}/orders/${orderId}/cancel`, system.edgeHeaders(`chaos-${runId}-${index}-cancel`), {
        reason: "chaos: the customer changed their mind"
      }).pipe(
        retried("120 seconds"),
        Effect.flatMap((answer) =>
          answer.status === 202
            ? Effect.void
            : Effect.sync(() =>
              checkoutFailures.push(`cancel of ${orderId} answered ${answer.status} ${JSON.stringify(answer.json)}`)
            )
        ),
        Effect.catchAll((failure) =>
          Effect.sync(() => checkoutFailures.push(`cancel of ${orderId}: ${failure.message}`))
        )
      )
    const place = (index: number) =>
      Effect.gen(function*() {
        const { card, cancel: when, items } = workload(index)
        const answer = yield* call("POST", `${edge}/checkout`, system.edgeHeaders(`chaos-${runId}-${index}`), {
          customerId: `chaos-customer-${index % 25}`,
          items,
          currency: "EUR",
          cardToken: card
        }).pipe(retried("120 seconds"), Effect.either)
        yield* Ref.update(placedCount, (n) => n + 1)
        if (answer._tag === "Left") return checkoutFailures.push(`checkout ${index}: ${answer.left.message}`)
        const { json, status } = answer.right
        if (status === 402 && card === "tok_declined") return declined++
        if (status !== 202) return checkoutFailures.push(`checkout ${index} answered ${status} ${JSON.stringify(json)}`)
        const orderId = (json as { orderId: string }).orderId
        accepted.push({ index, orderId, cancelRequested: when !== undefined })
        if (when === "early") yield* cancel(orderId, index)
      })
    yield* Effect.forEach(Array.from({ length: settings.orders }, (_, i) => i), place, {
      concurrency: Math.max(1, settings.concurrency),
      discard: true
    })
    const late = accepted.filter(({ index }) => workload(index).cancel === "late")
    yield* Effect.forEach(late, ({ index, orderId }) => cancel(orderId, index), {
      concurrency: Math.max(1, settings.concurrency),
      discard: true
    })
    return { accepted, checkoutFailures, declined }
  })
