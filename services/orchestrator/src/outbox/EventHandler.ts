import { Context, Data, Effect, Layer, ParseResult, Schema } from "effect"

/** A claimed outbox row as a handler sees it. */
export interface OutboxEvent<A = unknown> {
  readonly id: string
  readonly eventId: string
  readonly aggregateType: string
  readonly aggregateId: string
  readonly eventType: string
  readonly payload: A
  readonly headers: Readonly<Record<string, unknown>>
  /** 1 on the first run; counts every run started, including ones cut short by a crash. */
  readonly attempt: number
  readonly createdAt: Date
}

/**
 * How a handler reports failure. `retryable: false` sends the event straight to `dead`;
 * `retryable: true` schedules another attempt with backoff until MAX_ATTEMPTS.
 */
export class HandlerError extends Data.TaggedError("HandlerError")<{
  readonly message: string
  readonly retryable: boolean
  readonly cause?: unknown
}> {}

/**
 * Not a failure: "run me again after `delayMs`". The event goes back to `pending` with that
 * availability, its attempt is not counted, and it keeps blocking later events of its aggregate.
 * Sagas use it to wait out a long backoff or an open circuit without holding a worker slot.
 */
export class Park extends Data.TaggedError("Park")<{
  readonly delayMs: number
  readonly reason: string
}> {}

/** The payload did not decode with the handler's Schema: never retried. */
export class InvalidPayload extends Data.TaggedError("InvalidPayload")<{ readonly message: string }> {}

export interface EventHandler {
  readonly eventType: string
  /** Decodes the payload with the handler's Schema, then handles it. */
  readonly run: (event: OutboxEvent) => Effect.Effect<void, HandlerError | Park | InvalidPayload>
}

export const makeHandler = <A, I>(
  eventType: string,
  payload: Schema.Schema<A, I>,
  handle: (event: OutboxEvent<A>) => Effect.Effect<void, HandlerError | Park>
): EventHandler => {
  const decode = Schema.decodeUnknown(payload, { errors: "all" })
  return {
    eventType,
    run: (event) =>
      decode(event.payload).pipe(
        Effect.mapError((error) =>
          new InvalidPayload({
            message: `payload does not match ${eventType}: ${
              ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, "; ")
            }`
          })
        ),
        Effect.flatMap((decoded) => handle({ ...event, payload: decoded }))
      )
  }
}

/** The health check and benchmark workload: accepts any payload, does nothing. */
export const PingHandler = makeHandler("Ping", Schema.Unknown, () => Effect.void)

/** The registry the worker dispatches on, keyed by `event_type`. */
export class EventHandlers extends Context.Tag("@ecommerce/orchestrator/EventHandlers")<
  EventHandlers,
  ReadonlyMap<string, EventHandler>
>() {
  static readonly make = (handlers: ReadonlyArray<EventHandler>): ReadonlyMap<string, EventHandler> => {
    const registry = new Map<string, EventHandler>()
    for (const handler of handlers) {
      if (registry.has(handler.eventType)) throw new Error(`two handlers registered for ${handler.eventType}`)
      registry.set(handler.eventType, handler)
    }
    return registry
  }

  static readonly layer = (handlers: ReadonlyArray<EventHandler>) =>
    Layer.sync(EventHandlers, () => EventHandlers.make(handlers))
}
