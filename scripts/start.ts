/**
 * `npm start`: with DATABASE_URL set, migrates that database and runs one worker on it. Without it,
 * starts the embedded Postgres whose data lives in .data/postgres (kept between runs), creates the
 * `ecommerce` database, migrates it, and runs one worker. Ctrl-C stops the worker, then Postgres.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ensureDatabase, startEmbedded } from "../packages/db/src/embedded.ts"
import { databaseUrl } from "../packages/db/src/testing.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329)

const run = (script: string, env: NodeJS.ProcessEnv) =>
  new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, env, stdio: "inherit" })
    const forward = (signal: NodeJS.Signals) => child.kill(signal)
    process.on("SIGINT", forward)
    process.on("SIGTERM", forward)
    child.on("exit", (code) => {
      process.off("SIGINT", forward)
      process.off("SIGTERM", forward)
      resolve(code ?? 1)
    })
  })

const main = async () => {
  let url = process.env.DATABASE_URL
  let stop = async () => {}
  if (!url) {
    console.log(`starting embedded Postgres on 127.0.0.1:${port} (data in .data/postgres)`)
    const server = await startEmbedded({ dataDir: `${root}.data/postgres`, port, persistent: true })
    stop = server.stop
    await ensureDatabase(server.adminUrl(), "ecommerce")
    url = databaseUrl(server.adminUrl(), "ecommerce")
  }
  const env = { ...process.env, DATABASE_URL: url }
  let code = await run("packages/db/src/bin/migrate.ts", env)
  if (code === 0) code = await run("services/orchestrator/src/main.ts", env)
  await stop()
  process.exit(code)
}

void main()
