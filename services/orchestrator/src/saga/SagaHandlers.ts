import { Effect, Layer } from "effect"
import { type EventHandler, EventHandlers, PingHandler } from "../outbox/EventHandler.ts"
import { sagaHandler } from "./Engine.ts"
import type { AnySaga } from "./Saga.ts"

/** The worker's handler registry: Ping plus one handler per saga, keyed by its trigger event. */
export const SagaHandlersLive = <R>(
  sagas: ReadonlyArray<AnySaga<R>>,
  extra: ReadonlyArray<EventHandler> = [PingHandler]
) =>
  Layer.effect(
    EventHandlers,
    Effect.map(Effect.forEach(sagas, sagaHandler), (handlers) => EventHandlers.make([...extra, ...handlers]))
  )
