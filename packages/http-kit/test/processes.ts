/** Service entrypoints as real OS processes, with their output kept for assertions. */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))

export const entries = {
  orders: "services/orders/src/main.ts",
  inventory: "services/inventory/src/main.ts",
  edge: "services/edge-api/src/main.ts",
  orchestrator: "services/orchestrator/src/main.ts"
} as const

export interface ServiceProcess {
  readonly child: ChildProcess
  readonly output: () => string
  /** Output lines that are not empty. */
  readonly lines: () => ReadonlyArray<string>
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  readonly exited: Promise<number | null>
  readonly stop: () => Promise<number | null>
}

export const spawnService = (entry: string, env: Record<string, string>): ServiceProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    for (const check of [...waiters]) check()
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output so far:\n${output}`))
      }, timeoutMs)
      const check = () => {
        const match = output.match(pattern)
        if (match !== null) {
          clearTimeout(timer)
          waiters.delete(check)
          resolve(match)
        }
      }
      waiters.add(check)
      check()
    })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    return exited
  }
  const lines = () => output.split("\n").filter((line) => line.trim() !== "")
  return { child, output: () => output, lines, waitFor, exited, stop }
}

/** A port nothing listens on right now (the kernel's choice, released at once). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })
