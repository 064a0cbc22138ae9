/**
 * A real OTLP/HTTP receiver on loopback for tests: accepts what the OTLP/HTTP JSON exporters POST
 * to `/v1/traces`, `/v1/metrics` and `/v1/logs`, keeps every body, and flattens them into spans,
 * metric points and log records that tests can assert on.
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export type Signal = "traces" | "metrics" | "logs"

export interface Received {
  readonly signal: Signal
  readonly contentType: string
  readonly body: string
}

type Attributes = Record<string, string | number | boolean | null | ReadonlyArray<unknown>>

export interface ReceivedSpan {
  readonly service: string
  readonly resource: Attributes
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  readonly attributes: Attributes
  readonly status: { readonly code: number; readonly message: string }
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Attributes }>
}

export interface ReceivedMetric {
  readonly service: string
  readonly resource: Attributes
  readonly name: string
  readonly unit: string
  readonly description: string
  readonly type: "sum" | "gauge" | "histogram" | "other"
  readonly monotonic: boolean
  readonly points: ReadonlyArray<{ readonly attributes: Attributes; readonly value: number; readonly count?: number }>
}

export interface ReceivedLog {
  readonly service: string
  readonly resource: Attributes
  readonly body: unknown
  readonly severityText: string
  readonly traceId: string
  readonly spanId: string
  readonly attributes: Attributes
}

interface AnyValue {
  readonly stringValue?: string
  readonly intValue?: number | string
  readonly doubleValue?: number
  readonly boolValue?: boolean
  readonly arrayValue?: { readonly values?: ReadonlyArray<AnyValue> }
  readonly kvlistValue?: { readonly values?: ReadonlyArray<KeyValue> }
}
interface KeyValue {
  readonly key: string
  readonly value?: AnyValue
}

const anyValue = (value: AnyValue | undefined): unknown => {
  if (value === undefined) return null
  if (value.stringValue !== undefined) return value.stringValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValue)
  if (value.kvlistValue !== undefined) return attributes(value.kvlistValue.values)
  return null
}

const attributes = (list: ReadonlyArray<KeyValue> | undefined): Attributes =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)])) as Attributes

/** OTLP JSON carries ids as hex; some encoders send base64. Tests compare hex. */
const hexId = (id: unknown): string => {
  if (typeof id !== "string" || id === "") return ""
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex")
}

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

/* eslint-disable @typescript-eslint/no-explicit-any -- OTLP JSON is walked structurally */
export class OtlpReceiver {
  readonly received: Array<Received> = []
  /** Requests and body bytes per signal, counted even when bodies are not kept. */
  readonly counts = {
    traces: { requests: 0, bytes: 0 },
    metrics: { requests: 0, bytes: 0 },
    logs: { requests: 0, bytes: 0 }
  }
  private constructor(private readonly server: Server, readonly url: string) {}

