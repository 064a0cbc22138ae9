/**
 * The peers in the sagas part, both in scripts/bench/runners/saga-peers.ts:
 * - DBOS Transact: the same five calls and the ledger update as six workflow steps on a queue
 *   (concurrency 16, 50 ms poll).
 * - bare calls: the same five calls in a loop at concurrency 16, no persistence (the upper bound).
 */
import { compile, launch, postgresCpuMs, resetStatements, statementCount } from "../../Harness.ts"
import { concurrency, database, dbosSystemDatabase, type Rig } from "./Rig.ts"
import { perSaga, type Round } from "./Rounds.ts"

export const pollMs = 50
export type Peer = "dbos" | "bare"

export const makePeers = async (rig: Rig) => {
  const { harness, server } = rig
  const peerRunner = await compile("scripts/bench/runners/saga-peers.ts")

  const run = async (mode: Peer, sequential: boolean) => {
    const child = launch(
      [peerRunner],
      {
        BENCH_MODE: mode,
        BENCH_CONCURRENCY: String(concurrency),
        BENCH_POLL_MS: String(pollMs),
        BENCH_SEQUENTIAL: sequential ? "1" : "0",
        DATABASE_URL: rig.url,
        DBOS_SYSTEM_DATABASE_URL: server.url(dbosSystemDatabase),
        ...rig.serviceUrls
      },
      mode,
      { stdin: true }
    )
    await child.line(/^ready$/, 120_000)
    const pg0 = postgresCpuMs(server.postmaster)
    const svc0 = rig.servicesCpu()
    if (server.statements) await resetStatements(harness)
    child.send("go")
    const result = JSON.parse(await child.line(/^\{/, 600_000)) as {
      sagas: number
      seconds: number
      cpuMs: number
      latenciesMs: Array<number>
    }
    const pgCpu = postgresCpuMs(server.postmaster) - pg0
    const svcCpu = rig.servicesCpu() - svc0
    const statements = server.statements
      ? (await statementCount(harness, database, ["postgres"])) +
        (await statementCount(harness, dbosSystemDatabase, ["postgres"]))
      : NaN
    await child.stop()
    return { result, pgCpu, svcCpu, statements }
  }

  const measure = async (mode: Peer, n: number): Promise<Round> => {
    const ids = await rig.place(n)
    const { pgCpu, result, statements, svcCpu } = await run(mode, false)
    const notConfirmed = mode === "dbos" ? await rig.notConfirmedOf(ids) : undefined
    return perSaga(
      mode,
      result.sagas,
      result.seconds,
      result.cpuMs,
      pgCpu,
      svcCpu,
      mode === "bare" ? NaN : statements,
      notConfirmed
    )
  }

  const unloaded = async (mode: Peer, n: number) => {
    await rig.place(n)
    return (await run(mode, true)).result.latenciesMs
  }

  return { measure, unloaded }
}
