/**
 * A real orchestrator worker (same layers as src/main.ts) whose inventory client never answers
 * `POST /reservations`: it prints "HOLDING <idempotency-key>" and waits, so a test can SIGKILL it
 * between the saga's createOrder and reserveStock steps. Settings come from the environment.
 */
import { PgLive } from "@ecommerce/db"
import { ServiceToken } from "@ecommerce/http-kit"
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { SagaWorkerLive } from "../../src/sagas/SagaWorkerLive.ts"

const Holding = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(
    HttpClient.HttpClient,
    (client) =>
      HttpClient.transform(
        client,
        (response, request) =>
          request.method === "POST" && request.url.endsWith("/reservations")
            ? Effect.zipRight(
              Effect.sync(() => console.log(`HOLDING ${request.headers["idempotency-key"]}`)),
              Effect.never
            )
            : response
      )
  )
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const client = <I, E, R>(
  setting: string,
  make: (o: { baseUrl: string; token: Config.Config.Success<typeof ServiceToken> }) => Layer.Layer<I, E, R>
) => Layer.unwrapEffect(Effect.map(Config.all({ baseUrl: Config.string(setting), token: ServiceToken }), make))

const Clients = Layer.mergeAll(
  client("ORDERS_SERVICE_URL", OrdersClient.layer),
  client("INVENTORY_SERVICE_URL", InventoryClient.layer),
  client("PAYMENTS_SERVICE_URL", PaymentsClient.layer)
).pipe(Layer.provide(Holding))

NodeRuntime.runMain(
  Layer.launch(
    SagaWorkerLive(Clients).pipe(Layer.provide(PgLive({ applicationName: "holding-worker", maxConnections: 4 })))
  )
)
