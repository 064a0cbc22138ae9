import { Metric, MetricBoundaries } from "effect"

/**
 * The outbox worker's metrics (names and tags are the telemetry contract; the telemetry layer
 * exports them over OTLP). Tagged variants used per event are cached, so the hot path allocates
 * no new metric keys.
 */

/** Claim time − `created_at`, by `event.type`. */
export const lag = Metric.histogram(
  "outbox.lag",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 22 }),
  "Time from an outbox row's created_at to its claim, in milliseconds"
)

/** Finished runs by `event.type` and `outbox.result` (done | retry | dead | parked). */
export const eventsProcessed = Metric.counter("outbox.events.processed", {
  description: "Outbox events whose run finished, by event type and result",
  incremental: true
})

/** Rows by `outbox.status` (pending | processing | dead), sampled by one replica at a time. */
export const rows = Metric.gauge("outbox.rows", { description: "Outbox rows by status" })

export const claimBatchSize = Metric.histogram(
  "outbox.claim.batch_size",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 12 }),
  "Rows returned by one claim"
)

/** Wake-ups taken by the fetcher, by `wakeup.source` and `wakeup.found_work`. */
export const wakeups = Metric.counter("outbox.wakeups", {
  description: "Fetcher wake-ups by source and whether the claim found work",
  incremental: true
})

/** 1 while this replica's LISTEN connection is up, else 0. */
export const listenerConnected = Metric.gauge("outbox.listener.connected", {
  description: "Whether the replica's LISTEN connection is up (1) or not (0)"
})

export type ProcessedResult = "done" | "retry" | "dead" | "parked"
export type WakeupSource = "notify" | "poll" | "retry_timer" | "capacity"

const cached = <M>(make: (key: string) => M) => {
  const cache = new Map<string, M>()
  return (key: string): M => {
    let metric = cache.get(key)
    if (metric === undefined) {
      metric = make(key)
      cache.set(key, metric)
    }
    return metric
  }
}

export const lagFor = cached((eventType) => Metric.tagged(lag, "event.type", eventType))

const processedByKey = cached((key) => {
  const [eventType, result] = JSON.parse(key) as [string, string]
  return eventsProcessed.pipe(Metric.tagged("event.type", eventType), Metric.tagged("outbox.result", result))
})
export const processedFor = (eventType: string, result: ProcessedResult) =>
  processedByKey(JSON.stringify([eventType, result]))

const wakeupsByKey = cached((key) => {
  const [source, found] = key.split(":") as [string, string]
  return wakeups.pipe(Metric.tagged("wakeup.source", source), Metric.tagged("wakeup.found_work", found))
})
export const wakeupsFor = (source: WakeupSource, foundWork: boolean) => wakeupsByKey(`${source}:${foundWork}`)

export const rowsFor = cached((status) => Metric.tagged(rows, "outbox.status", status))
