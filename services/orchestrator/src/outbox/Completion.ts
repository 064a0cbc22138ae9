import { Cause, Exit, Option } from "effect"
import { retryDelayMs } from "./Backoff.ts"
import type { HandlerError, InvalidPayload, Park } from "./EventHandler.ts"
import type { ClaimedRow } from "./OutboxRepo.ts"

/**
 * What a finished run writes back. `pending` means "retry after delayMs"; `parked` means "run again
 * after delayMs" without counting the attempt (a release at shutdown is a park with no delay).
 * `eventId` and `eventType` are for logs and metrics only.
 */
export interface Completion {
  readonly id: string
  readonly leaseToken: string
  readonly status: "done" | "pending" | "parked" | "dead"
  readonly delayMs: number
  readonly error: string | null
  readonly eventId: string
  readonly eventType: string
}

/** The row cannot be run at all (no handler, oversized payload, impossible values): never retried. */
export class Unprocessable {
  readonly _tag = "Unprocessable"
  constructor(readonly message: string) {}
}

/** The watchdog stopped the run: a retryable failure. */
export class TimedOut {
  readonly _tag = "TimedOut"
  constructor(readonly message: string) {}
}

export type RunFailure = HandlerError | Park | InvalidPayload | Unprocessable | TimedOut

export interface RetryPolicy {
  readonly maxAttempts: number
  readonly retryBaseMs: number
  readonly retryMaxMs: number
}

/**
 * `Cause.pretty` and `String` on arbitrary values can throw (a value nested thousands deep makes
 * `JSON.stringify` and Inspectable overflow the stack): a reason must never be the thing that fails.
 */
export const describeDefect = (cause: Cause.Cause<unknown>): string => {
  try {
    const text = Cause.pretty(cause)
    return text.split("\n")[0] ?? text
  } catch (error) {
    return `a defect that cannot be printed (${error instanceof Error ? error.name : "unknown"} while formatting it)`
  }
}

/**
 * The one place that decides a run's fate from its Exit. Interruption alone means "not finished
 * here" (shutdown): the row goes back without counting the attempt.
 */
export const completionOf = (
  row: ClaimedRow,
  exit: Exit.Exit<void, RunFailure>,
  policy: RetryPolicy,
  random: number
): Completion => {
  const base = { id: row.id, leaseToken: row.lease_token, eventId: row.event_id, eventType: row.event_type }
  const finished = (status: "done" | "dead", error: string | null): Completion => ({
    ...base,
    status,
    delayMs: 0,
    error
  })
  const retryOrDead = (message: string): Completion =>
    row.attempts >= policy.maxAttempts
      ? finished("dead", `gave up after ${row.attempts} attempts (MAX_ATTEMPTS=${policy.maxAttempts}): ${message}`)
      : {
        ...base,
        status: "pending",
        delayMs: retryDelayMs(row.attempts, policy.retryBaseMs, policy.retryMaxMs, random),
        error: message
      }

  if (Exit.isSuccess(exit)) return finished("done", null)
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    switch (error._tag) {
      case "Park":
        return { ...base, status: "parked", delayMs: Math.max(0, error.delayMs), error: `parked: ${error.reason}` }
      case "HandlerError":
        return error.retryable ? retryOrDead(error.message) : finished("dead", error.message)
      case "TimedOut":
        return retryOrDead(error.message)
      case "InvalidPayload":
      case "Unprocessable":
        return finished("dead", error.message)
    }
  }
  if (Cause.isInterruptedOnly(exit.cause)) return { ...base, status: "parked", delayMs: 0, error: null }
  // A defect is a bug in the handler: retry (it may be transient), then dead-letter with the cause.
  return retryOrDead(`handler crashed: ${describeDefect(exit.cause)}`)
}
