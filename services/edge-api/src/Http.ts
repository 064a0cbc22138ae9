import { CatalogueListing, EdgeApi, type EdgeAuthorization } from "@ecommerce/contracts"
import { HealthLive } from "@ecommerce/http-kit"
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Checkout } from "./Checkout.ts"
import { CheckoutRecovery, CheckoutRecoveryLive } from "./CheckoutRecovery.ts"
import { EdgeAuthLive } from "./EdgeAuth.ts"
import { LedgerRepo } from "./LedgerRepo.ts"

const CheckoutLive = HttpApiBuilder.group(EdgeApi, "checkout", (handlers) =>
  Effect.gen(function*() {
    const checkout = yield* Checkout
    return handlers
      .handle("checkout", ({ headers, payload }) => checkout.checkout(headers["idempotency-key"], payload))
      .handle("getOrder", ({ path }) => checkout.getOrder(path.order_id))
      .handle("cancelOrder", ({ headers, path, payload }) =>
        checkout.cancelOrder(headers["idempotency-key"], path.order_id, payload))
  }))

const CatalogueLive = HttpApiBuilder.group(
  EdgeApi,
  "catalogue",
  (handlers) =>
    Effect.map(LedgerRepo, (repo) =>
      handlers.handle("list", () =>
        repo.catalogue.pipe(
          Effect.map((items) => new CatalogueListing({ items })),
          Effect.withSpan("Catalogue.list")
        )))
)

/**
 * The edge HttpApi with the given client authentication, and the recovery loop that voids the
 * holds of abandoned checkouts; needs the pool (SqlClient) and a `PaymentsClient`.
 */
export const makeEdgeApi = <E, R>(auth: Layer.Layer<EdgeAuthorization, E, R>) =>
  HttpApiBuilder.api(EdgeApi).pipe(
    Layer.provide([HealthLive(EdgeApi, "edge-api"), CheckoutLive, CatalogueLive]),
    Layer.provide(auth),
    Layer.merge(CheckoutRecoveryLive),
    Layer.provide([Checkout.Default, LedgerRepo.Default]),
    Layer.provide(CheckoutRecovery.Default)
  )

/** The edge HttpApi with client keys from `EDGE_API_KEYS`. */
export const EdgeApiLive = makeEdgeApi(EdgeAuthLive)

export { CheckoutRecoveryMs } from "./CheckoutRecovery.ts"
export { EdgeApiKeys, EdgeAuth, EdgeAuthLive } from "./EdgeAuth.ts"
