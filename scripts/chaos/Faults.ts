import { Effect, Option, Random, Ref, Schedule } from "effect"
import { admin, type ChaosPostgres } from "./Postgres.ts"
import type { Slot } from "./Processes.ts"
import type { ChaosSettings } from "./Settings.ts"
import type { System } from "./System.ts"

/** Restarts Postgres once `placed` checkouts are in, then runs `restarted` (only when the server is ours). */
const restartPostgresWhen = (
  db: ChaosPostgres,
  placedCount: Ref.Ref<number>,
  placed: number,
  restarted: Effect.Effect<void>
) =>
  Option.match(db.restart, {
    onNone: () => Effect.void,
    onSome: (restart) =>
      Ref.get(placedCount).pipe(
        Effect.repeat({ until: (n) => n >= placed, schedule: Schedule.spaced("100 millis") }),
        Effect.zipRight(restart),
        Effect.zipRight(restarted)
      )
  })

/** A process that exits by itself is restarted and counted (its log is in logDir). */
const restartWhatExits = (slots: ReadonlyArray<Slot>, crashes: Ref.Ref<Array<string>>) =>
  Effect.forEach(slots, (slot) =>
    slot.ensureRunning.pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.void,
        onSome: (code) => Ref.update(crashes, (list) => [...list, `${slot.name} exited ${code}`])
      }))
    )).pipe(Effect.zipRight(Effect.sleep("500 millis")), Effect.forever)

/**
 * Process and connection faults, each loop forked into the run's scope: replicas SIGKILLed and
 * connections terminated every `faultEveryMs` or so, Postgres restarted once when two fifths of the
 * checkouts are placed, and a watchdog that restarts (and counts) any process that exits by itself.
 */
export const startFaults = (
  settings: ChaosSettings,
  system: System,
  db: ChaosPostgres,
  placedCount: Ref.Ref<number>
) =>
  Effect.gen(function*() {
    const kills = yield* Ref.make(0)
    const terminated = yield* Ref.make(0)
    const pgRestarts = yield* Ref.make(0)
    const crashes = yield* Ref.make<Array<string>>([])

    const faultErrors: Array<string> = []
    const noteFaultError = (what: string) => (defect: unknown) =>
      Effect.sync(() => faultErrors.push(`${what}: ${String(defect)}`))
    const terminateOrchestrator = admin(db.url, async (client) => {
      const result = await client.query<{ n: number }>(
        "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where usename = 'orchestrator'"
      )
      return result.rows[0]?.n ?? 0
    }).pipe(
      Effect.flatMap((n) => Ref.update(terminated, (t) => t + n)),
      Effect.catchAllDefect(noteFaultError("terminate"))
    )

    // Kill a replica that is up (has a heartbeat row), and never the last one up: the run must progress.
    const killReplica = admin(
      db.url,
      async (client) =>
        (await client.query<{ id: string }>("select worker_id as id from worker_heartbeats")).rows.map((row) => row.id)
    ).pipe(
      Effect.flatMap((up) => {
        const live = system.replicas.filter((_, i) => up.includes(system.workerIds[i]!))
        if (live.length < 2) return Effect.void
        return Effect.flatMap(
          Random.nextIntBetween(0, live.length),
          (n) => Effect.zipRight(live[n]!.restart("SIGKILL"), Ref.update(kills, (k) => k + 1))
        )
      }),
      Effect.catchAllDefect(noteFaultError("kill"))
    )

    const faults = Effect.gen(function*() {
      const pause = yield* Random.nextRange(0.5, 1.5)
      yield* Effect.sleep(Math.round(settings.faultEveryMs * pause))
      yield* (yield* Random.next) < 0.5 ? killReplica : terminateOrchestrator
    }).pipe(Effect.forever)

    const restartPostgresOnce = restartPostgresWhen(
      db,
      placedCount,
      Math.ceil(settings.orders * 0.4),
      Ref.update(pgRestarts, (n) => n + 1)
    )

    const watchdog = restartWhatExits([...system.services, ...system.replicas], crashes)

    const watchdogFiber = yield* Effect.forkScoped(watchdog)
    const faultFiber = yield* Effect.forkScoped(faults)
    const restartFiber = yield* Effect.forkScoped(restartPostgresOnce)
    return {
      watchdogFiber,
      faultFiber,
      restartFiber,
      faultErrors,
      crashes: Ref.get(crashes),
      counts: Effect.all({ kills: Ref.get(kills), terminated: Ref.get(terminated), pgRestarts: Ref.get(pgRestarts) })
    }
  })
