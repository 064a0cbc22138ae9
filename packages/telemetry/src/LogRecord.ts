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

/**
 * Span attributes that every log line inside the span carries as a field: the outbox worker's
 * per-event ids. Read from the span chain when a line is written, instead of annotating each event's
 * logs up front: `Effect.annotateLogs` per event cost about 6 µs of the worker's ~70 µs of
 * in-memory work per no-op event (micro-benchmark, this machine), and most events log nothing.
 * An annotation of the same name wins.
 */
export const spanLogFields: ReadonlyArray<readonly [attribute: string, field: string]> = [
  ["outbox.event_id", "event_id"],
  ["outbox.event_type", "event_type"]
]

/** Nesting this deep is a loop gone wrong, not a trace: stop looking for fields there. */
const maxSpanDepth = 64

const fieldsFromSpans = (
  span: Tracer.AnySpan,
  attributes: Array<readonly [string, LogValue]>,
  present: ReadonlySet<string>
) => {
  const found = new Set(present)
  let current: Tracer.AnySpan | undefined = span
  for (let depth = 0; current !== undefined && current._tag === "Span" && depth < maxSpanDepth; depth++) {
    for (const [attribute, field] of spanLogFields) {
      if (found.has(field)) continue
      const value = current.attributes.get(attribute)
      if (value === undefined) continue
      found.add(field)
      attributes.push([field, renderValue(value)])
    }
    current = current.parent._tag === "Some" ? current.parent.value : undefined
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
  if (span._tag === "Some") fieldsFromSpans(span.value, attributes, new Set(attributes.map(([key]) => key)))
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
