import { spanFromTraceHeaders } from "@ecommerce/telemetry/trace-headers"
import type { Tracer } from "effect"
import type { ClaimedRow } from "./OutboxRepo.ts"

/**
 * Span options for `outbox.process <event_type>`: the event's first delivery continues the
 * producer's trace (its `traceparent`, and its `tracestate` under the OpenTelemetry tracer); a later
 * one (a retry, a parked saga resumed, a takeover after a crash) starts a new trace linked to it,
 * so one trace does not grow for hours. Rows without headers start a new trace. Never a child of a
 * loop.
 */
export const processSpanOptions = (row: ClaimedRow) => {
  const attributes = {
    "outbox.event_id": row.event_id,
    "outbox.event_type": row.event_type,
    "outbox.aggregate_id": row.aggregate_id,
    "outbox.attempt": row.attempts
  }
  const producer = spanFromTraceHeaders(row.headers)
  if (producer === undefined) return { attributes, root: true, kind: "consumer" as const }
  if (row.attempts <= 1 && !row.redelivered) return { attributes, parent: producer, kind: "consumer" as const }
  const link: Tracer.SpanLink = { _tag: "SpanLink", span: producer, attributes: {} }
  return { attributes, root: true, links: [link], kind: "consumer" as const }
}
