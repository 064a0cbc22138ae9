import * as OtelLogger from "@effect/opentelemetry/Logger"
import { type AttributeValue, ROOT_CONTEXT, trace } from "@opentelemetry/api"
import { SeverityNumber } from "@opentelemetry/api-logs"
import { Effect, Layer, Logger } from "effect"
import { toLogRecord } from "./LogRecord.ts"

const severities: Record<string, SeverityNumber> = {
  TRACE: SeverityNumber.TRACE,
  DEBUG: SeverityNumber.DEBUG,
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
  FATAL: SeverityNumber.FATAL
}

/**
 * Sends each log line over OTLP with the same fields as stdout. Unlike @effect/opentelemetry's own
 * logger it puts the current span into the record's trace context (so backends link the line to
 * its trace) and keeps the cause, as `exception.stacktrace`.
 */
const makeOtlpLogger = (service: string) =>
  Effect.map(OtelLogger.OtelLoggerProvider, (provider) => {
    const otel = provider.getLogger("@ecommerce/telemetry")
    return Logger.make((options) => {
      const record = toLogRecord(options, service)
      const attributes: Record<string, AttributeValue> = {}
      for (const [key, value] of record.attributes) attributes[key] = value ?? ""
      if (record.cause !== undefined) attributes["exception.stacktrace"] = record.cause
      otel.emit({
        body: record.message,
        severityText: record.level,
        severityNumber: severities[record.level] ?? SeverityNumber.UNSPECIFIED,
        timestamp: record.timestamp,
        attributes,
        ...(record.traceId !== undefined && record.spanId !== undefined
          ? {
            context: trace.setSpanContext(ROOT_CONTEXT, {
              traceId: record.traceId,
              spanId: record.spanId,
              traceFlags: record.traceFlags ?? 1
            })
          }
          : {})
      })
    })
  })

export const otlpLoggerLayer = (service: string): Layer.Layer<never, never, OtelLogger.OtelLoggerProvider> =>
  Logger.addEffect(makeOtlpLogger(service))
