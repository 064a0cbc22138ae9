/**
 * Typed clients for the services, derived with `HttpApiClient.make` from @ecommerce/contracts, with
 * the `Authorization: Bearer <SERVICE_TOKEN>` header added to every request. Each tag has:
 * - `layer({ baseUrl, token })`: needs an `HttpClient` (tests, custom transports);
 * - `Live`: URL and token from Config (`<SERVICE>_SERVICE_URL`, `SERVICE_TOKEN`), on Node's HTTP client.
 * Errors: each method fails with the endpoint's typed errors (see the contracts), `Unauthorized`,
 * `HttpApiDecodeError`, `HttpClientError` (transport failures, and statuses the contract does not
 * declare such as an injected 503) and `ParseError` (a response that does not match the contract).
 */
import { EdgeApi, InventoryApi, OrdersApi, PaymentsApi } from "@ecommerce/contracts"
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Context, Effect, Layer, Redacted } from "effect"
import { ServiceToken } from "./ServiceToken.ts"

export interface ClientOptions {
  readonly baseUrl: string
  readonly token: Redacted.Redacted<string>
}

const withBearer = (token: Redacted.Redacted<string>) => (client: HttpClient.HttpClient) =>
  HttpClient.mapRequest(client, HttpClientRequest.bearerToken(token))

const clientOptions = (options: ClientOptions) => ({
  baseUrl: options.baseUrl,
  transformClient: withBearer(options.token)
})

const isHttpUrl = (value: string) => {
  try {
    const url = new URL(value)
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== ""
  } catch {
    return false
  }
}

const settings = (urlSetting: string, fallback: string) =>
  Config.all({
    baseUrl: Config.string(urlSetting).pipe(
      Config.validate({ message: "must be an http:// or https:// URL", validation: isHttpUrl }),
      Config.withDefault(fallback)
    ),
    token: ServiceToken
  })

const makeOrders = (options: ClientOptions) => HttpApiClient.make(OrdersApi, clientOptions(options))
const makeInventory = (options: ClientOptions) => HttpApiClient.make(InventoryApi, clientOptions(options))
const makePayments = (options: ClientOptions) => HttpApiClient.make(PaymentsApi, clientOptions(options))
const makeEdge = (options: ClientOptions) => HttpApiClient.make(EdgeApi, clientOptions(options))

export class OrdersClient extends Context.Tag("@ecommerce/http-kit/OrdersClient")<
  OrdersClient,
  Effect.Effect.Success<ReturnType<typeof makeOrders>>
>() {
  static readonly layer = (options: ClientOptions) => Layer.effect(OrdersClient, makeOrders(options))
  static readonly Live = Layer.effect(
    OrdersClient,
    Effect.flatMap(settings("ORDERS_SERVICE_URL", "http://localhost:3003"), makeOrders)
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
}

export class InventoryClient extends Context.Tag("@ecommerce/http-kit/InventoryClient")<
  InventoryClient,
  Effect.Effect.Success<ReturnType<typeof makeInventory>>
>() {
  static readonly layer = (options: ClientOptions) => Layer.effect(InventoryClient, makeInventory(options))
  static readonly Live = Layer.effect(
    InventoryClient,
    Effect.flatMap(settings("INVENTORY_SERVICE_URL", "http://localhost:3001"), makeInventory)
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
}

export class PaymentsClient extends Context.Tag("@ecommerce/http-kit/PaymentsClient")<
  PaymentsClient,
  Effect.Effect.Success<ReturnType<typeof makePayments>>
>() {
  static readonly layer = (options: ClientOptions) => Layer.effect(PaymentsClient, makePayments(options))
  static readonly Live = Layer.effect(
    PaymentsClient,
    Effect.flatMap(settings("PAYMENTS_SERVICE_URL", "http://localhost:3002"), makePayments)
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
}

export class EdgeApiClient extends Context.Tag("@ecommerce/http-kit/EdgeApiClient")<
  EdgeApiClient,
  Effect.Effect.Success<ReturnType<typeof makeEdge>>
>() {
  static readonly layer = (options: ClientOptions) => Layer.effect(EdgeApiClient, makeEdge(options))
  static readonly Live = Layer.effect(
    EdgeApiClient,
    Effect.flatMap(settings("EDGE_API_URL", "http://localhost:3000"), makeEdge)
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
}
