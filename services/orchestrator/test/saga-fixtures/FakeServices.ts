/**
 * Unit-test doubles for the three services: one in-memory HttpClient behind the real typed clients
 * (derived from the contracts), so the saga's requests, idempotency keys and the decoding of typed
 * errors are the real ones. Every request is recorded; a script may answer it differently from the
 * default success (a typed error, a 503, a transport error, or never).
 */
import * as Contracts from "@ecommerce/contracts"
import { Order, type OrderPlaced, Payment, Reservation, ReservationLine } from "@ecommerce/contracts"
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { HttpApiSchema, HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Redacted, Schema } from "effect"

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

export type Script = (call: Call) => Reply | undefined

const uuidLike = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const ok = <A, I>(status: number, schema: Schema.Schema<A, I>, value: A): Reply => ({
  _tag: "status",
  status,
  body: Schema.encodeSync(schema)(value)
})

/** A contract's typed error class: a Schema whose instances carry its `_tag`. */
type ContractError = Schema.Schema.AnyNoContext & { readonly _tag: string }

const isContractError = (value: unknown): value is ContractError =>
  typeof value === "function" && Schema.isSchema(value) && typeof (value as { _tag?: unknown })._tag === "string"

/** Every typed error the contracts declare, by tag: found, not listed, so a new one needs no edit here. */
const contractErrors = new Map(
  (Object.values(Contracts) as ReadonlyArray<unknown>).filter(isContractError).map((error) =>
    [error._tag, error] as const
  )
)

const contractErrorFor = (tag: unknown): ContractError => {
  const schema = typeof tag === "string" ? contractErrors.get(tag) : undefined
  if (schema === undefined) throw new Error(`FakeServices: ${String(tag)} is not an error the contracts declare`)
  return schema
}

/** A contract error's answer: the status its endpoints declare, the body encoded with its Schema. */
const contractReply = (schema: ContractError, value: { readonly _tag: string }, status?: number): Reply => {
  const declared = HttpApiSchema.getStatusError(schema)
  if (status !== undefined && status !== declared) {
    throw new Error(`FakeServices: the contracts answer ${schema._tag} with ${declared}, not ${status}`)
  }
  return ok(declared, schema, value)
}

/** A typed error of a contract, encoded with its own Schema (status as the contract declares it). */
export const typedError = <A, I>(status: number, schema: Schema.Schema<A, I>, value: A): Reply =>
  isContractError(schema)
    ? contractReply(schema, value as { readonly _tag: string }, status)
    : ok(status, schema, value)

/**
 * A contract error as the service would answer it. Give the error itself (`new PaymentDeclined({ ... })`:
 * typed, status from the contract); a `(status, body)` pair is checked the same way: the body must
 * decode as the contract error its `_tag` names, and the status must be the one the contract declares,
 * so a double cannot drift from the contract.
 */
function error(value: { readonly _tag: string }): Reply
function error(status: number, body: Record<string, unknown>): Reply
function error(statusOrError: number | { readonly _tag: string }, body?: Record<string, unknown>): Reply {
  if (typeof statusOrError !== "number") return contractReply(contractErrorFor(statusOrError._tag), statusOrError)
  const schema = contractErrorFor(body?._tag)
  return contractReply(schema, Schema.decodeUnknownSync(schema)(body), statusOrError)
}

export const reply = {
  error,
  /**
   * What a service's chaos middleware (http-kit's Chaos.ts) answers: no contract declares a 503, the
   * clients classify it by status.
   */
  unavailable: { _tag: "status", status: 503, body: { _tag: "ServiceUnavailable", message: "injected" } } as Reply,
  transport: { _tag: "transport" } as Reply,
  never: { _tag: "never" } as Reply
}

/** What each service answers by default: success, encoded with the contract's Schema. */
const defaultReply = (order: OrderPlaced, call: Call): Reply => {
  const orderBody = (status: Order["status"]) =>
    new Order({
      orderId: order.orderId,
      customerId: order.customerId,
      items: order.items,
      amount: order.amount,
      currency: order.currency,
      status,
      reason: status === "CANCELLED" ? "x" : null
    })
  const payment = (status: Payment["status"]) =>
    new Payment({
      authorizationId: order.authorizationId,
      orderId: order.orderId,
      amount: order.amount,
      currency: order.currency,
      status
    })
  const reservation = (status: Reservation["status"]) =>
    new Reservation({
      orderId: order.orderId,
      status,
      items: order.items.map(({ quantity, sku }) => new ReservationLine({ sku, quantity }))
    })
  switch (call.endpoint) {
    case "POST /orders":
      return ok(201, Order, orderBody("PENDING"))
    case "POST /orders/confirmation":
      return ok(200, Order, orderBody("CONFIRMED"))
    case "POST /orders/cancellation":
      return ok(200, Order, orderBody("CANCELLED"))
    case "POST /reservations":
      return ok(201, Reservation, reservation("HELD"))
    case "DELETE /reservations":
      return ok(200, Reservation, reservation("RELEASED"))
    case "GET /payments":
      return ok(200, Payment, payment("AUTHORIZED"))
    case "POST /payments/capture":
      return ok(200, Payment, payment("CAPTURED"))
    case "POST /payments/void":
      return ok(200, Payment, payment("VOIDED"))
    case "POST /payments/refund":
      return ok(200, Payment, payment("REFUNDED"))
    default:
      return { _tag: "status", status: 404, body: { message: `no fake for ${call.endpoint}` } }
  }
}

export const makeFakeServices = (order: OrderPlaced, script: Script = () => undefined) => {
  const calls: Array<Call> = []
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      const service = url.hostname.split(".")[0] as Call["service"]
      const endpoint = `${request.method} ${
        url.pathname.split("/").filter((part) => part !== "" && !uuidLike.test(part)).map((p) => `/${p}`).join("")
      }`
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
          return Effect.fail(
            new HttpClientError.RequestError({ request, reason: "Transport", description: "connection refused" })
          )
        case "status":
          return Effect.succeed(
            HttpClientResponse.fromWeb(
              request,
              new Response(JSON.stringify(answer.body), {
                status: answer.status,
                headers: { "content-type": "application/json" }
              })
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
