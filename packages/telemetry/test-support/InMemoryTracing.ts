/**
 * The real OpenTelemetry tracer (NodeTracerProvider and the Effect bridge, as OtlpSdk.ts sets them
 * up) exporting into memory, for tests that assert on spans as an OTLP backend would receive them:
 * ids, parentage, links, tracestate, status, attributes and events. Read `exporter.getFinishedSpans()` while the layer is
 * alive: shutting the provider down clears the exporter.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Resource from "@effect/opentelemetry/Resource"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"
import { otelTracerLayer } from "../src/OtelTracer.ts"

export { SpanKind, SpanStatusCode } from "@opentelemetry/api"
export type { ReadableSpan }

export const inMemoryTracing = (serviceName: string) => {
  const exporter = new InMemorySpanExporter()
  const layer = Layer.provide(otelTracerLayer, NodeSdk.layerTracerProvider(new SimpleSpanProcessor(exporter))).pipe(
    Layer.provide(Resource.layer({ serviceName }))
  )
  return { exporter, layer }
}
