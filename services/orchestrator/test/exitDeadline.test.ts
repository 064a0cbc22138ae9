/**
 * The hard bound on a replica's stop (ExitDeadline.ts), with a stand-in for the daemon's layers and
 * Node's fake timers; the real process case (a claim stuck behind a table lock) is in
 * worker.process.test.ts.
 */
import { ConfigProvider, Effect, Exit, Fiber, Layer, Logger, Scope } from "effect"
import { afterEach, beforeEach, expect, it, type MockInstance, vi } from "vitest"
import { withExitDeadline } from "../src/ExitDeadline.ts"

let events: Array<string> = []
let exit: MockInstance<typeof process.exit>

beforeEach(() => {
  events = []
  // setImmediate stays real: the line's flush is real I/O, waited for without moving the clock.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] })
  exit = vi.spyOn(process, "exit").mockImplementation((code) => {
    events.push(`exit ${code}`)
    return undefined as never
  })
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

/** The worker's finalizer (hanging if asked) over a pool that closes after it. */
const daemon = (finalizer: Effect.Effect<void>) =>
  withExitDeadline(
    Layer.scopedDiscard(Effect.addFinalizer(() => finalizer)).pipe(
      Layer.provide(Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => void events.push("pool closed")))))
    )
  )

/** A finalizer that never finishes (interruptible, so the test can end it afterwards). */
const hang = Effect.interruptible(Effect.never)

const logged = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void events.push(String(message))))

/** Builds the layer with SHUTDOWN_GRACE_MS set, then starts closing its scope in a fiber of its own. */
const startStop = (layer: Layer.Layer<never, unknown>, shutdownGraceMs: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(layer, scope)
    return yield* Effect.forkDaemon(Scope.close(scope, Exit.void))
  }).pipe(
    Effect.provide(logged),
    Effect.withConfigProvider(ConfigProvider.fromJson({ SHUTDOWN_GRACE_MS: shutdownGraceMs }))
  )

it("a stop that finishes clears the deadline: nothing exits the process afterwards", async () => {
  await Effect.runPromise(Effect.flatMap(
    startStop(daemon(Effect.sync(() => void events.push("worker stopped"))), "0"),
    Fiber.join
  ))
  expect(vi.getTimerCount()).toBe(0)
  await vi.advanceTimersByTimeAsync(60_000)
  expect(events).toEqual(["worker stopped", "pool closed"])
  expect(exit).not.toHaveBeenCalled()
})

it("a stop that hangs ends at SHUTDOWN_GRACE_MS + 25 s: the reason is logged, then exit 1", async () => {
  const stop = await Effect.runPromise(startStop(daemon(hang), "500"))
  await vi.advanceTimersByTimeAsync(25_499)
  expect(exit).not.toHaveBeenCalled()
  await vi.advanceTimersByTimeAsync(1)
  // The exit follows the line's write to stdout, not the 1 s fallback: the clock stays put.
  for (let tick = 0; tick < 100 && !events.includes("exit 1"); tick++) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  expect(events[0]).toMatch(/^shutdown did not finish within 25500 ms \(SHUTDOWN_GRACE_MS \+ 25 s\)/)
  expect(events.slice(1, 2)).toEqual(["exit 1"])
  expect(events).not.toContain("pool closed")
  await Effect.runPromise(Fiber.interrupt(stop))
})

it("a SHUTDOWN_GRACE_MS beyond setTimeout's range waits as long as a timer can, not 1 ms", async () => {
  const stop = await Effect.runPromise(startStop(daemon(hang), String(2 ** 31 - 1)))
  await vi.advanceTimersByTimeAsync(24 * 60 * 60 * 1000)
  expect(exit).not.toHaveBeenCalled()
  await Effect.runPromise(Fiber.interrupt(stop))
})
