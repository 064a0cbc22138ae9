import { Effect } from "effect"

/**
 * "Log once per state change, not once per try": the first failure of a run of failures is a
 * warning, the first success after it an info line, everything in between is silent.
 */
export const makeOutageLog = (recovered: string) => {
  let down = false
  return {
    failed: (message: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (down) return Effect.void
        down = true
        return Effect.logWarning(message)
      }),
    succeeded: Effect.suspend(() => {
      if (!down) return Effect.void
      down = false
      return Effect.logInfo(recovered)
    }),
    isDown: () => down
  } as const
}

export type OutageLog = ReturnType<typeof makeOutageLog>

/** The first line of an infrastructure error's cause: what an operator needs in a one-line log. */
export const errorSummary = (error: { readonly message: string; readonly cause?: unknown }): string => {
  const text = String(error.cause ?? error.message)
  return text.split("\n")[0] ?? text
}
