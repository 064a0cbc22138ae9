import { type DatabaseConfig, pgClientOptions } from "@ecommerce/db"
import { Data, Deferred, Duration, Effect, Exit, Metric } from "effect"
import pg from "pg"
import * as Metrics from "./Metrics.ts"
import { makeOutageLog } from "./OutageLog.ts"
import { listenerReconnect } from "./Schedules.ts"

export const channel = "order_events"

class ListenerLost extends Data.TaggedError("ListenerLost")<{ readonly reason: string }> {}

export interface ListenerOptions {
  readonly db: DatabaseConfig
  readonly applicationName: string
  readonly probeIntervalMs: number
  /** Called for every notification (payload ignored: NOTIFY is only a hint) and after each (re)connect. */
  readonly wake: () => void
}

const reason = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

/**
 * One LISTEN session on a dedicated connection. It never succeeds: it fails with ListenerLost when
 * the connection errors, ends, or stops answering the liveness probe (a half-open socket raises no
 * error on its own). We use `pg` directly: the @effect/sql-pg 0.53 listen stream drops notifications
 * with an empty payload (a bare `NOTIFY order_events`) and hangs when its connection is killed.
 */
const session = (options: ListenerOptions, onConnected: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const lost = yield* Deferred.make<never, ListenerLost>()
    const fail = (why: string) => Deferred.unsafeDone(lost, Exit.fail(new ListenerLost({ reason: why })))
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const client = new pg.Client({
            ...pgClientOptions(options.db),
            application_name: options.applicationName,
            keepAlive: true,
            connectionTimeoutMillis: 5_000
          })
          client.on("error", (error) => fail(error.message))
          client.on("end", () => fail("connection ended"))
          client.on("notification", () => options.wake())
          try {
            await client.connect()
            await client.query(`LISTEN ${channel}`)
          } catch (error) {
            await client.end().catch(() => {})
            throw error
          }
          return client
        },
        catch: (cause) => new ListenerLost({ reason: reason(cause) })
      }),
      // Releases run uninterruptibly; `interruptible` lets the time limit apply to a hung socket.
      (client) =>
        Effect.promise(() => client.end().catch(() => {})).pipe(
          Effect.interruptible,
          Effect.timeout("1 second"),
          Effect.ignore
        )
    )
    yield* onConnected
    const probe = Effect.tryPromise({
      try: () => client.query("select 1"),
      catch: (cause) => new ListenerLost({ reason: `liveness probe failed: ${reason(cause)}` })
    }).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(Math.max(1_000, Math.min(options.probeIntervalMs, 5_000))),
        onTimeout: () => new ListenerLost({ reason: "liveness probe got no answer (half-open connection?)" })
      }),
      Effect.zipRight(Effect.sleep(Duration.millis(options.probeIntervalMs))),
      Effect.forever
    )
    return yield* Effect.raceFirst(
      Deferred.await(lost),
      Effect.zipRight(Effect.sleep(Duration.millis(options.probeIntervalMs)), probe)
    )
  }).pipe(Effect.scoped)

/**
 * Keeps a LISTEN session up for the life of the worker. Reconnects with `listenerReconnect`'s
 * jittered backoff, re-issues LISTEN, and wakes the worker after every (re)connect so it polls at
 * once for whatever was committed while it was deaf. Logs once per state change, not once per try.
 * While it is down the worker runs on polling alone.
 */
export const runListener = (options: ListenerOptions & { readonly pollIntervalMs: number }) => {
  let everConnected = false
  const outage = makeOutageLog(`LISTEN ${channel} re-established; polling once to catch up`)
  const onConnected = Effect.suspend(() => {
    options.wake()
    const first = !everConnected
    everConnected = true
    return Metric.set(Metrics.listenerConnected, 1).pipe(
      Effect.zipRight(first && !outage.isDown() ? Effect.logInfo(`LISTEN ${channel} established`) : outage.succeeded)
    )
  })
  return session(options, onConnected).pipe(
    Effect.catchAll((lost) =>
      Metric.set(Metrics.listenerConnected, 0).pipe(
        Effect.zipRight(outage.failed(
          `LISTEN ${channel} is down (${lost.reason}); reconnecting with backoff, polling every ${options.pollIntervalMs} ms meanwhile`
        )),
        Effect.zipRight(Effect.fail(lost))
      )
    ),
    Effect.retry(listenerReconnect),
    Effect.ensuring(Metric.set(Metrics.listenerConnected, 0))
  )
}
