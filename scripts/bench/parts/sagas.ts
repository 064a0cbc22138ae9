/**
 * Sagas end to end with the real services (production build, each its own process, on the same
 * Postgres): N checkouts are placed through the edge API while no saga runner is up, then one
 * system runs all N OrderPlaced sagas (a burst), interleaved round by round:
 * - ours: one orchestrator replica, default settings. The placed events are parked
 *   (available_at = infinity) while it starts, and released in one statement (+ NOTIFY);
 *   throughput = N / (release → the last saga's final write), server clock.
 * - ours-telemetry: the same with the orchestrator exporting traces, metrics and logs over
 *   OTLP/HTTP (SDK defaults) to a loopback receiver that counts what it gets: telemetry's cost
 *   on real sagas (the drain part measures it on no-op events).
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
import { OtlpReceiver } from "../../../packages/telemetry/test-support/OtlpReceiver.ts"
import { roundOrder, type Server } from "../Harness.ts"
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
  // Bodies are counted, not kept or parsed: the receiver costs the machine as little as possible.
  const receiver = await OtlpReceiver.start({ keepBodies: false })
  const rig = await startRig(server).catch(async (error) => {
    await receiver.stop()
    throw error
  })
  const ours = makeOurs(rig, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })
  const peers = await makePeers(rig)
  const rounds: Array<Round> = []
  const latencies: Record<System, Array<number>> = { ours: [], "ours-telemetry": [], dbos: [], bare: [] }
  try {
    await rig.ready()
    const plan: Array<System> = ["ours", "ours-telemetry", "dbos", "bare"]
    const measure = (system: System, orders: number) =>
      system === "ours" || system === "ours-telemetry"
        ? ours.measure(orders, system)
        : peers.measure(system, orders)
    // A first, unmeasured pass: the services, Postgres and the page cache are cold for whoever runs
    // first (the first measured round once gave ours 33 sagas/s against 38-41 later).
    for (const system of plan) await measure(system, Math.min(options.orders, 50))
    for (let r = 1; r <= options.rounds; r++) {
      // A different order each round, so no system always follows the same one.
      for (const system of roundOrder(plan, r)) {
        const result = { ...(await measure(system, options.orders)), round: r }
        rounds.push(result)
        options.log(`sagas round ${r}: ${JSON.stringify(result)}`)
      }
    }
    latencies.ours = await ours.unloaded(options.unloaded)
    latencies.dbos = await peers.unloaded("dbos", options.unloaded)
    latencies.bare = await peers.unloaded("bare", options.unloaded)
  } finally {
    await rig.stop()
    await receiver.stop()
  }
  options.log(`sagas: the OTLP receiver got ${JSON.stringify(receiver.counts)}`)
  return {
    settings: { ...options, log: undefined, concurrency, dbosPollMs: pollMs, sagaSteps },
    otlpReceived: receiver.counts,
    ...summarize(rounds, latencies),
    rounds,
    latencies
  }
}
