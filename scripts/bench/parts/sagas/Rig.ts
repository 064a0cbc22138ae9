/**
 * The sagas part's fixed setup: a migrated database with ample stock, the four real services (each
 * its own process), and checkouts placed through the edge API. Every system runs against one Rig.
 */
import { randomUUID } from "node:crypto"
import type pg from "pg"
import { freePort } from "../../../../packages/db/src/embedded.ts"
import {
  type Child,
  connect,
  freshDatabase,
  launch,
  ourEntry,
  processCpuMs,
  runOnce,
  type Server,
  sleep,
  waitFor
} from "../../Harness.ts"

export const concurrency = 16
export const database = "bench_sagas"
export const dbosSystemDatabase = "bench_dbos_sys"
const token = "dev-service-token"
/** The edge API's client key: checkout accepts EDGE_API_KEYS, never the internal SERVICE_TOKEN. */
const edgeKey = "bench-edge-key"

const services = [
  ["inventory", "INVENTORY"],
  ["payments", "PAYMENTS"],
  ["orders", "ORDERS"],
  ["edge-api", "EDGE_API"]
] as const

export interface Rig {
  readonly server: Server
  readonly url: string
  readonly harness: pg.Client
  readonly serviceUrls: Readonly<Record<string, string>>
  /** CPU time of the four services so far, in ms. */
  readonly servicesCpu: () => number
  /** Places n checkouts at `concurrency`; the order ids. */
  readonly place: (n: number) => Promise<Array<string>>
  /** Orders among `ids` whose ledger row is still PENDING. */
  readonly pendingOf: (ids: ReadonlyArray<string>) => Promise<number>
  /** Orders among `ids` whose ledger row is not CONFIRMED. */
  readonly notConfirmedOf: (ids: ReadonlyArray<string>) => Promise<number>
  /** Waits for every service's /health; the first to fail or exit reports its output. */
  readonly ready: () => Promise<void>
  readonly stop: () => Promise<void>
}

export const startRig = async (server: Server): Promise<Rig> => {
  await freshDatabase(server, database)
  await freshDatabase(server, dbosSystemDatabase)
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
  const running: Array<Child> = services.map(([name, prefix]) =>
    launch([`dist/services/${name}/main.js`], {
      DATABASE_URL: url,
      LOG_LEVEL: "Warn",
      [`${prefix}_PORT`]: String(ports[name]),
      ...(name === "edge-api" ? { EDGE_API_KEYS: edgeKey } : {}),
      ...serviceUrls
    }, name)
  )
  const ready = async () => {
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
  }
  const stop = async () => {
    await Promise.all(running.map((child) => child.stop()))
    await harness.end()
  }
  const countOf = (predicate: string) => async (ids: ReadonlyArray<string>) =>
    Number(
      (await harness.query(`select count(*) from order_ledger where order_id = any($1) and ${predicate}`, [ids]))
        .rows[0].count
    )
  return {
    server,
    url,
    harness,
    serviceUrls,
    servicesCpu: () => running.reduce((sum, child) => sum + processCpuMs(child.pid), 0),
    place: placeCheckouts(`http://127.0.0.1:${ports["edge-api"]}`),
    pendingOf: countOf("status = 'PENDING'"),
    notConfirmedOf: countOf("status <> 'CONFIRMED'"),
    ready,
    stop
  }
}

const placeCheckouts = (edge: string) => async (n: number): Promise<Array<string>> => {
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
