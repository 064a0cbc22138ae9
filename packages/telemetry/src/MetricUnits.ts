import type { Attributes } from "@opentelemetry/api"
import type { CollectionResult, MetricData, MetricProducer } from "@opentelemetry/sdk-metrics"
import { DataPointType } from "@opentelemetry/sdk-metrics"
import { metricCatalog, type MetricSpec } from "./MetricCatalog.ts"

const specs = new Map<string, MetricSpec>(metricCatalog.map((spec) => [spec.name, spec]))

/** Effect's way to give a metric a unit is a tag; on the wire it is metadata, not a dimension. */
const unitTags = ["unit", "time_unit"]

const withoutUnitTags = (attributes: Attributes): Attributes => {
  if (!unitTags.some((tag) => tag in attributes)) return attributes
  const rest: Attributes = { ...attributes }
  for (const tag of unitTags) delete rest[tag]
  return rest
}

const adjust = (data: MetricData): MetricData => {
  const spec = specs.get(data.descriptor.name)
  const descriptor = {
    ...data.descriptor,
    unit: spec?.unit ?? data.descriptor.unit,
    description: data.descriptor.description || spec?.description || ""
  }
  const dataPoints = data.dataPoints.map((point) => ({ ...point, attributes: withoutUnitTags(point.attributes) }))
  // Effect exports a counter made without `incremental: true` as a non-monotonic sum (a Prometheus
  // gauge without `_total`); the catalog's counters only ever go up, so they are sent as counters.
  if (data.dataPointType === DataPointType.SUM && spec?.kind === "counter") {
    return { ...data, descriptor, dataPoints, isMonotonic: true } as MetricData
  }
  return { ...data, descriptor, dataPoints } as MetricData
}

/**
 * Wraps @effect/opentelemetry's producer (which reads Effect's global metric registry) so that
 * exported metrics carry the catalog's unit and description, and no `unit`/`time_unit` attribute.
 * Without it every metric would go out with unit `1` unless its code tagged it, and Prometheus
 * would name the gauges `..._ratio`.
 */
export const withCatalogUnits = (producer: MetricProducer): MetricProducer => ({
  collect: (options) =>
    producer.collect(options).then((result): CollectionResult => ({
      ...result,
      resourceMetrics: {
        ...result.resourceMetrics,
        scopeMetrics: result.resourceMetrics.scopeMetrics.map((scope) => ({
          ...scope,
          metrics: scope.metrics.map(adjust)
        }))
      }
    }))
})
