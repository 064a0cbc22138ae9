import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Logger, TestClock } from "effect"
import { type LoopDied, LoopGivenUp, makeSupervisor } from "../src/outbox/Supervisor.ts"

interface Line {
  readonly level: string
  readonly message: string
  readonly cause: string
}

const capture = (lines: Array<Line>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ cause, logLevel, message }) => {
      lines.push({
        level: logLevel.label,
        message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        cause: String(cause)
      })
    })
  )

describe("worker loop supervision", () => {
  it.effect("a loop that dies is logged at error with its cause and restarted; one that keeps dying gives up", () =>
    Effect.gen(function*() {
      const lines: Array<Line> = []
      const givenUp = yield* Deferred.make<LoopDied>()
      let runs = 0
      const upWhileRunning: Array<boolean> = []
      const supervisor = yield* makeSupervisor.pipe(
        Effect.provideService(LoopGivenUp, (died) => Deferred.succeed(givenUp, died))
      )
      const dying = Effect.suspend(() => {
        runs++
        upWhileRunning.push(supervisor.isUp("fetcher"))
        return Effect.die(new Error(`boom ${runs}`))
      })
      const fiber = yield* Effect.fork(supervisor.supervise("fetcher", dying).pipe(Effect.provide(capture(lines))))
      yield* TestClock.adjust("1 millis")
      expect(runs).toBe(1)
      expect(supervisor.isUp("fetcher")).toBe(false)
      for (let i = 0; i < 10; i++) yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      const died = yield* Deferred.await(givenUp)
      expect(died.loop).toBe("fetcher")
      // The first run and five restarts (loopRestart's budget), each logged at error with its cause.
      expect(runs).toBe(6)
      expect(upWhileRunning.every((up) => up)).toBe(true)
      const deaths = lines.filter((l) => l.level === "ERROR" && l.message.startsWith("loop fetcher died"))
      expect(deaths).toHaveLength(6)
      expect(deaths[0]!.cause).toContain("boom 1")
      expect(lines.at(-1)).toMatchObject({
        level: "ERROR",
        message: "loop fetcher keeps dying; giving up on this replica"
      })
    }))

  it.effect("a loop that returns counts as dead; a loop that is interrupted (shutdown) does not", () =>
    Effect.gen(function*() {
      const lines: Array<Line> = []
      const supervisor = yield* makeSupervisor.pipe(Effect.provideService(LoopGivenUp, () => Effect.void))
      let runs = 0
      const returning = Effect.sync(() => {
        runs++
      })
      yield* Effect.fork(supervisor.supervise("reaper", returning).pipe(Effect.provide(capture(lines))))
      yield* TestClock.adjust("1 millis")
      expect(runs).toBe(1)
      expect(lines[0]).toMatchObject({ level: "ERROR", message: "loop reaper died; restarting it with backoff" })
      yield* TestClock.adjust("10 seconds")
      expect(runs).toBeGreaterThan(1)

      const forever = yield* Effect.fork(
        supervisor.supervise("poller", Effect.never).pipe(Effect.provide(capture(lines)))
      )
      yield* TestClock.adjust("1 millis")
      yield* Fiber.interrupt(forever)
      expect(lines.some((l) => l.message.includes("poller"))).toBe(false)
      expect(supervisor.isUp("poller")).toBe(true)
    }))
})
