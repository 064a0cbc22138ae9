import { Effect } from "effect"
import { type RunFailure, Unprocessable } from "./Completion.ts"
import type { EventHandler, OutboxEvent } from "./EventHandler.ts"
import type { ClaimedRow } from "./OutboxRepo.ts"
import { processSpanOptions } from "./Tracing.ts"

export interface RunnerOptions {
  readonly handlers: ReadonlyMap<string, EventHandler>
  readonly maxPayloadBytes: number
  readonly maxAttempts: number
}

const toEvent = (row: ClaimedRow, createdAt: Date): OutboxEvent => ({
  id: row.id,
  eventId: row.event_id,
  aggregateType: row.aggregate_type,
  aggregateId: row.aggregate_id,
  eventType: row.event_type,
  payload: row.payload,
  headers: typeof row.headers === "object" && row.headers !== null && !Array.isArray(row.headers)
    ? (row.headers as Record<string, unknown>)
    : {},
  attempt: row.attempts,
  createdAt
})

/**
 * Why the row cannot be run, if it cannot: checked before the handler, never retried. Values a
 * producer role cannot write but a superuser can (an absurd attempts count, an infinite
 * created_at) are refused here instead of failing the claim for everyone.
 */
const whyUnprocessable = (row: ClaimedRow, options: RunnerOptions): string | undefined => {
  if (!options.handlers.has(row.event_type)) {
    const known = [...options.handlers.keys()].join(", ")
    return `unknown event_type "${row.event_type}": no handler is registered for it (known: ${known})`
  }
  if (row.attempts > options.maxAttempts) {
    return `attempts is ${row.attempts} at claim, over MAX_ATTEMPTS (${options.maxAttempts}): the row's processing ` +
      `columns were written outside the worker; not run`
  }
  if (!(row.created_at instanceof Date) || Number.isNaN(row.created_at.getTime())) {
    return `created_at is ${String(row.created_at)}, not a finite timestamp; not run`
  }
  if (row.payload_bytes > options.maxPayloadBytes) {
    return `payload is ${row.payload_bytes} bytes, over MAX_PAYLOAD_BYTES (${options.maxPayloadBytes})`
  }
  return undefined
}

/**
 * Runs one claimed row: checks it, then its handler, inside the `outbox.process <event_type>` span.
 * Whatever throws, synchronously or not, ends in the returned effect's Exit (never outside it),
 * which `completionOf` turns into the row's completion.
 */
export type Runner = (row: ClaimedRow) => Effect.Effect<void, RunFailure>

export const makeRunner = (options: RunnerOptions): Runner => (row: ClaimedRow): Effect.Effect<void, RunFailure> =>
  Effect.suspend((): Effect.Effect<void, RunFailure> => {
    const reason = whyUnprocessable(row, options)
    if (reason !== undefined) return Effect.fail(new Unprocessable(reason))
    return options.handlers.get(row.event_type)!.run(toEvent(row, row.created_at as Date))
  }).pipe(
    // No stack trace per event: capturing one (the span's source location) cost about as much as
    // the rest of the span in a micro-benchmark (27 vs 16 µs per span with it off, loaded machine).
    // Log lines inside carry event_id and event_type from this span's attributes (spanLogFields in
    // @ecommerce/telemetry), read when a line is written: no log annotation per event.
    Effect.withSpan(`outbox.process ${row.event_type}`, { ...processSpanOptions(row), captureStackTrace: false })
  )
