import type { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { Layer } from "effect"
import { WorkerLive } from "../outbox/Worker.ts"
import { checkDeploySafety } from "../saga/DeploySafety.ts"
import { SagaHandlersLive } from "../saga/SagaHandlers.ts"
import { SagaSettings } from "../saga/SagaSettings.ts"
import { DownstreamLive } from "./Downstream.ts"
import { Sagas } from "./registry.ts"

/**
 * The worker with the sagas registered. Deploy safety is built before the worker, so a refused
 * start happens before anything is claimed. Needs the three clients, a SqlClient, DatabaseConfig.
 */
export const SagaWorkerLive = <E, R>(clients: Layer.Layer<OrdersClient | InventoryClient | PaymentsClient, E, R>) =>
  WorkerLive.pipe(
    Layer.provide(Layer.merge(SagaHandlersLive(Sagas), Layer.effectDiscard(checkDeploySafety(Sagas)))),
    Layer.provide(DownstreamLive),
    Layer.provide(clients),
    Layer.provide(SagaSettings.Live)
  )
