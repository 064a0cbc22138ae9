import { Config, type ConfigError, Effect, Layer, Logger, LogLevel } from "effect"
import { formatter, type LogFormat } from "./LogFormat.ts"
import { toLogRecord } from "./LogRecord.ts"

/**
 * `LOG_FORMAT` (`json`, `logfmt` or `pretty`; default `pretty` on a terminal, else `logfmt`) and
 * `LOG_LEVEL` (default `info`).
 */
export const LogSettings = Config.all({
  format: Config.literal("json", "logfmt", "pretty")("LOG_FORMAT").pipe(
    Config.withDefault<LogFormat>(process.stdout.isTTY ? "pretty" : "logfmt")
  ),
  level: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
})

export type LogSettings = Config.Config.Success<typeof LogSettings>

/** `OTEL_SERVICE_NAME` when set, else the process's own name: the `service` of logs and `service.name` of the rest. */
export const serviceNameConfig = (fallback: string) =>
  Config.nonEmptyString("OTEL_SERVICE_NAME").pipe(Config.withDefault(fallback))

/** Writes each line synchronously to stdout (synchronous for files, pipes and terminals on Linux). */
export const makeLogger = (options: {
  readonly service: string
  readonly format: LogFormat
  readonly color?: boolean
  /** Where lines go; stdout unless a test captures them. */
  readonly write?: (line: string) => void
}): Logger.Logger<unknown, void> => {
  const format = formatter(options.format, options.color ?? process.stdout.isTTY === true)
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"))
  return Logger.make((logOptions) => write(format(toLogRecord(logOptions, options.service))))
}

/** Replaces Effect's default logger with ours, at `LOG_LEVEL`. */
export const loggerLayer = (service: string, settings: LogSettings): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, makeLogger({ service, format: settings.format })),
    Logger.minimumLogLevel(settings.level)
  )

/** The one logger of every process, configured from `LOG_FORMAT`, `LOG_LEVEL` and `OTEL_SERVICE_NAME`. */
export const LoggerLive = (options: { readonly serviceName: string }): Layer.Layer<never, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.all([serviceNameConfig(options.serviceName), LogSettings]),
      ([service, settings]) => loggerLayer(service, settings)
    )
  )

/**
 * The logger used when the logging settings themselves are invalid, so even that error is one
 * logfmt line, like the default output of any process that is not on a terminal.
 */
export const fallbackLogger = (service: string): Layer.Layer<never> =>
  Logger.replace(Logger.defaultLogger, makeLogger({ service, format: "logfmt", color: false }))
