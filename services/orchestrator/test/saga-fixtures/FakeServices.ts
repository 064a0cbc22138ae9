/**
 * Unit-test doubles for the three services: one in-memory HttpClient behind the real typed clients
 * (derived from the contracts), so the saga's requests, idempotency keys and the decoding of typed
 * errors are the real ones. Every request is recorded; a script may answer it differently from the
 * default success (a typed error, a 503, a transport error, or never).
 */
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"

export interface Call {
  readonly service: "orders" | "inventory" | "payments"
  readonly method: string
  readonly path: string
  /** `POST /reservations`, `POST /payments/capture`, ... (ids dropped) */
  readonly endpoint: string
  readonly key: string | undefined
  /** How many times this endpoint was called before, within this fake. */
  readonly previous: number
}

export type Reply =
  | { readonly _tag: "status"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "transport" }
  | { readonly _tag: "never" }

export const reply = {
  error: (status: number, body: Record<string, unknown>): Reply => ({ _tag: "status", status, body }),
  unavailable: { _tag: "status", status: 503, body: { _tag: "ServiceUnavailable", message: "injected" } } as Reply,
  transport: { _tag: "transport" } as Reply,
  never: { _tag: "never" } as Reply
}

export type Script = (call: Call) => Reply | undefined

const uuidLike = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export interface OrderFixture {
  readonly orderId: string
  readonly authorizationId: string
  readonly customerId: string
  readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number; readonly unitPrice: number }>
  readonly amount: number
  readonly currency: string
}

const defaultReply = (order: OrderFixture, call: Call): Reply => {
  const orderBody = (status: string) => ({ ...order, authorizationId: undefined, status, reason: status === "CANCELLED" ? "x" : null })
  const payment = (status: string) => ({
    authorizationId: order.authorizationId,
    orderId: order.orderId,
    amount: order.amount,
    currency: order.currency,
    status
  })
  const reservation = (status: string) => ({
    orderId: order.orderId,
    status,
    items: order.items.map(({ quantity, sku }) => ({ sku, quantity }))
  })
  switch (call.endpoint) {
    case "POST /orders":
      return { _tag: "status", status: 201, body: orderBody("PENDING") }
    case "POST /orders/confirmation":
      return { _tag: "status", status: 200, body: orderBody("CONFIRMED") }
    case "POST /orders/cancellation":
      return { _tag: "status", status: 200, body: orderBody("CANCELLED") }
    case "POST /reservations":
      return { _tag: "status", status: 201, body: reservation("HELD") }
    case "DELETE /reservations":
      return { _tag: "status", status: 200, body: reservation("RELEASED") }
    case "POST /payments/capture":
      return { _tag: "status", status: 200, body: payment("CAPTURED") }
    case "POST /payments/void":
      return { _tag: "status", status: 200, body: payment("VOIDED") }
    case "POST /payments/refund":
      return { _tag: "status", status: 200, body: payment("REFUNDED") }
    default:
      return { _tag: "status", status: 404, body: { message: `no fake for ${call.endpoint}` } }
  }
}

export const makeFakeServices = (order: OrderFixture, script: Script = () => undefined) => {
  const calls: Array<Call> = []
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      const service = url.hostname.split(".")[0] as Call["service"]
      const endpoint = `${request.method} ${url.pathname.split("/").filter((part) => part !== "" && !uuidLike.test(part)).map((p) => `/${p}`).join("")}`
      const call: Call = {
        service,
        method: request.method,
        path: url.pathname,
        endpoint,
        key: request.headers["idempotency-key"],
        previous: calls.filter((c) => c.endpoint === endpoint).length
      }
      calls.push(call)
      const answer = script(call) ?? defaultReply(order, call)
      switch (answer._tag) {
        case "never":
          return Effect.never
        case "transport":
          return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", description: "connection refused" }))
        case "status":
          return Effect.succeed(
            HttpClientResponse.fromWeb(
              request,
              new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "content-type": "application/json" } })
            )
          )
      }
    })
  )
  const token = Redacted.make("unit-test-token")
  const layer = Layer.mergeAll(
    OrdersClient.layer({ baseUrl: "http://orders.test", token }),
    InventoryClient.layer({ baseUrl: "http://inventory.test", token }),
    PaymentsClient.layer({ baseUrl: "http://payments.test", token })
  ).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))
  return { calls, layer }
}