  /**
   * Listens on 127.0.0.1 on a free port; `url` is the value for `OTEL_EXPORTER_OTLP_ENDPOINT`.
   * With `keepBodies: false` it only counts (for long benchmark runs).
   */
  static start = async (options: { readonly keepBodies?: boolean } = {}): Promise<OtlpReceiver> => {
    const self: { receiver?: OtlpReceiver } = {}
    const server = createServer((request, response) => {
      const signal = request.url?.match(/^\/v1\/(traces|metrics|logs)$/)?.[1] as Signal | undefined
      if (request.method !== "POST" || signal === undefined) {
        response.writeHead(404).end()
        return
      }
      readBody(request).then((body) => {
        const contentType = request.headers["content-type"] ?? ""
        if (!contentType.includes("json")) {
          response.writeHead(415, { "content-type": "text/plain" }).end("only OTLP/HTTP JSON is decoded here")
          return
        }
        self.receiver!.counts[signal].requests++
        self.receiver!.counts[signal].bytes += Buffer.byteLength(body)
        if (options.keepBodies !== false) self.receiver!.received.push({ signal, contentType, body })
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      }, () => response.writeHead(400).end())
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as AddressInfo
    self.receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`)
    return self.receiver
  }

  stop = () => new Promise<void>((resolve) => this.server.close(() => resolve()))

  /** Every body received, concatenated: what a secrets check greps. */
  rawText = () => this.received.map((r) => r.body).join("\n")

  private bodies = (signal: Signal): Array<any> =>
    this.received.filter((r) => r.signal === signal).map((r) => JSON.parse(r.body))

  spans = (): Array<ReceivedSpan> =>
    this.bodies("traces").flatMap((body) =>
      (body.resourceSpans ?? []).flatMap((rs: any) => {
        const resource = attributes(rs.resource?.attributes)
        return (rs.scopeSpans ?? []).flatMap((ss: any) =>
          (ss.spans ?? []).map((span: any): ReceivedSpan => ({
            service: String(resource["service.name"]),
            resource,
            traceId: hexId(span.traceId),
            spanId: hexId(span.spanId),
            parentSpanId: hexId(span.parentSpanId),
            name: span.name,
            kind: span.kind ?? 0,
            attributes: attributes(span.attributes),
            status: { code: span.status?.code ?? 0, message: span.status?.message ?? "" },
            links: (span.links ?? []).map((link: any) => ({
              traceId: hexId(link.traceId),
              spanId: hexId(link.spanId)
            })),
            events: (span.events ?? []).map((event: any) => ({
              name: event.name,
              attributes: attributes(event.attributes)
            }))
          }))
        )
      })
    )

  metrics = (): Array<ReceivedMetric> =>
    this.bodies("metrics").flatMap((body) =>
      (body.resourceMetrics ?? []).flatMap((rm: any) => {
        const resource = attributes(rm.resource?.attributes)
        return (rm.scopeMetrics ?? []).flatMap((sm: any) =>
          (sm.metrics ?? []).map((metric: any): ReceivedMetric => {
            const data = metric.sum ?? metric.gauge ?? metric.histogram ?? { dataPoints: [] }
            return {
              service: String(resource["service.name"]),
              resource,
              name: metric.name,
              unit: metric.unit ?? "",
              description: metric.description ?? "",
              type: metric.sum ? "sum" : metric.gauge ? "gauge" : metric.histogram ? "histogram" : "other",
              monotonic: metric.sum?.isMonotonic === true,
              points: (data.dataPoints ?? []).map((point: any) => ({
                attributes: attributes(point.attributes),
                value: Number(point.asDouble ?? point.asInt ?? point.sum ?? 0),
                ...(point.count !== undefined ? { count: Number(point.count) } : {})
              }))
            }
          })
        )
      })
    )

  /**
   * The newest point of each series (attribute set) of one service's metric: exports are
   * cumulative, so the last one received holds the totals.
   */
  latestPoints = (service: string, name: string): Array<ReceivedMetric["points"][number]> => {
    const latest = new Map<string, ReceivedMetric["points"][number]>()
    for (const metric of this.metrics()) {
      if (metric.service !== service || metric.name !== name) continue
      for (const point of metric.points) latest.set(JSON.stringify(Object.entries(point.attributes).sort()), point)
    }
    return [...latest.values()]
  }

  /** Resources that sent a metrics export, even an empty one. */
  metricResources = (): Array<Attributes> =>
    this.bodies("metrics").flatMap((body) =>
      (body.resourceMetrics ?? []).map((rm: any) => attributes(rm.resource?.attributes))
    )

  logs = (): Array<ReceivedLog> =>
    this.bodies("logs").flatMap((body) =>
      (body.resourceLogs ?? []).flatMap((rl: any) => {
        const resource = attributes(rl.resource?.attributes)
        return (rl.scopeLogs ?? []).flatMap((sl: any) =>
          (sl.logRecords ?? []).map((log: any): ReceivedLog => ({
            service: String(resource["service.name"]),
            resource,
            body: anyValue(log.body),
            severityText: log.severityText ?? "",
            traceId: hexId(log.traceId),
            spanId: hexId(log.spanId),
            attributes: attributes(log.attributes)
          }))
        )
      })
    )

  /** Polls until `check` holds, failing with `what` and a summary of what arrived. */
  waitFor = async (what: string, check: (receiver: OtlpReceiver) => boolean, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (check(this)) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const summary = (["traces", "metrics", "logs"] as const)
      .map((signal) => `${signal}: ${this.received.filter((r) => r.signal === signal).length} request(s)`).join(", ")
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${summary})`)
  }
}
