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
 */
import { Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { withCredentials } from "../../../packages/db/src/DatabaseUrl.ts"
import { freePort } from "../../../packages/db/src/embedded.ts"
import {
  awaitHeartbeat,
  type Child,
  compile,
  connect,
  freshDatabase,
  launch,
  median,
  ourEntry,
  postgresCpuMs,
  processCpuMs,
  quantile,
  resetStatements,
  round,
  runOnce,
  type Server,
  sleep,
  statementCount,
  waitFor
} from "../Harness.ts"

export interface SagaOptions {
  readonly rounds: number
  readonly orders: number
  readonly unloaded: number
  readonly log: (line: string) => void
}

type System = "ours" | "dbos" | "bare"
const concurrency = 16
const pollMs = 50
/** Steps per saga, the same for every system (see the header). */
const sagaSteps = 6
const database = "bench_sagas"
const token = "dev-service-token"
/** The edge API's client key: checkout accepts EDGE_API_KEYS, never the internal SERVICE_TOKEN. */
const edgeKey = "bench-edge-key"

const services = [
  ["inventory", "INVENTORY"],
  ["payments", "PAYMENTS"],
  ["orders", "ORDERS"],
  ["edge-api", "EDGE_API"]
] as const

interface Round {
  readonly system: System
  readonly sagas: number
  readonly seconds: number
  readonly sagasPerSecond: number
  readonly runnerCpuMsPerSaga: number | null
  readonly postgresCpuMsPerSaga: number | null
  readonly servicesCpuMsPerSaga: number | null
  readonly statementsPerSaga: number | null
  readonly statementsPerStep: number | null
  /** Ours only: the saga engine's own statements per step, without the outbox worker's (claims, completions, heartbeats, reaper). */
  readonly sagaStatementsPerStep?: number | null
  readonly notConfirmed?: number
}

export const sagas = async (server: Server, options: SagaOptions) => {
  await freshDatabase(server, database)
  await freshDatabase(server, "bench_dbos_sys")
  const url = server.url(database)
  await runOnce(ourEntry.migrate, { DATABASE_URL: url })
  await runOnce(ourEntry.roles, { DATABASE_URL: url })
  const harness = await connect(server.harnessUrl(database))
  await harness.query("update inventory.stock set on_hand = 100000000")
  const ports = Object.fromEntries(await Promise.all(services.map(async ([name]) => [name, await freePort()] as const)))
  const serviceUrls = {
    ORDERS_SERVICE_URL: `http://127.0.0.1:${ports.orders}`,
    INVENTORY_SERVICE_URL: `http://127.0.0.1:${ports.inventory}`,
    PAYMENTS_SERVICE_URL: `http://127.0.0.1:${ports.payments}`,
    SERVICE_TOKEN: token
  }
  const edge = `http://127.0.0.1:${ports["edge-api"]}`
  const running: Array<Child> = services.map(([name, prefix]) =>
    launch([`dist/services/${name}/main.js`], {
      DATABASE_URL: url,
      LOG_LEVEL: "Warn",
      [`${prefix}_PORT`]: String(ports[name]),
      ...(name === "edge-api" ? { EDGE_API_KEYS: edgeKey } : {}),
      ...serviceUrls
    }, name)
  )
  const orchestratorUrl = withCredentials(url, "orchestrator", Redacted.make("orchestrator-dev-password"))
  const peerRunner = await compile("scripts/bench/runners/saga-peers.ts")
  const servicesCpu = () => running.reduce((sum, child) => sum + processCpuMs(child.pid), 0)
  let workerSeq = 0

  const place = async (n: number): Promise<Array<string>> => {
    const ids: Array<string> = []
    let next = 0
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next++ < n) {
        const key = randomUUID()
        for (let attempt = 1;; attempt++) {
          const response = await fetch(`${edge}/checkout`, {
            method: "POST",
            headers: { authorization: `Bearer ${edgeKey}`, "content-type": "application/json", "idempotency-key": key },
            body: JSON.stringify({
              customerId: "cust-bench",
              items: [{ sku: "MUG-BLUE", quantity: 1 }],
              currency: "EUR",
              cardToken: "tok_visa"
            })
          })
          const body = await response.text()
          if (response.ok) {
            ids.push(JSON.parse(body).orderId)
            break
          }
          if (response.status < 500 || attempt >= 10) throw new Error(`checkout: ${response.status} ${body}`)
          await sleep(50)
        }
      }
    }))
    return ids
  }

  const startOrchestrator = async () => {
    const id = `saga-bench-${++workerSeq}`
    const child = launch([ourEntry.orchestrator], {
      DATABASE_URL: orchestratorUrl,
      LOG_LEVEL: "Warn",
      WORKER_ID: id,
      ...serviceUrls
    }, id)
    await awaitHeartbeat(harness, [id])
    await sleep(500)
    return child
  }

  /** The orchestrator's statements that are the outbox worker's: every one naming its two tables. */
  const workerStatementCount = async () =>
    Number(
      (await harness.query(
        `select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements s
         join pg_database d on d.oid = s.dbid join pg_roles r on r.oid = s.userid
         where d.datname = $1 and r.rolname = 'orchestrator' and s.query ~* '(outbox|worker_heartbeats)'`,
        [database]
      )).rows[0].n
    )

  const pendingOf = async (ids: ReadonlyArray<string>) =>
    Number(
      (await harness.query("select count(*) from order_ledger where order_id = any($1) and status = 'PENDING'", [ids]))
        .rows[0].count
    )

  const measureOurs = async (n: number): Promise<Round> => {
    const ids = await place(n)
    await harness.query(
      "update outbox set available_at = 'infinity' where status = 'pending' and event_type = 'OrderPlaced'"
    )
    const orchestrator = await startOrchestrator()
    const cpu0 = processCpuMs(orchestrator.pid)
    const pg0 = postgresCpuMs(server.postmaster)
    const svc0 = servicesCpu()
    if (server.statements) await resetStatements(harness)
    const released = (await harness.query<{ at: Date }>(
      `with released as (
         update outbox set available_at = now() where status = 'pending' and event_type = 'OrderPlaced' returning 1)
       select clock_timestamp() as at, pg_notify('order_events', 'bench') from released limit 1`
    )).rows[0]!.at
    await waitFor("our sagas", async () => (await pendingOf(ids)) === 0, 600_000, 50)
    const cpu = processCpuMs(orchestrator.pid) - cpu0
    const pgCpu = postgresCpuMs(server.postmaster) - pg0
    const svcCpu = servicesCpu() - svc0
    const statements = server.statements ? await statementCount(harness, database, ["orchestrator"]) : NaN
    const workerStatements = server.statements ? await workerStatementCount() : NaN
    const last = (await harness.query<{ at: Date }>(
      "select max(updated_at) as at from saga_instances where aggregate_id = any($1)",
      [ids]
    ))
      .rows[0]!.at
    const notConfirmed = Number(
      (await harness.query("select count(*) from order_ledger where order_id = any($1) and status <> 'CONFIRMED'", [
        ids
      ])).rows[0].count
    )
    await orchestrator.stop()
    const seconds = (last.getTime() - released.getTime()) / 1000
    return {
      ...perSaga("ours", ids.length, seconds, cpu, pgCpu, svcCpu, statements, notConfirmed),
      sagaStatementsPerStep: round((statements - workerStatements) / ids.length / sagaSteps, 2)
    }
  }

  const runPeer = async (mode: "dbos" | "bare", sequential: boolean) => {
    const child = launch(
      [peerRunner],
      {
        BENCH_MODE: mode,
        BENCH_CONCURRENCY: String(concurrency),
        BENCH_POLL_MS: String(pollMs),
        BENCH_SEQUENTIAL: sequential ? "1" : "0",
        DATABASE_URL: url,
        DBOS_SYSTEM_DATABASE_URL: server.url("bench_dbos_sys"),
        ...serviceUrls
      },
      mode,
      { stdin: true }
    )
    await child.line(/^ready$/, 120_000)
    const pg0 = postgresCpuMs(server.postmaster)
    const svc0 = servicesCpu()
    if (server.statements) await resetStatements(harness)
    child.send("go")
    const result = JSON.parse(await child.line(/^\{/, 600_000)) as {
      sagas: number
      seconds: number
      cpuMs: number
      latenciesMs: Array<number>
    }
    const pgCpu = postgresCpuMs(server.postmaster) - pg0
    const svcCpu = servicesCpu() - svc0
    const statements = server.statements
      ? (await statementCount(harness, database, ["postgres"])) +
        (await statementCount(harness, "bench_dbos_sys", ["postgres"]))
      : NaN
    await child.stop()
    return { result, pgCpu, svcCpu, statements }
  }

  const measurePeer = async (mode: "dbos" | "bare", n: number): Promise<Round> => {
    const ids = await place(n)
    const { pgCpu, result, statements, svcCpu } = await runPeer(mode, false)
    const notConfirmed = mode === "dbos"
      ? Number(
        (await harness.query("select count(*) from order_ledger where order_id = any($1) and status <> 'CONFIRMED'", [
          ids
        ])).rows[0].count
      )
      : undefined
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

  const unloadedOurs = async (n: number) => {
    const orchestrator = await startOrchestrator()
    const latencies: Array<number> = []
    try {
      for (let i = 0; i < n; i++) {
        const [id] = await place(1)
        await waitFor("an unloaded saga", async () => (await pendingOf([id!])) === 0, 60_000, 5)
        const row = (await harness.query<{ ms: number }>(
          `select extract(epoch from (s.updated_at - o.created_at)) * 1000 as ms
           from saga_instances s join outbox o on o.event_id = s.trigger_event_id where s.aggregate_id = $1`,
          [id]
        )).rows[0]!
        latencies.push(Number(row.ms))
      }
    } finally {
      await orchestrator.stop()
    }
    return latencies
  }

  const unloadedPeer = async (mode: "dbos" | "bare", n: number) => {
    await place(n)
    return (await runPeer(mode, true)).result.latenciesMs
  }

  const rounds: Array<Round> = []
  const latencies: Record<System, Array<number>> = { ours: [], dbos: [], bare: [] }
  try {
    await Promise.all(services.map(([name], i) =>
      waitFor(
        `${name} /health`,
        async () => {
          const child = running[i]!
          if (child.process.exitCode !== null) throw new Error(`${name} exited:\n${child.output()}`)
          try {
            return (await fetch(`http://127.0.0.1:${ports[name]}/health`)).ok
          } catch {
            return false
          }
        },
        180_000,
        50
      ).catch((error) => {
        throw new Error(`${error.message}\n${running[i]!.output()}`)
      })
    ))
    const plan: Array<System> = ["ours", "dbos", "bare"]
    for (let r = 1; r <= options.rounds; r++) {
      for (const system of plan.map((_, i) => plan[(i + r - 1) % plan.length]!)) {
        const result = system === "ours" ? await measureOurs(options.orders) : await measurePeer(system, options.orders)
        rounds.push(result)
        options.log(`sagas round ${r}: ${JSON.stringify(result)}`)
      }
    }
    latencies.ours = await unloadedOurs(options.unloaded)
    latencies.dbos = await unloadedPeer("dbos", options.unloaded)
    latencies.bare = await unloadedPeer("bare", options.unloaded)
  } finally {
    await Promise.all(running.map((child) => child.stop()))
    await harness.end()
  }
  return {
    settings: { ...options, log: undefined, concurrency, dbosPollMs: pollMs, sagaSteps },
    ...summarize(rounds, latencies),
    rounds,
    latencies
  }
}

const perSaga = (
  system: System,
  sagas: number,
  seconds: number,
  cpuMs: number,
  pgCpuMs: number,
  servicesCpuMs: number,
  statements: number,
  notConfirmed?: number
): Round => ({
  system,
  sagas,
  seconds: round(seconds, 3)!,
  sagasPerSecond: round(sagas / seconds, 1)!,
  runnerCpuMsPerSaga: round(cpuMs / sagas, 2),
  postgresCpuMsPerSaga: round(pgCpuMs / sagas, 2),
  servicesCpuMsPerSaga: round(servicesCpuMs / sagas, 2),
  statementsPerSaga: round(statements / sagas, 2),
  statementsPerStep: round(statements / sagas / sagaSteps, 2),
  ...(notConfirmed === undefined ? {} : { notConfirmed })
})

const summarize = (rounds: ReadonlyArray<Round>, latencies: Record<System, ReadonlyArray<number>>) => {
  const of = (system: System) => {
    const group = rounds.filter((r) => r.system === system)
    const pick = (f: (r: Round) => number | null) => round(median(group.map((r) => f(r) ?? NaN)), 2)
    return {
      sagasPerSecond: pick((r) => r.sagasPerSecond),
      runnerCpuMsPerSaga: pick((r) => r.runnerCpuMsPerSaga),
      postgresCpuMsPerSaga: pick((r) => r.postgresCpuMsPerSaga),
      servicesCpuMsPerSaga: pick((r) => r.servicesCpuMsPerSaga),
      statementsPerSaga: pick((r) => r.statementsPerSaga),
      statementsPerStep: pick((r) => r.statementsPerStep),
      sagaStatementsPerStep: pick((r) => r.sagaStatementsPerStep ?? null),
      unloadedP50Ms: round(quantile(latencies[system], 0.5), 1),
      unloadedP99Ms: round(quantile(latencies[system], 0.99), 1)
    }
  }
  const ours = of("ours")
  const dbos = of("dbos")
  const bare = of("bare")
  const ratio = (a: number | null, b: number | null) => a && b ? round(a / b, 2) : null
  return {
    summary: {
      ours,
      dbos,
      bare,
      oursVsDbos: ratio(ours.sagasPerSecond, dbos.sagasPerSecond),
      oursVsBare: ratio(ours.sagasPerSecond, bare.sagasPerSecond)
    }
  }
}
