/**
 * The system's processes for the chaos run: each service and replica is a real OS process in a
 * process group of its own (so a kill reaches everything it started, and a Ctrl-C in the terminal
 * reaches only this runner, which then stops them), its output appended to a log file, and its
 * lifetime tied to a Scope: closing the scope stops the group (SIGTERM, then SIGKILL after 5 s).
 */
import { Deferred, Effect, ExecutionStrategy, Exit, Option, Scope } from "effect"
import { spawn } from "node:child_process"
import { closeSync, openSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../", import.meta.url))

export interface Child {
  readonly name: string
  readonly pid: number
  /** Resolves with the exit code (or the signal's name) when the process has exited. */
  readonly exited: Deferred.Deferred<string>
  readonly isRunning: Effect.Effect<boolean>
  /** Sends `signal` to the whole process group. */
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
}

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/** Starts `node --import tsx <script>` with `env` (on top of PATH and HOME only) in its own process group. */
export const spawnNode = (name: string, script: string, env: Record<string, string>, logDir: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const log = openSync(join(logDir, `${name}.log`), "a")
      const child = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
        stdio: ["ignore", log, log],
        detached: true
      })
      closeSync(log)
      const exited = yield* Deferred.make<string>()
      child.on("exit", (code, signal) => Deferred.unsafeDone(exited, Effect.succeed(String(code ?? signal))))
      if (child.pid === undefined) {
        return yield* Effect.dieMessage(`could not start ${name} (${script})`)
      }
      const pid = child.pid
      return {
        name,
        pid,
        exited,
        isRunning: Effect.map(Deferred.isDone(exited), (done) => !done),
        signal: (signal: NodeJS.Signals) => Effect.sync(() => signalGroup(pid, signal))
      } satisfies Child
    }),
    (child) =>
      Effect.gen(function*() {
        yield* child.signal("SIGTERM")
        const stopped = yield* Deferred.await(child.exited).pipe(Effect.timeout("5 seconds"), Effect.option)
        if (stopped._tag === "None") {
          yield* child.signal("SIGKILL")
          yield* Deferred.await(child.exited).pipe(Effect.timeout("5 seconds"), Effect.ignore)
        }
        // Anything the process started in its group (SIGKILL is delivered even after the leader exited).
        yield* child.signal("SIGKILL")
      })
  )

/** A child in a scope of its own, so it can be killed and replaced without closing the run's scope. */
export interface Slot {
  readonly name: string
  /** Signals the group (SIGKILL by default), waits for the exit, and starts a fresh process. */
  readonly restart: (signal?: NodeJS.Signals) => Effect.Effect<void>
  /** Starts a fresh process if the current one exited by itself; returns its exit code when it did. */
  readonly ensureRunning: Effect.Effect<Option.Option<string>>
}

export const supervised = (name: string, start: Effect.Effect<Child, never, Scope.Scope>) =>
  Effect.gen(function*() {
    const outer = yield* Effect.scope
    const lock = yield* Effect.makeSemaphore(1)
    let scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
    let child = yield* Scope.extend(start, scope)
    const replace = Effect.gen(function*() {
      const code = yield* Deferred.await(child.exited)
      yield* Scope.close(scope, Exit.void)
      scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      child = yield* Scope.extend(start, scope)
      return code
    })
    const restart = (signal: NodeJS.Signals = "SIGKILL") =>
      lock.withPermits(1)(Effect.suspend(() => Effect.zipRight(child.signal(signal), replace)))
    const ensureRunning = lock.withPermits(1)(Effect.suspend(() =>
      Effect.flatMap(child.isRunning, (running) => running ? Effect.succeedNone : Effect.asSome(replace))
    ))
    return { name, restart, ensureRunning } satisfies Slot
  })
