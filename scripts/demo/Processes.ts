import { Data, Deferred, Duration, Effect, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, readFileSync } from "node:fs"

export class ProcessFailed extends Data.TaggedError("ProcessFailed")<{ readonly message: string }> {}

export interface Child {
  readonly name: string
  readonly pid: number
  readonly logFile: string
  /** Completes with the exit code (or the signal) when the process ends, for whatever reason. */
  readonly exited: Deferred.Deferred<string>
  readonly lastLines: (n: number) => string
}

/** Every child's process group, for the forced stop of a second Ctrl-C (synchronous, from a signal handler). */
export const liveGroups = new Set<number>()

export const killAllGroups = (signal: NodeJS.Signals) => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, signal)
    } catch {
      // already gone
    }
  }
}

const exitText = (
  code: number | null,
  signal: NodeJS.Signals | null
) => (code === null ? `signal ${signal}` : `code ${code}`)

/**
 * A TypeScript entrypoint as a child process, scoped: closing the scope sends SIGTERM to its whole
 * process group, waits up to `graceMs` for it to exit (it drains), then SIGKILLs the group. Each
 * child gets its own process group (`detached`), so the terminal's Ctrl-C reaches only the
 * supervisor, which decides the order of shutdown. Output goes to `logFile`.
 */
export const spawnScoped = (options: {
  readonly name: string
  readonly script: string
  readonly args?: ReadonlyArray<string>
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  readonly logFile: string
  readonly graceMs: number
  readonly onStdout?: (line: string) => void
}): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<string>()
    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const log = createWriteStream(options.logFile, { flags: "a" })
        const proc = spawn(process.execPath, ["--import", "tsx", options.script, ...(options.args ?? [])], {
          cwd: options.cwd,
          env: options.env,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true
        })
        liveGroups.add(proc.pid!)
        let partial = ""
        proc.stdout!.on("data", (chunk: Buffer) => {
          log.write(chunk)
          if (options.onStdout === undefined) return
          partial += chunk.toString()
          const lines = partial.split("\n")
          partial = lines.pop()!
          for (const line of lines) options.onStdout(line)
        })
        proc.stderr!.on("data", (chunk: Buffer) => log.write(chunk))
        proc.on("exit", (code, signal) => {
          liveGroups.delete(proc.pid!)
          log.end()
          Deferred.unsafeDone(exited, Effect.succeed(exitText(code, signal)))
        })
        return proc
      }),
      (proc) =>
        Effect.gen(function*() {
          if (proc.exitCode !== null || proc.signalCode !== null) return
          yield* Effect.sync(() => signalGroup(proc.pid!, "SIGTERM"))
          const done = yield* Deferred.await(exited).pipe(
            Effect.timeout(Duration.millis(options.graceMs)),
            Effect.option
          )
          if (done._tag === "None") {
            yield* Effect.sync(() => signalGroup(proc.pid!, "SIGKILL"))
            yield* Deferred.await(exited)
          }
          // Anything the child left in its group (it should leave nothing) goes with it.
          yield* Effect.sync(() => signalGroup(proc.pid!, "SIGKILL"))
        })
    )
    return {
      name: options.name,
      pid: child.pid!,
      logFile: options.logFile,
      exited,
      lastLines: (n: number) => {
        try {
          return readFileSync(options.logFile, "utf8").trimEnd().split("\n").slice(-n).join("\n")
        } catch {
          return "(no output)"
        }
      }
    } satisfies Child
  })

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group is gone
  }
}

/** Fails when the child exits while it should be running: a half-running system hides the failure. */
export const failWhenExits = (child: Child) =>
  Effect.flatMap(
    Deferred.await(child.exited),
    (how) => new ProcessFailed({ message: `${child.name} exited (${how}); its last output:\n${child.lastLines(20)}` })
  )
