import * as OtelLogger from "@effect/opentelemetry/Logger"
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Resource from "@effect/opentelemetry/Resource"
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchLogRecordProcessor } from "@opentelemetry/sdk-logs"
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Option } from "effect"
import { withCatalogUnits } from "./MetricUnits.ts"
import { otelTracerLayer } from "./OtelTracer.ts"
import { otlpLoggerLayer } from "./OtlpLogger.ts"
import type { TelemetryConfig } from "./TelemetryConfig.ts"

export interface SdkOptions {
  readonly config: TelemetryConfig
  readonly serviceName: string
  readonly instanceId: string
  readonly traces: Option.Option<string>
  readonly metrics: Option.Option<string>
  readonly logs: Option.Option<string>
}

/**
 * The OpenTelemetry SDK for the signals that have a URL: a NodeTracerProvider with a batch span
 * processor, a periodic metric reader fed by Effect's metric registry, a logger provider with a
 * batch processor. Each provider flushes on shutdown (at most 3 s).
 */
export const sdkLayer = (
  { config, instanceId, logs, metrics, serviceName, traces }: SdkOptions
): Layer.Layer<never> => {
  const ResourceLive = Resource.layer({
    serviceName,
    attributes: { "service.instance.id": instanceId, ...config.resourceAttributes }
  })
  const TracesLive = Option.match(traces, {
    onNone: () => Layer.empty,
    onSome: (url) =>
      Layer.provide(
        otelTracerLayer,
        NodeSdk.layerTracerProvider(new BatchSpanProcessor(new OTLPTraceExporter({ url }), config.spans))
      )
  })
  const MetricsLive = Option.match(metrics, {
    onNone: () => Layer.empty,
    onSome: (url) =>
      Layer.scopedDiscard(
        Effect.flatMap(Metrics.makeProducer, (producer) =>
          Metrics.registerProducer(withCatalogUnits(producer), () =>
            new PeriodicExportingMetricReader({
              exporter: new OTLPMetricExporter({ url }),
              exportIntervalMillis: config.metricExportIntervalMs,
              exportTimeoutMillis: Math.min(config.metricExportTimeoutMs, config.metricExportIntervalMs)
            })))
      )
  })
  const LogsLive = Option.match(logs, {
    onNone: () => Layer.empty,
    onSome: (url) =>
      Layer.provide(
        otlpLoggerLayer(serviceName),
        OtelLogger.layerLoggerProvider(
          new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url }), ...config.logs })
        )
      )
  })
  return Layer.mergeAll(TracesLive, MetricsLive, LogsLive).pipe(Layer.provide(ResourceLive))
}
