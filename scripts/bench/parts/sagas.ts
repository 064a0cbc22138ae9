/**
 * Sagas end to end with the real services (production build, each its own process, on the same
 * Postgres): N checkouts are placed through the edge API while no saga runner is up, then one
 * system runs all N OrderPlaced sagas (a burst), interleaved round by round:
 * - ours: one orchestrator replica, default settings. The placed events are parked
 *   (available_at = infinity) while it starts, and released in one statement (+ NOTIFY);
 *   throughput = N / (release → the last saga's final write), server clock.
 * - DBOS Transact: the same five calls (verifyOrder's GET of the authorization, then createOrder,
 *   reserveStock, capturePayment, confirmOrder) and the ledger update as six workflow steps on a
 *   queue (concurrency 16, 50 ms poll).
 * - bare calls: the same five calls in a loop at concurrency 16, no persistence (the upper bound).
 * Statements per step divide by six steps for every system: ours has six units (authorization,
 * verifyOrder, the four calls) and settles the ledger in its finish; DBOS has six steps.
 * Per saga: orchestrator (or peer) CPU, Postgres CPU, the services' CPU, and statements from the
 * orchestrator's login (pg_stat_statements). Then unloaded latency: one saga at a time.
 * The setup is in sagas/Rig.ts, the systems in sagas/Ours.ts and sagas/Peers.ts, the medians in sagas/Rounds.ts.
 */
import type { Server } from "../Harness.ts"
import { makeOurs } from "./sagas/Ours.ts"
import { makePeers, pollMs } from "./sagas/Peers.ts"
import { concurrency, startRig } from "./sagas/Rig.ts"
import { type Round, sagaSteps, summarize, type System } from "./sagas/Rounds.ts"

export interface SagaOptions {
  readonly rounds: number
  readonly orders: number
  readonly unloaded: number
  readonly log: (line: string) => void
}

export const sagas = async (server: Server, options: SagaOptions) => {
  const rig = await startRig(server)
  const ours = makeOurs(rig)
  const peers = await makePeers(rig)
  const rounds: Array<Round> = []
  const latencies: Record<System, Array<number>> = { ours: [], dbos: [], bare: [] }
  try {
    await rig.ready()
    const plan: Array<System> = ["ours", "dbos", "bare"]
    for (let r = 1; r <= options.rounds; r++) {
      for (const system of plan.map((_, i) => plan[(i + r - 1) % plan.length]!)) {
        const result = system === "ours"
          ? await ours.measure(options.orders)
          : await peers.measure(system, options.orders)
        rounds.push(result)
        options.log(`sagas round ${r}: ${JSON.stringify(result)}`)
      }
    }
    latencies.ours = await ours.unloaded(options.unloaded)
    latencies.dbos = await peers.unloaded("dbos", options.unloaded)
    latencies.bare = await peers.unloaded("bare", options.unloaded)
  } finally {
    await rig.stop()
  }
  return {
    settings: { ...options, log: undefined, concurrency, dbosPollMs: pollMs, sagaSteps },
    ...summarize(rounds, latencies),
    rounds,
    latencies
  }
}
