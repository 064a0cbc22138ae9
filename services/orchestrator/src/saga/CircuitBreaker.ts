import { Cause, Clock, Effect, Exit, Metric, Option, Ref } from "effect"
import { circuitState, circuitStateValue, circuitTransitions } from "./Metrics.ts"
import { StepFailure } from "./StepFailure.ts"

export interface CircuitSettings {
  /** Consecutive transient failures that open the circuit. */
  readonly failureThreshold: number
  /** How long an open circuit fails fast before letting one trial call through. */
  readonly cooldownMs: number
}

type State =
  | { readonly _tag: "closed"; readonly failures: number }
  | { readonly _tag: "open"; readonly until: number }
  | { readonly _tag: "half_open" }

type Admission = { readonly _tag: "run"; readonly trial: boolean } | {
  readonly _tag: "reject"
  readonly retryAfterMs: number
}

export interface CircuitBreaker {
  readonly service: string
  /** Runs the call unless the circuit is open; transient failures count, anything else resets. */
  readonly protect: <A>(call: Effect.Effect<A, StepFailure>) => Effect.Effect<A, StepFailure>
  readonly state: Effect.Effect<State["_tag"]>
}

/** Logs a change of state once, and updates the state gauge and the transition counter. */
const reportChange =
  (service: string, gauge: Metric.Metric.Gauge<number>) => (from: State["_tag"], to: State["_tag"], why: string) =>
    from === to ? Effect.void : (to === "closed" ? Effect.logInfo : Effect.logWarning)(
      `circuit ${service}: ${from} -> ${to} (${why})`
    ).pipe(
      Effect.annotateLogs({ circuit: service, circuit_state: to }),
      Effect.zipRight(Metric.set(gauge, circuitStateValue[to])),
      Effect.zipRight(
        Metric.update(
          circuitTransitions.pipe(Metric.tagged("downstream.service", service), Metric.tagged("circuit.state", to)),
          1
        )
      )
    )

/** Whether a call may run at `now`, and the state that leaves. */
const admission = (settings: CircuitSettings, current: State, now: number): [Admission, State] => {
  switch (current._tag) {
    case "closed":
      return [{ _tag: "run", trial: false }, current]
    case "open":
      return now >= current.until
        ? [{ _tag: "run", trial: true }, { _tag: "half_open" }]
        : [{ _tag: "reject", retryAfterMs: current.until - now }, current]
    case "half_open":
      // One trial at a time; the others come back once it has decided.
      return [{ _tag: "reject", retryAfterMs: Math.min(1_000, settings.cooldownMs) }, current]
  }
}

/** The state after a call ended at `now` (a transient failure or not), with the change it makes. */
const afterCall = (
  settings: CircuitSettings,
  current: State,
  transientFailure: boolean,
  now: number
): [[State["_tag"], State["_tag"]], State] => {
  if (!transientFailure) return [[current._tag, "closed"], { _tag: "closed", failures: 0 }]
  const failures = current._tag === "closed" ? current.failures + 1 : settings.failureThreshold
  const next: State = failures >= settings.failureThreshold
    ? { _tag: "open", until: now + settings.cooldownMs }
    : { _tag: "closed", failures }
  return [[current._tag, next._tag], next]
}

const changeReason = (settings: CircuitSettings, from: State["_tag"], to: State["_tag"]) =>
  to === "open"
    ? (from === "half_open"
      ? "the trial call failed"
      : `${settings.failureThreshold} transient failures in a row`) +
      `; failing fast for ${settings.cooldownMs} ms`
    : "a call succeeded"

const circuitOpen = (service: string, retryAfterMs: number) =>
  new StepFailure({
    kind: "transient",
    unknownOutcome: false,
    errorTag: "CircuitOpen",
    message: `${service}: circuit open, not calling for ${retryAfterMs} ms`,
    retryAfterMs,
    notAttempted: true
  })

/**
 * A per-replica circuit breaker (no library for Effect 3 offers one; this is 60 lines). Open, it
 * fails calls at once with a transient StepFailure carrying `retryAfterMs`, which the engine turns
 * into a park: the saga waits without a worker slot instead of hammering a sick service. After the
 * cool-down one trial call runs (half-open); its outcome closes or re-opens the circuit. Every
 * change of state is logged once.
 */
export const makeCircuitBreaker = (service: string, settings: CircuitSettings) =>
  Effect.gen(function*() {
    const state = yield* Ref.make<State>({ _tag: "closed", failures: 0 })

    const gauge = circuitState.pipe(Metric.tagged("downstream.service", service))
    yield* Metric.set(gauge, circuitStateValue.closed)
    const changed = reportChange(service, gauge)

    const record = (transientFailure: boolean) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const [from, to] = yield* Ref.modify(state, (current) => afterCall(settings, current, transientFailure, now))
        yield* changed(from, to, changeReason(settings, from, to))
      })

    const protect = <A>(call: Effect.Effect<A, StepFailure>): Effect.Effect<A, StepFailure> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const admitted = yield* Ref.modify(state, (current) => admission(settings, current, now))
        if (admitted._tag === "reject") return yield* circuitOpen(service, admitted.retryAfterMs)
        if (admitted.trial) yield* changed("open", "half_open", "cool-down over; one trial call")
        // Every end of the call decides, not only its typed failures: a defect or an interrupt of
        // the trial call must not leave the circuit half-open for ever (every later call refused).
        // The engine's per-call timeout interrupts a call that hangs, the commonest sign of a sick
        // service, so an interrupt counts as a transient failure. A defect is a bug on our side,
        // not news about the service: it leaves a closed circuit alone, and re-opens a half-open
        // one for a cool-down, after which another trial decides.
        return yield* call.pipe(
          Effect.onExit((exit) =>
            Exit.match(exit, {
              onSuccess: () => record(false),
              onFailure: (cause) =>
                Option.match(Cause.failureOption(cause), {
                  onSome: (failure) => record(failure.kind === "transient"),
                  onNone: () =>
                    Cause.isInterruptedOnly(cause) || admitted.trial
                      ? record(true)
                      : Effect.void
                })
            })
          )
        )
      })

    return { service, protect, state: Effect.map(Ref.get(state), (s) => s._tag) } satisfies CircuitBreaker
  })
