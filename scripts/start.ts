/**
 * `npm start`: the whole system on one machine. Without DATABASE_URL it starts the embedded
 * Postgres whose data lives in .data/postgres (kept between runs) and creates the `ecommerce`
 * database; with it, it uses that server. Then it migrates, applies the roles, and runs the four
 * services and one orchestrator replica, each as its own process with its output prefixed.
 * Ctrl-C stops them all (each drains gracefully), then Postgres.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { ensureDatabase, startEmbedded } from "../packages/db/src/embedded.ts"
import { Redacted } from "effect"
import { databaseUrl, withCredentials } from "../packages/db/src/DatabaseUrl.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329)

const processes = [
  ["inventory", "services/inventory/src/main.ts"],
  ["payments", "services/payments/src/main.ts"],
  ["orders", "services/orders/src/main.ts"],
  ["edge-api", "services/edge-api/src/main.ts"],
  ["orchestrator", "services/orchestrator/src/main.ts"]
] as const

const launch = (name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
  const prefix = `${name.padEnd(12)} | `
  const relay = (target: NodeJS.WriteStream) => (chunk: Buffer) =>
    target.write(chunk.toString().replace(/\n(?!$)/g, `\n${prefix}`).replace(/^/, prefix))
  child.stdout!.on("data", relay(process.stdout))
  child.stderr!.on("data", relay(process.stderr))
  return child
}

const exited = (child: ChildProcess) =>
  new Promise<number>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.on("exit", (code) => resolve(code ?? 1))
  })

const main = async () => {
  let url = process.env.DATABASE_URL
  let stopPostgres = async () => {}
  if (!url) {
    console.log(`starting embedded Postgres on 127.0.0.1:${port} (data in .data/postgres)`)
    const server = await startEmbedded({ dataDir: `${root}.data/postgres`, port, persistent: true })
    stopPostgres = server.stop
    await ensureDatabase(server.adminUrl(), "ecommerce")
    url = databaseUrl(server.adminUrl(), "ecommerce")
  }
  const env = { ...process.env, DATABASE_URL: url }
  for (const [name, script] of [["migrate", "packages/db/src/bin/migrate.ts"], ["db-roles", "packages/db/src/bin/roles.ts"]]) {
    const code = await exited(launch(name!, script!, env))
    if (code !== 0) {
      await stopPostgres()
      process.exit(code)
    }
  }
  // The services log in as their own roles by themselves; the orchestrator takes its credentials
  // from DATABASE_URL as given, so here it is given its least-privilege role.
  const orchestratorUrl = withCredentials(
    url,
    "orchestrator",
    Redacted.make(process.env.ORCHESTRATOR_DATABASE_PASSWORD ?? "orchestrator-dev-password")
  )
  const children = processes.map(([name, script]) =>
    launch(name, script, name === "orchestrator" ? { ...env, DATABASE_URL: orchestratorUrl } : env)
  )
  let stopping = false
  const stopAll = (signal: NodeJS.Signals) => {
    if (stopping) {
      for (const child of children) child.kill("SIGKILL")
      return
    }
    stopping = true
    console.log(`\n${signal}: stopping (again to kill at once)`)
    for (const child of children) child.kill("SIGTERM")
  }
  process.on("SIGINT", () => stopAll("SIGINT"))
  process.on("SIGTERM", () => stopAll("SIGTERM"))
  // If any process dies on its own, stop the rest: a half-running system hides the failure.
  const codes = await Promise.all(
    children.map(async (child, i) => {
      const code = await exited(child)
      if (!stopping) {
        console.error(`${processes[i]![0]} exited with code ${code}; stopping the others`)
        stopAll("SIGTERM")
      }
      return code
    })
  )
  await stopPostgres()
  process.exit(codes.some((code) => code !== 0) ? 1 : 0)
}

void main()
