import { PgLive } from "@ecommerce/db"
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { Effect, Layer } from "effect"
import { LoggingLive } from "./Logging.ts"
import { SagaConfig } from "./saga/SagaConfig.ts"
import { SagaWorkerLive } from "./sagas/SagaWorkerLive.ts"
import { reportStartupFailure } from "./StartupFailure.ts"
import { WorkerConfig } from "./WorkerConfig.ts"

/** ORDERS_SERVICE_URL, INVENTORY_SERVICE_URL, PAYMENTS_SERVICE_URL and SERVICE_TOKEN. */
const ClientsLive = Layer.mergeAll(OrdersClient.Live, InventoryClient.Live, PaymentsClient.Live)

const MainLive = SagaWorkerLive(ClientsLive).pipe(
  Layer.provide(PgLive({ applicationName: "orchestrator", maxConnections: 4 }))
)

/**
 * The orchestrator daemon: one replica, until interrupted. `npm run worker` (src/main.ts) and
 * `orchestrator run` both run this program. Settings are validated before anything connects, so
 * a typo fails in milliseconds, not after a retry loop. The report sits outside LoggingLive so
 * that a bad LOG_LEVEL is reported too (by the default logger).
 */
export const daemon = Effect.all([WorkerConfig, SagaConfig]).pipe(
  Effect.zipRight(Layer.launch(MainLive)),
  Effect.provide(LoggingLive),
  Effect.tapError(reportStartupFailure)
)
