import { Context, Tracer } from "effect"

const traceparentPattern = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/

/**
 * A W3C `tracestate` as a producer stored it, in the context of the remote span it came with. Only
 * the OpenTelemetry tracer reads it (OtelTracer.ts, loaded with the SDK): this module imports no
 * OpenTelemetry code, so a process that exports nothing does not load any.
 */
export class TraceStateHeader
  extends Context.Tag("@ecommerce/telemetry/TraceStateHeader")<TraceStateHeader, string>()
{}

/**
 * The remote span a W3C `traceparent` (and optional `tracestate`) header names, or undefined when
 * there is none or it is malformed (all-zero ids are invalid by the spec).
 */
export const spanFromTraceHeaders = (headers: unknown): Tracer.ExternalSpan | undefined => {
  if (typeof headers !== "object" || headers === null) return undefined
  const { traceparent, tracestate } = headers as Record<string, unknown>
  if (typeof traceparent !== "string") return undefined
  const match = traceparentPattern.exec(traceparent.trim().toLowerCase())
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return Tracer.externalSpan({
    traceId: match[1]!,
    spanId: match[2]!,
    sampled: (Number.parseInt(match[3]!, 16) & 1) === 1,
    context: typeof tracestate === "string" && tracestate.trim() !== ""
      ? Context.make(TraceStateHeader, tracestate.trim())
      : Context.empty()
  })
}
