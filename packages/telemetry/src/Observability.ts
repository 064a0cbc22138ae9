import { Cause, ConfigError, Effect, Layer } from "effect"
import { fallbackLogger, loggerLayer, LogSettings, serviceNameConfig } from "./Logging.ts"
import { TelemetryLive, type TelemetryOptions } from "./TelemetryLive.ts"

/** One line an operator can act on: the setting that is wrong, or why the process could not start. */
export const describeFailure = (error: unknown): string =>
  ConfigError.isConfigError(error)
    ? `invalid configuration: ${String(error).replace(/\s*\n\s*/g, " ")}`
    : `cannot start: ${error instanceof Error ? error.message : String(error)}`

const reportFailure = <E>(cause: Cause.Cause<E>) =>
  Cause.isInterruptedOnly(cause)
    ? Effect.void
    : Effect.logError(
      Cause.failureOption(cause).pipe((failure) =>
        failure._tag === "Some" ? describeFailure(failure.value) : `stopped by a defect: ${Cause.pretty(cause)}`
      )
    )

/**
 * Runs a process's main effect with the shared logger and telemetry: every log line goes to stdout
 * in `LOG_FORMAT` (and over OTLP when an endpoint is set), and a failure is reported as one line
 * before the process exits non-zero. Invalid logging settings are reported in logfmt, since the
 * chosen format is the thing that is wrong. Use with `NodeRuntime.runMain(..., {
 * disableErrorReporting: true, disablePrettyLogger: true })`.
 */
export const withObservability = (options: TelemetryOptions) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.matchEffect(Effect.all([serviceNameConfig(options.serviceName), LogSettings]), {
    onFailure: (error) =>
      Effect.zipRight(
        Effect.logError(describeFailure(error)).pipe(Effect.provide(fallbackLogger(options.serviceName))),
        Effect.fail(error)
      ),
    onSuccess: ([service, settings]) =>
      self.pipe(
        Effect.provide(TelemetryLive(options)),
        Effect.tapErrorCause(reportFailure),
        Effect.provide(loggerLayer(service, settings))
      )
  })

/** The logger and telemetry as one layer, for processes that compose layers rather than effects. */
export const ObservabilityLive = (options: TelemetryOptions) =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.all([serviceNameConfig(options.serviceName), LogSettings]),
      ([service, settings]) => Layer.merge(loggerLayer(service, settings), TelemetryLive(options))
    )
  )
