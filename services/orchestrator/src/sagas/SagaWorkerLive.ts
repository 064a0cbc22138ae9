import type { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { Effect, Layer } from "effect"
import { WorkerLive } from "../outbox/Worker.ts"
import { startDeadLetterSweep } from "../saga/DeadLetterSweep.ts"
import { checkDeploySafety } from "../saga/DeploySafety.ts"
import { startRetention } from "../saga/Retention.ts"
import { SagaHandlersLive } from "../saga/SagaHandlers.ts"
import { SagaRepo } from "../saga/SagaRepo.ts"
import { SagaSettings } from "../saga/SagaSettings.ts"
import { sweepSchedule } from "../saga/Schedules.ts"
import { retryAtStartup } from "../saga/Startup.ts"
import { DownstreamLive } from "./Downstream.ts"
import { LedgerRepo } from "./LedgerRepo.ts"
import { Sagas } from "./registry.ts"
import { markStrandedOrders } from "./StrandedOrders.ts"

/** Orders whose OrderPlaced event died before a saga existed: now, then on the sweep's schedule. */
const startStrandedOrdersSweep = Effect.gen(function*() {
  const settings = yield* SagaSettings
  const pass = markStrandedOrders.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("stranded-order sweep failed; the next one retries", cause))
  )
  yield* pass
  // `schedule` waits before each pass (`repeat` would run a second pass at once).
  yield* Effect.forkScoped(Effect.schedule(pass, sweepSchedule(settings.deadLetterSweepMs)))
}).pipe(Effect.annotateLogs({ saga_sweep: "stranded_orders" }))

const BeforeTheWorker = Layer.scopedDiscard(
  retryAtStartup("deploy safety check", checkDeploySafety(Sagas)).pipe(
    Effect.zipRight(startDeadLetterSweep(Sagas)),
    Effect.zipRight(startStrandedOrdersSweep),
    Effect.zipRight(startRetention)
  )
)

/**
 * The worker with the sagas registered. Deploy safety is built before the worker, so a refused
 * start happens before anything is claimed; then the first sweep for sagas whose trigger event is
 * dead, which keeps running periodically beside the worker, and the retention of finished sagas.
 * Deploy safety retries database errors within STARTUP_TIMEOUT_MS. Needs the three clients, a
 * SqlClient, DatabaseConfig.
 */
export const SagaWorkerLive = <E, R>(clients: Layer.Layer<OrdersClient | InventoryClient | PaymentsClient, E, R>) =>
  WorkerLive.pipe(
    Layer.provide(Layer.merge(SagaHandlersLive(Sagas), BeforeTheWorker)),
    Layer.provide(Layer.mergeAll(DownstreamLive, SagaRepo.Default, LedgerRepo.Default)),
    Layer.provide(clients),
    Layer.provide(SagaSettings.Live)
  )
