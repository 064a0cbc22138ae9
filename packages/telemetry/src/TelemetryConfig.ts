import { Config, ConfigError, Either } from "effect"

/**
 * An OTLP/HTTP URL. The base `OTEL_EXPORTER_OTLP_ENDPOINT` gets the signal's path (`/v1/traces`, ...)
 * appended; a signal's own `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` is used as it is (the spec's rule).
 */
const url = (name: string) =>
  Config.string(name).pipe(
    Config.validate({
      message: "must be an http:// or https:// URL",
      validation: (value) => /^https?:\/\/\S+$/.test(value)
    }),
    Config.option
  )

const positive = (name: string, fallback: number, unit = "") =>
  Config.integer(name).pipe(
    Config.validate({ message: `must be a positive integer${unit}`, validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

/** `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, values percent-encoded (the spec's format). */
export const parseResourceAttributes = (raw: string): Either.Either<Record<string, string>, string> => {
  const attributes: Record<string, string> = {}
  for (const pair of raw.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const equals = pair.indexOf("=")
    if (equals <= 0) return Either.left(`expected key=value pairs separated by commas, got "${pair}"`)
    const value = pair.slice(equals + 1).trim()
    try {
      attributes[pair.slice(0, equals).trim()] = decodeURIComponent(value)
    } catch {
      return Either.left(`the value of ${pair.slice(0, equals).trim()} is not valid percent-encoding`)
    }
  }
  return Either.right(attributes)
}

const resourceAttributes = Config.string("OTEL_RESOURCE_ATTRIBUTES").pipe(
  Config.withDefault(""),
  Config.mapOrFail((raw) =>
    Either.mapLeft(parseResourceAttributes(raw), (message) => ConfigError.InvalidData([], message))
  )
)

/**
 * The standard OpenTelemetry settings this project honours, read through `Config` like every other
 * setting. Transport details (`OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT`, `_COMPRESSION`, certificates)
 * are read by the OTLP exporters themselves.
 */
export const TelemetryConfig = Config.all({
  disabled: Config.boolean("OTEL_SDK_DISABLED").pipe(Config.withDefault(false)),
  endpoint: url("OTEL_EXPORTER_OTLP_ENDPOINT"),
  tracesEndpoint: url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
  metricsEndpoint: url("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
  logsEndpoint: url("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
  // The OTLP/HTTP exporters of this OpenTelemetry line encode JSON; protobuf would need other packages.
  protocol: Config.literal("http/json")("OTEL_EXPORTER_OTLP_PROTOCOL").pipe(Config.withDefault("http/json" as const)),
  serviceName: Config.option(Config.nonEmptyString("OTEL_SERVICE_NAME")),
  resourceAttributes,
  metricExportIntervalMs: positive("OTEL_METRIC_EXPORT_INTERVAL", 60_000, " (milliseconds)"),
  metricExportTimeoutMs: positive("OTEL_METRIC_EXPORT_TIMEOUT", 30_000, " (milliseconds)"),
  spans: Config.all({
    scheduledDelayMillis: positive("OTEL_BSP_SCHEDULE_DELAY", 5_000, " (milliseconds)"),
    exportTimeoutMillis: positive("OTEL_BSP_EXPORT_TIMEOUT", 30_000, " (milliseconds)"),
    maxQueueSize: positive("OTEL_BSP_MAX_QUEUE_SIZE", 2_048),
    maxExportBatchSize: positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)
  }),
  logs: Config.all({
    scheduledDelayMillis: positive("OTEL_BLRP_SCHEDULE_DELAY", 1_000, " (milliseconds)"),
    exportTimeoutMillis: positive("OTEL_BLRP_EXPORT_TIMEOUT", 30_000, " (milliseconds)"),
    maxQueueSize: positive("OTEL_BLRP_MAX_QUEUE_SIZE", 2_048),
    maxExportBatchSize: positive("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", 512)
  })
})

export type TelemetryConfig = Config.Config.Success<typeof TelemetryConfig>
