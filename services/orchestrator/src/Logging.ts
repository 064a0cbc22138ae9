import { Config, Layer, Logger, LogLevel } from "effect"

/** `LOG_LEVEL` (default Info) and `LOG_FORMAT` (`logfmt`, the default, or `json`). */
export const LoggingLive = Layer.unwrapEffect(
  Config.all({
    level: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info)),
    format: Config.literal("logfmt", "json")("LOG_FORMAT").pipe(Config.withDefault("logfmt" as const))
  }).pipe(
    Config.map(({ format, level }) =>
      Layer.merge(Logger.minimumLogLevel(level), format === "json" ? Logger.json : Logger.logFmt)
    )
  )
)
