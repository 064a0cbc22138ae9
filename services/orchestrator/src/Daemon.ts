import { PgLive } from "@ecommerce/db"
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { withObservability } from "@ecommerce/telemetry"
import { SqlClient } from "@effect/sql"
import { Config, Effect, Layer } from "effect"
import { withExitDeadline } from "./ExitDeadline.ts"
import { SagaConfig } from "./saga/SagaConfig.ts"
import { SagaWorkerLive } from "./sagas/SagaWorkerLive.ts"
import { WorkerConfig } from "./WorkerConfig.ts"

/** ORDERS_SERVICE_URL, INVENTORY_SERVICE_URL, PAYMENTS_SERVICE_URL and SERVICE_TOKEN. */
const ClientsLive = Layer.mergeAll(OrdersClient.Live, InventoryClient.Live, PaymentsClient.Live)

const maxConnections = 4

const PoolLive = PgLive({ applicationName: "orchestrator", maxConnections })

/**
 * Opens the rest of the pool in the background as soon as the first connection answers. Startup
 * then finds its connections ready: deploy safety, the first sweeps (and their periodic passes,
 * which start at once) and the replica's registration run side by side, and each new connection
 * costs a SCRAM handshake (about 20-30 ms, most of it waiting) that would otherwise delay the
 * registration. Failures are ignored: the statements that need a connection report their own.
 */
const WarmPool = Layer.scopedDiscard(
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forkScoped(
      Effect.all(Array.from({ length: maxConnections }, () => sql`select 1`), {
        concurrency: "unbounded",
        discard: true
      }).pipe(Effect.ignore)
    ))
)

/**
 * What the worker needs from outside, built side by side: the pool (connect, authenticate,
 * `SELECT 1`: mostly waiting on the network and the server) and the three HTTP clients (deriving
 * them from the contracts is CPU work), so neither waits for the other. SagaWorkerLive provides the
 * same ClientsLive again; layers are memoized by reference within one build, so it is built once.
 */
const Dependencies = Layer.mergeAll(Layer.provideMerge(WarmPool, PoolLive), ClientsLive)

const MainLive = withExitDeadline(SagaWorkerLive(ClientsLive).pipe(Layer.provide(Dependencies)))

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
