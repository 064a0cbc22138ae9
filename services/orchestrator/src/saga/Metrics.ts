import { Metric, MetricBoundaries } from "effect"

/** The engine's metrics, named as the telemetry contract says (README, Observability). */
const durationBoundaries = MetricBoundaries.exponential({ start: 1, factor: 2, count: 18 })

export const sagaStarted = Metric.counter("saga.started", { description: "sagas started", incremental: true })
export const sagaFinished = Metric.counter("saga.finished", {
  description: "sagas finished, by outcome",
  incremental: true
})
export const sagaDuration = Metric.histogram("saga.duration", durationBoundaries, "saga start to end state, ms")
export const stepDuration = Metric.histogram("saga.step.duration", durationBoundaries, "one step attempt, ms")
export const stepRetries = Metric.counter("saga.step.retries", {
  description: "step attempts after the first",
  incremental: true
})
export const circuitState = Metric.gauge("circuit.state", { description: "0 closed, 1 half_open, 2 open" })
export const circuitTransitions = Metric.counter("circuit.transitions", {
  description: "circuit state changes",
  incremental: true
})

export const circuitStateValue = { closed: 0, half_open: 1, open: 2 } as const
