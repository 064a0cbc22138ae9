import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { Context, Effect, Layer, Option, Tracer } from "effect"
import { TraceStateHeader } from "./TraceHeaders.ts"

/** A remote span from stored headers, with its `tracestate` where the OpenTelemetry tracer reads it. */
const withTraceState = (span: Tracer.AnySpan): Tracer.AnySpan =>
  span._tag !== "ExternalSpan" ? span : Option.match(Context.getOption(span.context, TraceStateHeader), {
    onNone: () => span,
    onSome: (traceState) =>
      OtelTracer.makeExternalSpan({
        traceId: span.traceId,
        spanId: span.spanId,
        traceFlags: span.sampled ? 1 : 0,
        traceState
      })
  })

/**
 * @effect/opentelemetry's tracer (`Tracer.layer`), which also carries the `tracestate` of a parent
 * or link made by `spanFromTraceHeaders` (the SDK then passes it to every span beneath), and sets
 * no OpenTelemetry context around each fiber step (see `context`).
 */
export const otelTracerLayer = Layer.unwrapEffect(
  Effect.map(OtelTracer.make, (tracer) =>
    Layer.setTracer(Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) =>
        tracer.span(
          name,
          Option.map(parent, withTraceState),
          context,
          links.map((link) => ({ ...link, span: withTraceState(link.span) })),
          startTime,
          kind,
          options
        ),
      // No OpenTelemetry context per fiber step: @effect/opentelemetry makes each fiber's current
      // span the OpenTelemetry API's active context around every run of the fiber, for
      // instrumentations that read it. Nothing here does (HTTP and SQL spans are Effect's, and
      // every span has an Effect parent or is a root), and it was the largest part of telemetry's
      // cost on the worker's drain: 7.5 % of its CPU profile in @opentelemetry/api's contexts.
      context: (execution) => execution()
    })))
).pipe(Layer.provideMerge(OtelTracer.layerTracer))
