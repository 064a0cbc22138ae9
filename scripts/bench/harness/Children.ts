/** Child processes: entrypoints compiled to JavaScript once, launched, read line by line, stopped. */
import { build, type Plugin } from "esbuild"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { root, sleep } from "./Stats.ts"

const compiled = new Map<string, string>()
const outDir = join(root, ".tmp", "bench")

/** Bare imports stay external (resolved from node_modules), except our workspaces, which export .ts. */
const externalDependencies: Plugin = {
  name: "external-dependencies",
  setup(builder) {
    builder.onResolve(
      { filter: /^[^./]/ },
      (args) => args.path.startsWith("@ecommerce/") ? undefined : { path: args.path, external: true }
    )
  }
}

/** Compiles a TypeScript entrypoint (a runner, a test fixture) to JavaScript once, so no child transpiles. */
export const compile = async (entry: string): Promise<string> => {
  const known = compiled.get(entry)
  if (known) return known
  mkdirSync(outDir, { recursive: true })
  const outfile = join(outDir, entry.replace(/[/.]/g, "_") + ".mjs")
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    plugins: [externalDependencies]
  })
  compiled.set(entry, outfile)
  return outfile
}

export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  readonly spawnedAt: number
  /** Resolves with the first stdout line matching, e.g. a runner's "ready" or JSON result. */
  readonly line: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
  readonly output: () => string
  /** Writes a line to the child's stdin (only when launched with `stdin: true`). */
  readonly send: (line: string) => void
}

const children = new Set<ChildProcess>()

export const launch = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  name = args.join(" "),
  options: { readonly stdin?: boolean } = {}
): Child => {
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"]
  })
  children.add(child)
  const recent: Array<string> = []
  const lines: Array<string> = []
  const waiters = new Set<() => void>()
  let pending = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString()
    const parts = pending.split("\n")
    pending = parts.pop()!
    lines.push(...parts)
    recent.push(...parts)
    recent.splice(0, Math.max(0, recent.length - 40))
    for (const wake of waiters) wake()
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    recent.push(...chunk.toString().split("\n"))
    recent.splice(0, Math.max(0, recent.length - 40))
  })
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => {
      children.delete(child)
      for (const wake of waiters) wake()
      resolve()
    })
  )
  const line = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`${name}: no line matching ${pattern} after ${timeoutMs} ms`)),
        timeoutMs
      )
      const check = () => {
        const found = lines.find((l) => pattern.test(l))
        if (found !== undefined) return done(undefined, found)
        if (child.exitCode !== null || child.signalCode !== null) {
          done(new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${recent.join("\n")}`))
        }
      }
      const done = (error?: Error, value?: string) => {
        clearTimeout(timer)
        waiters.delete(check)
        if (error) reject(error)
        else resolve(value!)
      }
      waiters.add(check)
      check()
    })
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  const send = (text: string) => {
    child.stdin?.write(`${text}\n`)
  }
  return { process: child, pid: child.pid!, spawnedAt, line, stop, output: () => recent.join("\n"), send }
}

/** Kills whatever children are left (a part that failed half-way). */
export const killChildren = () => {
  for (const child of children) child.kill("SIGKILL")
}

/** Polls `check` every `everyMs` until it returns true; fails after `timeoutMs`. */
export const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 20) => {
  const deadline = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}
