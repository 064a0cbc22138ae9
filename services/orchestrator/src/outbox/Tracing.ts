import { Tracer } from "effect"
import type { ClaimedRow } from "./OutboxRepo.ts"

const traceparentPattern = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/

/** The producer's span, from the W3C `traceparent` header the producer stored in the row. */
export const producerSpan = (headers: unknown): Tracer.ExternalSpan | undefined => {
  if (typeof headers !== "object" || headers === null) return undefined
  const traceparent = (headers as Record<string, unknown>)["traceparent"]
  if (typeof traceparent !== "string") return undefined
  const match = traceparentPattern.exec(traceparent.trim().toLowerCase())
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return Tracer.externalSpan({
    traceId: match[1]!,
    spanId: match[2]!,
    sampled: (Number.parseInt(match[3]!, 16) & 1) === 1
  })
}

/**
 * Span options for `outbox.process <event_type>`: the first attempt continues the producer's
 * trace; a later one (a retry, or a takeover after a crash) starts a new trace linked to it, so one
 * trace does not grow for hours. Rows without headers start a new trace. Never a child of a loop.
 */
export const processSpanOptions = (row: ClaimedRow) => {
  const attributes = {
    "outbox.event_id": row.event_id,
    "outbox.event_type": row.event_type,
    "outbox.aggregate_id": row.aggregate_id,
    "outbox.attempt": row.attempts
  }
  const producer = producerSpan(row.headers)
  if (producer === undefined) return { attributes, root: true, kind: "consumer" as const }
  if (row.attempts <= 1) return { attributes, parent: producer, kind: "consumer" as const }
  const link: Tracer.SpanLink = { _tag: "SpanLink", span: producer, attributes: {} }
  return { attributes, root: true, links: [link], kind: "consumer" as const }
}
