import type { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { Effect, Layer } from "effect"
import { WorkerLive } from "../outbox/Worker.ts"
import { startDeadLetterSweep } from "../saga/DeadLetterSweep.ts"
import { checkDeploySafety } from "../saga/DeploySafety.ts"
import { SagaHandlersLive } from "../saga/SagaHandlers.ts"
import { SagaSettings } from "../saga/SagaSettings.ts"
import { DownstreamLive } from "./Downstream.ts"
import { Sagas } from "./registry.ts"

/**
 * The worker with the sagas registered. Deploy safety is built before the worker, so a refused
 * start happens before anything is claimed; then the first sweep for sagas whose trigger event is
 * dead, which keeps running periodically beside the worker. Needs the three clients, a SqlClient,
 * DatabaseConfig.
 */
const BeforeTheWorker = Layer.scopedDiscard(Effect.zipRight(checkDeploySafety(Sagas), startDeadLetterSweep(Sagas)))

export const SagaWorkerLive = <E, R>(clients: Layer.Layer<OrdersClient | InventoryClient | PaymentsClient, E, R>) =>
  WorkerLive.pipe(
    Layer.provide(Layer.merge(SagaHandlersLive(Sagas), BeforeTheWorker)),
    Layer.provide(DownstreamLive),
    Layer.provide(clients),
    Layer.provide(SagaSettings.Live)
  )
