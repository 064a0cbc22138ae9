import { Config, type ConfigError, Effect, Layer, Option } from "effect"
import { hostname } from "node:os"
import { serviceNameConfig } from "./Logging.ts"
import { TelemetryConfig } from "./TelemetryConfig.ts"

export interface TelemetryOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) is set. */
  readonly serviceName: string
  /** `service.instance.id`; the orchestrator passes its `WORKER_ID`. Default `<host>-<pid>`. */
  readonly instanceId?: Config.Config<string>
}

const signalUrl = (own: Option.Option<string>, base: Option.Option<string>, path: string) =>
  Option.orElse(own, () => Option.map(base, (url) => `${url.replace(/\/+$/, "")}/v1/${path}`))

/**
 * Traces, metrics and logs over OTLP/HTTP (JSON) for one process, from the standard `OTEL_*`
 * settings (TelemetryConfig.ts). With no endpoint set, or `OTEL_SDK_DISABLED=true`, it is
 * `Layer.empty`: the SDK is not even loaded, nothing is exported, nothing complains, and Effect's
 * own tracer and metrics keep working in memory as they always do.
 */
export const TelemetryLive = (options: TelemetryOptions): Layer.Layer<never, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const config = yield* TelemetryConfig
      const traces = signalUrl(config.tracesEndpoint, config.endpoint, "traces")
      const metrics = signalUrl(config.metricsEndpoint, config.endpoint, "metrics")
      const logs = signalUrl(config.logsEndpoint, config.endpoint, "logs")
      if (config.disabled || (Option.isNone(traces) && Option.isNone(metrics) && Option.isNone(logs))) {
        return Layer.empty
      }
      const serviceName = yield* serviceNameConfig(config.resourceAttributes["service.name"] ?? options.serviceName)
      const instanceId = yield* (options.instanceId ?? Config.succeed(`${hostname()}-${process.pid}`))
      // Loaded only when something is exported: the SDK and exporters are a sizeable import.
      const { sdkLayer } = yield* Effect.promise(() => import("./OtlpSdk.ts"))
      return sdkLayer({ config, serviceName, instanceId, traces, metrics, logs })
    })
  )
