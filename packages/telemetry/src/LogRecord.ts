import { Cause, Context, FiberRef, FiberRefs, HashMap, Inspectable, List, type Logger, Redacted, Tracer } from "effect"

/**
 * One log line's fields, in the order every format prints them: `timestamp`, `level`, `service`,
 * `message`, `trace_id` and `span_id` of the current span, `cause`, then the annotations and log
 * spans. The same record feeds stdout and OTLP.
 */
export interface LogRecord {
  readonly timestamp: Date
  readonly level: string
  readonly service: string
  readonly message: string
  readonly traceId: string | undefined
  readonly spanId: string | undefined
  readonly traceFlags: number | undefined
  readonly cause: string | undefined
  readonly attributes: ReadonlyArray<readonly [string, LogValue]>
}

export type LogValue = string | number | boolean | null

/** Names an annotation may not take: they would shadow a core field. */
export const coreFields: ReadonlySet<string> = new Set([
  "timestamp",
  "level",
  "service",
  "message",
  "trace_id",
  "span_id",
  "cause"
])

/**
 * Renders any value for a log line: strings as they are, numbers and booleans as such, everything
 * else as compact JSON. `Redacted` values become `<redacted>` wherever they are nested (their
 * `toJSON`), and a value too deep or too odd for JSON falls back to `String` instead of throwing.
 */
export const renderValue = (value: unknown): LogValue => {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value
    case "bigint":
    case "symbol":
    case "function":
      return String(value)
    case "undefined":
      return null
  }
  if (value === null) return null
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (value instanceof Error && !("toJSON" in value)) return `${value.name}: ${value.message}`
  try {
    return Inspectable.stringifyCircular(Inspectable.toJSON(value)) ?? String(value)
  } catch {
    return String(value)
  }
}

const renderMessage = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((part) => String(renderValue(part))).join(" ")
}

export const toLogRecord = (options: Logger.Logger.Options<unknown>, service: string): LogRecord =>
  Inspectable.withRedactableContext(options.context, () => buildRecord(options, service))

const buildRecord = (options: Logger.Logger.Options<unknown>, service: string): LogRecord => {
  const span = Context.getOption(
    FiberRefs.getOrDefault(options.context, FiberRef.currentContext),
    Tracer.ParentSpan
  )
  const attributes: Array<readonly [string, LogValue]> = []
  for (const [key, value] of HashMap.toEntries(options.annotations)) {
    if (!coreFields.has(key)) attributes.push([key, renderValue(value)])
  }
  const now = options.date.getTime()
  for (const logSpan of List.toArray(options.spans)) {
    if (!coreFields.has(logSpan.label)) attributes.push([logSpan.label, `${now - logSpan.startTime}ms`])
  }
  return {
    timestamp: options.date,
    level: options.logLevel.label,
    service,
    message: renderMessage(options.message),
    traceId: span._tag === "Some" ? span.value.traceId : undefined,
    spanId: span._tag === "Some" ? span.value.spanId : undefined,
    traceFlags: span._tag === "Some" ? (span.value.sampled ? 1 : 0) : undefined,
    cause: Cause.isEmpty(options.cause) ? undefined : Cause.pretty(options.cause, { renderErrorCause: true }),
    attributes
  }
}
