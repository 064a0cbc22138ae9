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
import { type HttpApi, HttpApiClient, type HttpApiGroup, HttpClient, HttpClientRequest } from "@effect/platform"
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

/**
 * A client Tag for `api`, with `layer` and `Live` as described above, declared as `Context.Tag` is:
 * `class OrdersClient extends ServiceClient(id, OrdersApi, settings(...))<OrdersClient>() {}`.
 */
const ServiceClient = <ApiId extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, ApiError, ApiR>(
  id: string,
  api: HttpApi.HttpApi<ApiId, Groups, ApiError, ApiR>,
  settings: Config.Config<ClientOptions>
) =>
<Self>() => {
  const make = (options: ClientOptions) => HttpApiClient.make(api, clientOptions(options))
  const Tag = Context.Tag(id)<Self, Effect.Effect.Success<ReturnType<typeof make>>>()
  return class extends Tag {
    static readonly layer = (options: ClientOptions) => Layer.effect(Tag, make(options))
    static readonly Live = Layer.effect(Tag, Effect.flatMap(settings, make)).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
  }
}

export class OrdersClient extends ServiceClient(
  "@ecommerce/http-kit/OrdersClient",
  OrdersApi,
  settings("ORDERS_SERVICE_URL", "http://localhost:3003")
)<OrdersClient>() {}

export class InventoryClient extends ServiceClient(
  "@ecommerce/http-kit/InventoryClient",
  InventoryApi,
  settings("INVENTORY_SERVICE_URL", "http://localhost:3001")
)<InventoryClient>() {}

export class PaymentsClient extends ServiceClient(
  "@ecommerce/http-kit/PaymentsClient",
  PaymentsApi,
  settings("PAYMENTS_SERVICE_URL", "http://localhost:3002")
)<PaymentsClient>() {}

export class EdgeApiClient extends ServiceClient(
  "@ecommerce/http-kit/EdgeApiClient",
  EdgeApi,
  settings("EDGE_API_URL", "http://localhost:3000")
)<EdgeApiClient>() {}
