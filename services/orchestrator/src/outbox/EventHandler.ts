import { Context, Data, Effect, Either, Layer, ParseResult, Schema } from "effect"

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
}> {
  /** What the `outbox.process` span's status and any log of the cause show. */
  override get message() {
    return `parked: ${this.reason}`
  }
}

/** The payload did not decode with the handler's Schema: never retried. */
export class InvalidPayload extends Data.TaggedError("InvalidPayload")<{ readonly message: string }> {}

export interface EventHandler {
  readonly eventType: string
  /** Decodes the payload with the handler's Schema, then handles it. */
  readonly run: (event: OutboxEvent) => Effect.Effect<void, HandlerError | Park | InvalidPayload>
}

const formatPath = (path: ReadonlyArray<PropertyKey>) =>
  path.map((key) => `[${typeof key === "symbol" ? String(key) : JSON.stringify(key)}]`).join("")

/**
 * The issues without the offending values, for when describing a value throws (a value nested
 * thousands deep overflows the stack): paths and expected types are always printable.
 */
const issuesWithoutValues = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): Array<string> => {
  const at = (text: string) => (path.length === 0 ? text : `${formatPath(path)} ${text}`)
  switch (issue._tag) {
    case "Pointer":
      return issuesWithoutValues(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])])
    case "Composite":
      return (Array.isArray(issue.issues) ? issue.issues : [issue.issues]).flatMap((i) => issuesWithoutValues(i, path))
    case "Refinement":
    case "Transformation":
      return issuesWithoutValues(issue.issue, path)
    case "Missing":
      return [at("is missing")]
    case "Unexpected":
      return [at("is unexpected")]
    case "Forbidden":
      return [at("is forbidden")]
    case "Type":
      return [at(`Expected ${String(issue.ast)}, actual a value too deeply nested to print`)]
  }
}

/**
 * `payload does not match T: ["field"] is missing; ["n"] Expected number, actual "seven"`: the path
 * and the rule of each issue, without Schema's tree of encoded/transformation boilerplate.
 */
export const describeDecodeError = (eventType: string, error: ParseResult.ParseError): string => {
  const prefix = `payload does not match ${eventType}: `
  try {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
      const message = issue.message.replace(/\s*\n\s*/g, " ")
      return issue.path.length === 0 ? message : `${formatPath(issue.path)} ${message}`
    })
    return prefix + issues.join("; ")
  } catch {
    try {
      return prefix + issuesWithoutValues(error.issue, []).join("; ")
    } catch {
      return prefix + "the payload cannot be described (nested too deeply?)"
    }
  }
}

export const makeHandler = <A, I>(
  eventType: string,
  payload: Schema.Schema<A, I>,
  handle: (event: OutboxEvent<A>) => Effect.Effect<void, HandlerError | Park>
): EventHandler => {
  // A synchronous Schema's parser returns an Either, handled in the same step as the handler's
  // start (one step per event instead of four is measurable on the drain's hot path). A Schema
  // with an effectful part returns an Effect, which is run: the handler's type allows such Schemas.
  const decode = Schema.decodeUnknown(payload, { errors: "all" })
  const invalid = (error: ParseResult.ParseError) =>
    new InvalidPayload({ message: describeDecodeError(eventType, error) })
  // A decoder that throws is a property of the payload (and the schema), not of the moment:
  // retrying cannot help, so it fails like an invalid payload.
  const threw = (defect: unknown) =>
    new InvalidPayload({
      message: `payload does not match ${eventType}: its decoder threw ${
        defect instanceof Error ? `${defect.name}: ${defect.message}` : "a non-Error value"
      }`
    })
  return {
    eventType,
    run: (event) =>
      Effect.suspend((): Effect.Effect<void, HandlerError | Park | InvalidPayload> => {
        let decoded: Effect.Effect<A, ParseResult.ParseError>
        try {
          decoded = decode(event.payload)
        } catch (defect) {
          return Effect.fail(threw(defect))
        }
        if (Either.isEither(decoded)) {
          const result = decoded as Either.Either<A, ParseResult.ParseError>
          return Either.isLeft(result)
            ? Effect.fail(invalid(result.left))
            : handle({ ...event, payload: result.right })
        }
        return decoded.pipe(
          Effect.mapError(invalid),
          Effect.catchAllDefect((defect) => Effect.fail(threw(defect))),
          Effect.flatMap((value) => handle({ ...event, payload: value }))
        )
      })
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
