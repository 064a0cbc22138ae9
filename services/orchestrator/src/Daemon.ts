import { PgLive } from "@ecommerce/db"
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { withObservability } from "@ecommerce/telemetry"
import { Config, Effect, Layer } from "effect"
import { SagaConfig } from "./saga/SagaConfig.ts"
import { SagaWorkerLive } from "./sagas/SagaWorkerLive.ts"
import { WorkerConfig } from "./WorkerConfig.ts"

/** ORDERS_SERVICE_URL, INVENTORY_SERVICE_URL, PAYMENTS_SERVICE_URL and SERVICE_TOKEN. */
const ClientsLive = Layer.mergeAll(OrdersClient.Live, InventoryClient.Live, PaymentsClient.Live)

const MainLive = SagaWorkerLive(ClientsLive).pipe(
  Layer.provide(PgLive({ applicationName: "orchestrator", maxConnections: 4 }))
)

/**
 * The orchestrator daemon: one replica, until interrupted. `npm run worker` (src/main.ts) and
 * `orchestrator run` both run this program. Settings are validated before anything connects, so
 * a typo fails in milliseconds, not after a retry loop. withObservability installs the shared
 * logger and OTLP export, and reports any failure as one line, a bad LOG_FORMAT or LOG_LEVEL included.
 */
export const daemon = Effect.all([WorkerConfig, SagaConfig]).pipe(
  Effect.zipRight(Layer.launch(MainLive)),
  withObservability({ serviceName: "orchestrator", instanceId: Config.map(WorkerConfig, (config) => config.workerId) })
)
