import { Duration, Effect, FiberSet, Option, Random, Ref, Schedule } from "effect"
import { randomUUID } from "node:crypto"

/** Skus seeded by migrations/0010_catalogue.sql. POSTER-MAP is the scarce one (ordered in bulk). */
const everyday = ["TSHIRT-RED-M", "MUG-BLUE", "SOCKS-3PACK", "HOODIE-GREY-L"] as const
export const scarceSku = "POSTER-MAP"

export interface EdgeAccess {
  readonly url: string
  /** The edge API key (first of EDGE_API_KEYS, `dev-edge-key` by default). */
  readonly key: string
}

export interface Placed {
  readonly orderId: string
  readonly kind: "approved" | "capture_declined" | "scarce"
  readonly cancel: boolean
}

export interface LoadStats {
  readonly placed: number
  readonly declinedAtCheckout: number
  readonly cancelRequests: number
  readonly errors: number
  readonly lastError: string | null
}

const zero: LoadStats = { placed: 0, declinedAtCheckout: 0, cancelRequests: 0, errors: 0, lastError: null }

/** One checkout of the demo's mix; the card and lines say how it should end. */
const pickCheckout = Effect.gen(function*() {
  const roll = yield* Random.next
  const kind: Placed["kind"] | "declined" = roll < 0.1
    ? "declined"
    : roll < 0.18
    ? "capture_declined"
    : roll < 0.3
    ? "scarce"
    : "approved"
  const lines = new Map<string, number>()
  const count = yield* Random.nextIntBetween(1, 3)
  for (let i = 0; i < count; i++) {
    const sku = everyday[yield* Random.nextIntBetween(0, everyday.length)]!
    lines.set(sku, (lines.get(sku) ?? 0) + (yield* Random.nextIntBetween(1, 3)))
  }
  if (kind === "scarce") lines.set(scarceSku, yield* Random.nextIntBetween(2, 5))
  const currency = (yield* Random.next) < 0.2 ? "USD" : "EUR"
  const cardToken = kind === "declined"
    ? "tok_declined"
    : kind === "capture_declined"
    ? "tok_capture_declined"
    : "tok_visa"
  const cancel = kind !== "declined" && (yield* Random.next) < 0.1
  return {
    kind,
    cancel,
    body: {
      customerId: `demo-${yield* Random.nextIntBetween(1, 200)}`,
      items: [...lines].map(([sku, quantity]) => ({ sku, quantity })),
      currency,
      cardToken
    }
  }
})

/** A POST to the edge with the edge key; retried on 5xx and transport errors with the same idempotency key. */
const post = (edge: EdgeAccess, path: string, body: unknown) =>
  Effect.gen(function*() {
    const key = randomUUID()
    const send = Effect.tryPromise(() =>
      fetch(`${edge.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${edge.key}`, "idempotency-key": key, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000)
      }).then(async (response) => ({ status: response.status, body: await response.text() }))
    )
    const attempt = Effect.filterOrFail(
      send,
      (response) => response.status < 500,
      (response) => new Error(`${response.status} ${response.body}`)
    )
    return yield* attempt.pipe(
      Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.intersect(Schedule.recurs(10))))
    )
  })

/**
 * Places checkouts through the edge API at `rate` per second (up to `limit`, or forever), with
 * the demo's mix: declined cards (refused at checkout), capture declines (the saga compensates),
 * bulk orders of the scarce sku (cancelled once it runs out) and some cancellations requested
 * shortly after placing. Every accepted order is reported to `onPlaced`.
 */
export const runLoad = (options: {
  readonly edge: EdgeAccess
  readonly rate: number
  readonly limit: Option.Option<number>
  readonly stats: Ref.Ref<LoadStats>
  readonly onPlaced: (placed: Placed) => Effect.Effect<void>
}) =>
  Effect.gen(function*() {
    const inFlight = yield* Effect.makeSemaphore(32)
    const note = (f: (s: LoadStats) => LoadStats) => Ref.update(options.stats, f)
    const one = Effect.gen(function*() {
      const checkout = yield* pickCheckout
      const response = yield* post(options.edge, "/checkout", checkout.body)
      if (response.status === 402) return yield* note((s) => ({ ...s, declinedAtCheckout: s.declinedAtCheckout + 1 }))
      if (response.status !== 202) {
        return yield* note((s) => ({
          ...s,
          errors: s.errors + 1,
          lastError: `checkout ${response.status} ${response.body}`
        }))
      }
      const { orderId } = JSON.parse(response.body) as { orderId: string }
      yield* note((s) => ({ ...s, placed: s.placed + 1 }))
      yield* options.onPlaced({ orderId, kind: checkout.kind as Placed["kind"], cancel: checkout.cancel })
      if (checkout.cancel) {
        yield* Effect.sleep(Duration.millis(300 + (yield* Random.nextIntBetween(0, 1500))))
        const cancelled = yield* post(options.edge, `/orders/${orderId}/cancel`, {
          reason: "customer changed their mind"
        })
        yield* cancelled.status === 202
          ? note((s) => ({ ...s, cancelRequests: s.cancelRequests + 1 }))
          : note((s) => ({ ...s, errors: s.errors + 1, lastError: `cancel ${cancelled.status} ${cancelled.body}` }))
      }
    }).pipe(
      Effect.catchAll((error) => note((s) => ({ ...s, errors: s.errors + 1, lastError: String(error) }))),
      inFlight.withPermits(1)
    )
    const running = yield* FiberSet.make<void>()
    const every = Duration.millis(1000 / options.rate)
    for (let i = 0; Option.isNone(options.limit) || i < options.limit.value; i++) {
      yield* FiberSet.run(running, one)
      yield* Effect.sleep(every)
    }
    yield* FiberSet.awaitEmpty(running)
  }).pipe(Effect.scoped)

export const emptyStats = zero
