import { StartupTimeout } from "@ecommerce/db"
import { ConfigError, Effect } from "effect"
import { startupRetry } from "./outbox/Schedules.ts"

/**
 * The chain of messages down to the root cause, without repeats: "Failed to execute statement:
 * terminating connection due to administrator command" instead of only the first, generic part.
 */
export const causeChain = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error || typeof (current as { message?: unknown }).message === "string"
      ? String((current as { message: unknown }).message)
      : String(current)
    const line = message.split("\n")[0]!.trim()
    if (line !== "" && !parts.some((part) => part.includes(line))) parts.push(line)
    current = (current as { cause?: unknown }).cause
  }
  return parts.join(": ")
}

export class StartupStepFailed extends Error {
  override readonly name = "StartupStepFailed"
}

/**
 * A database step at startup (registering the replica, checking deploy safety, ...): retried with
 * backoff for up to STARTUP_TIMEOUT_MS, so a connection terminated while the replica starts is
 * ridden out; then it fails with the step's name and the root cause.
 */
export const retryAtStartup = (step: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(StartupTimeout, (timeoutMs) =>
    self.pipe(
      Effect.tapError((error) => Effect.logDebug(`${step} failed (${causeChain(error)}); retrying`)),
      Effect.retry(startupRetry(timeoutMs)),
      Effect.mapError((error) =>
        new StartupStepFailed(`${step} failed for ${timeoutMs} ms (STARTUP_TIMEOUT_MS): ${causeChain(error)}`)
      )
    ))

/**
 * Startup problems an operator must fix (a bad setting, an unreachable database) are reported as
 * one line naming the culprit and the root cause, then the process exits non-zero.
 */
export const reportStartupFailure = (error: unknown) =>
  Effect.logError(
    ConfigError.isConfigError(error)
      ? `invalid configuration: ${String(error).replace(/\s*\n\s*/g, " ")}`
      : `cannot start: ${causeChain(error)}`
  )
