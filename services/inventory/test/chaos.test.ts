import { OrderId, ReservationLine, ReserveStock, SetStock, Sku } from "@ecommerce/contracts"
import { TestDatabaseLive } from "@ecommerce/db/testing"
import { InventoryClient } from "@ecommerce/http-kit/clients"
import { clientOf, freshKey, testServer } from "@ecommerce/http-kit/testing"
import { HttpClientError } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { InventoryApiLive } from "../src/Http.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

/** A client of a server with the given chaos, on the file's shared test database. */
const chaoticClient = (chaos: { failBeforeRate: number; failAfterRate: number }) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Layer.buildWithScope(
      clientOf(InventoryClient.layer).pipe(
        Layer.provide(testServer({ api: InventoryApiLive, role: "inventory", chaos }))
      ),
      scope
    )
    return yield* Effect.provide(InventoryClient, context)
  })

const sku = Sku.make(`CHAOS-${randomUUID().slice(0, 8).toUpperCase()}`)

const is503 = (error: unknown) => error instanceof HttpClientError.ResponseError && error.response.status === 503

layer(Layer.merge(TestDatabaseLive(adminUrl, template), NodeHttpClient.layerUndici), { excludeTestServices: true })(
  "chaos settings",
  (it) => {
    it.scoped("CHAOS_FAIL_BEFORE_RATE=1 answers 503 and does nothing; health is exempt", () =>
      Effect.gen(function*() {
        const healthy = yield* chaoticClient({ failBeforeRate: 0, failAfterRate: 0 })
        const broken = yield* chaoticClient({ failBeforeRate: 1, failAfterRate: 0 })
        yield* healthy.stock.set({ path: { sku }, headers: freshKey(), payload: new SetStock({ onHand: 5 }) })
        const error = yield* Effect.flip(
          broken.stock.set({ path: { sku }, headers: freshKey(), payload: new SetStock({ onHand: 9 }) })
        )
        expect(is503(error)).toBe(true)
        expect((yield* healthy.stock.get({ path: { sku } })).onHand).toBe(5)
        expect((yield* broken.health.health()).status).toBe("ok")
      }))

    it.scoped("CHAOS_FAIL_AFTER_RATE=1 commits the effect, loses the response; a retry replays it", () =>
      Effect.gen(function*() {
        const healthy = yield* chaoticClient({ failBeforeRate: 0, failAfterRate: 0 })
        const lossy = yield* chaoticClient({ failBeforeRate: 0, failAfterRate: 1 })
        const other = Sku.make(`LOST-${randomUUID().slice(0, 8).toUpperCase()}`)
        yield* healthy.stock.set({ path: { sku: other }, headers: freshKey(), payload: new SetStock({ onHand: 10 }) })
        const headers = freshKey()
        const payload = new ReserveStock({
          orderId: OrderId.make(randomUUID()),
          items: [new ReservationLine({ sku: other, quantity: 4 })]
        })
        const error = yield* Effect.flip(lossy.reservations.reserve({ headers, payload }))
        expect(is503(error)).toBe(true)
        // The reservation happened although the caller saw a 503 ...
        expect((yield* healthy.stock.get({ path: { sku: other } })).reserved).toBe(4)
        // ... and the caller's retry with the same key gets the stored answer, not a second effect.
        const retried = yield* healthy.reservations.reserve({ headers, payload })
        expect(retried.status).toBe("HELD")
        expect((yield* healthy.stock.get({ path: { sku: other } })).reserved).toBe(4)
      }))
  }
)
