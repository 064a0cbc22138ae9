import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * What the live view shows, from a few cheap queries (the partial indexes of outbox and
 * saga_instances, and the orders of this run only). Circuit states live in each replica's memory
 * and are exported as the `circuit.state` metric; the database does not have them.
 */
export interface Snapshot {
  readonly orders: Readonly<Record<string, number>>
  readonly cancelledBy: ReadonlyArray<{ readonly reason: string; readonly count: number }>
  readonly sagaP50Ms: number | null
  readonly sagaP99Ms: number | null
  readonly outboxPending: number
  readonly outboxLagMs: number | null
  readonly outboxDead: number
  readonly replicasAlive: number
}

export const snapshot = (since: Date) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all({
      orders: sql<{ status: string; count: number }>`
        select status, count(*)::int as count from order_ledger where created_at >= ${since} group by status`,
      // Reasons carry ids and amounts; the view groups them by their wording.
      cancelled: sql<{ reason: string; count: number }>`
        select left(regexp_replace(coalesce(reason, 'no reason'), '[0-9a-f]{8}-[0-9a-f-]{27}|[0-9]+', '#', 'g'), 70) as reason,
               count(*)::int as count
        from order_ledger where created_at >= ${since} and status = 'CANCELLED'
        group by 1 order by 2 desc limit 5`,
      latency: sql<{ p50: number | null; p99: number | null }>`
        select percentile_cont(0.5) within group (order by extract(epoch from updated_at - created_at) * 1000) as p50,
               percentile_cont(0.99) within group (order by extract(epoch from updated_at - created_at) * 1000) as p99
        from saga_instances
        where saga_type = 'OrderPlaced' and state in ('completed', 'compensated')
          and updated_at > now() - interval '60 seconds'`,
      outbox: sql<{ pending: number; dead: number; lag_ms: number | null }>`
        select (select count(*)::int from outbox where status = 'pending') as pending,
               (select count(*)::int from outbox where status = 'dead') as dead,
               (select (extract(epoch from now() - min(created_at)) * 1000)::int from outbox
                where status = 'pending' and available_at <= now()) as lag_ms`,
      replicas: sql<{ alive: number }>`
        select count(*)::int as alive from worker_heartbeats where last_seen_at > now() - interval '15 seconds'`
    })).pipe(
      Effect.map(({ cancelled, latency, orders, outbox, replicas }) => ({
        orders: Object.fromEntries(orders.map((row) => [row.status, row.count])),
        cancelledBy: cancelled,
        sagaP50Ms: latency[0]?.p50 ?? null,
        sagaP99Ms: latency[0]?.p99 ?? null,
        outboxPending: outbox[0]!.pending,
        outboxLagMs: outbox[0]!.lag_ms,
        outboxDead: outbox[0]!.dead,
        replicasAlive: replicas[0]!.alive
      } satisfies Snapshot))
    )

const ms = (value: number | null) => (value === null ? "-" : `${Math.round(value)} ms`)

export const render = (
  s: Snapshot,
  load: {
    readonly placed: number
    readonly declinedAtCheckout: number
    readonly errors: number
    readonly lastError: string | null
  },
  replicasExpected: number
): ReadonlyArray<string> => [
  `orders placed ${load.placed} (declined at checkout ${load.declinedAtCheckout}, client errors ${load.errors})` +
  ` | confirmed ${s.orders.CONFIRMED ?? 0} | cancelled ${s.orders.CANCELLED ?? 0}` +
  ` | pending ${s.orders.PENDING ?? 0} | needing attention ${s.orders.NEEDS_ATTENTION ?? 0}`,
  ...s.cancelledBy.map((row) => `  cancelled ${String(row.count).padStart(5)}  ${row.reason}`),
  `saga latency p50 ${ms(s.sagaP50Ms)} p99 ${ms(s.sagaP99Ms)} (last 60 s)` +
  ` | outbox pending ${s.outboxPending}, lag ${ms(s.outboxLagMs)}, dead ${s.outboxDead}` +
  ` | replicas alive ${s.replicasAlive}/${replicasExpected} | circuits: see metric circuit.state`,
  ...(load.lastError === null ? [] : [`  last client error: ${load.lastError.slice(0, 160)}`])
]
