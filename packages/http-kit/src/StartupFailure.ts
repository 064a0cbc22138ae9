import { HttpServerError } from "@effect/platform"
import { Cause, ConfigError, Effect, Layer, Option } from "effect"

/** What the listen failure says when the port is taken or the host is not an address of this machine. */
const listenProblem = (error: unknown, portSetting: string): Option.Option<string> => {
  if (!(HttpServerError.isServerError(error) && error._tag === "ServeError")) return Option.none()
  const { address: host, code, port } = (error.cause ?? {}) as { code?: unknown; address?: unknown; port?: unknown }
  if (code === "EADDRINUSE") return Option.some(`${portSetting}=${port}: ${host}:${port} is already in use`)
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return Option.some(`HOST=${host}: not an address of this machine`)
  }
  if (code === "EACCES") return Option.some(`${portSetting}=${port}: permission denied`)
  return Option.some(`cannot listen on ${String(host)}:${String(port)}: ${String(error.cause)}`)
}

/** One line naming the culprit (the setting, the port, the database target), never a stack trace. */
export const startupFailureLine = (cause: Cause.Cause<unknown>, portSetting: string) => {
  const error = Cause.squash(cause)
  if (ConfigError.isConfigError(error)) return `invalid configuration: ${String(error).replace(/\s*\n\s*/g, " ")}`
  const listen = listenProblem(error, portSetting)
  if (Option.isSome(listen)) return `cannot start: ${listen.value}`
  return `cannot start: ${error instanceof Error ? error.message : String(error)}`.replace(/\s*\n\s*/g, " ")
}

/**
 * A service that cannot start reports one line and exits 1, at once: NodeRuntime.runMain would
 * otherwise print the whole cause with stack traces. Interruption (a signal while starting) passes.
 */
export const exitOnStartupFailure = <A, E, R>(layer: Layer.Layer<A, E, R>, portSetting: string) =>
  Layer.catchAllCause(layer, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Layer.failCause(cause)
      : Layer.effectDiscard(
        Effect.logError(startupFailureLine(cause, portSetting)).pipe(
          Effect.zipRight(Effect.sync(() => process.exit(1))),
          Effect.zipRight(Effect.never)
        )
      ))
