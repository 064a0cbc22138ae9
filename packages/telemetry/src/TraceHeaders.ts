import { makeExternalSpan } from "@effect/opentelemetry/Tracer"
import type { Tracer } from "effect"

const traceparentPattern = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/

/**
 * The remote span a W3C `traceparent` (and optional `tracestate`) header names, or undefined when
 * there is none or it is malformed (all-zero ids are invalid by the spec). The `tracestate` rides
 * in the span's context, where the OpenTelemetry tracer reads it for the children it starts (and
 * the SDK carries it to theirs); with Effect's own tracer it is ignored.
 */
export const spanFromTraceHeaders = (headers: unknown): Tracer.ExternalSpan | undefined => {
  if (typeof headers !== "object" || headers === null) return undefined
  const { traceparent, tracestate } = headers as Record<string, unknown>
  if (typeof traceparent !== "string") return undefined
  const match = traceparentPattern.exec(traceparent.trim().toLowerCase())
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return makeExternalSpan({
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    traceState: typeof tracestate === "string" && tracestate.trim() !== "" ? tracestate : undefined
  })
}
