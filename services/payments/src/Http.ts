import { PaymentsApi } from "@ecommerce/contracts"
import { HealthLive } from "@ecommerce/http-kit"
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { AuthorizationExpiryLive } from "./AuthorizationExpiry.ts"
import { Payments } from "./Payments.ts"
import { PaymentsRepo } from "./PaymentsRepo.ts"

const PaymentsLive = HttpApiBuilder.group(PaymentsApi, "payments", (handlers) =>
  Effect.gen(function*() {
    const payments = yield* Payments
    return handlers
      .handle("authorize", ({ headers, payload }) => payments.authorize(headers["idempotency-key"], payload))
      .handle("capture", ({ headers, path, payload }) =>
        payments.capture(headers["idempotency-key"], path.authorization_id, payload))
      .handle("void", ({ headers, path }) =>
        payments.void(headers["idempotency-key"], path.authorization_id))
      .handle("refund", ({ headers, path }) => payments.refund(headers["idempotency-key"], path.authorization_id))
      .handle("get", ({ path }) => payments.get(path.authorization_id))
      .handle("getByOrder", ({ path }) => payments.getByOrder(path.order_id))
  }))

/**
 * The payments HttpApi and its expiry of old holds (AUTHORIZATION_TTL); needs the pool (SqlClient)
 * and the `Authorization` implementation.
 */
export const PaymentsApiLive = HttpApiBuilder.api(PaymentsApi).pipe(
  Layer.provide([HealthLive(PaymentsApi, "payments"), PaymentsLive]),
  Layer.provide(Payments.Default),
  Layer.merge(AuthorizationExpiryLive.pipe(Layer.provide(PaymentsRepo.Default)))
)

export { AuthorizationTtl } from "./AuthorizationExpiry.ts"
