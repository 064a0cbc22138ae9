import { ConfigError, Effect } from "effect"

/**
 * Startup problems an operator must fix (a bad setting, an unreachable database) are reported as
 * one line naming the culprit, then the process exits non-zero.
 */
export const reportStartupFailure = (error: unknown) =>
  Effect.logError(
    ConfigError.isConfigError(error)
      ? `invalid configuration: ${String(error).replace(/\s*\n\s*/g, " ")}`
      : `cannot start: ${error instanceof Error ? error.message : String(error)}`
  )
