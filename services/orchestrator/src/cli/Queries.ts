import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The read statements of the CLI, one statement each. Times come back as ISO strings and ages as
 * milliseconds computed by the database, so output never depends on the operator's clock.
 */

/** A replica is listed as alive when it touched its heartbeat row this recently (LEASE_MS / 3 by default). */
export const aliveWithinMs = 15_000

export interface ReplicaRow {
  readonly worker_id: string
  readonly host: string
  readonly pid: number
  readonly concurrency: number
  readonly started_at: string
  readonly last_seen_ms_ago: number
}

export const replicas = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<ReplicaRow>`
    select worker_id, host, pid, concurrency, to_json(started_at)#>>'{}' as started_at,
           (extract(epoch from now() - last_seen_at) * 1000)::int as last_seen_ms_ago
    from worker_heartbeats order by worker_id`)

export interface OutboxCounts {
  readonly pending: number
  readonly processing: number
  readonly dead: number
  readonly oldest_pending_ms: number | null
}

/** Partial indexes cover pending, processing and dead rows, so this stays cheap as done rows pile up. */
export const outboxCounts = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<OutboxCounts>`
    select (select count(*)::int from outbox where status = 'pending') as pending,
           (select count(*)::int from outbox where status = 'processing') as processing,
           (select count(*)::int from outbox where status = 'dead') as dead,
           (select (extract(epoch from now() - min(created_at)) * 1000)::int from outbox where status = 'pending')
             as oldest_pending_ms`.pipe(Effect.map((rows) => rows[0]!)))

export const sagasByState = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ state: string; count: number }>`
    select state, count(*)::int as count from saga_instances group by state order by state`)

export interface SagaRow {
  readonly id: string
  readonly saga_type: string
  readonly order_id: string
  readonly state: string
  readonly current_step: string | null
  readonly error: unknown
  readonly trigger_event_id: string
  readonly created_at: string
  readonly updated_at: string
  readonly duration_ms: number
}

const sagaColumns = (sql: SqlClient.SqlClient) =>
  sql`id::text as id, saga_type, aggregate_id as order_id, state, current_step, error,
      trigger_event_id::text as trigger_event_id,
      to_json(created_at)#>>'{}' as created_at, to_json(updated_at)#>>'{}' as updated_at,
      (extract(epoch from updated_at - created_at) * 1000)::int as duration_ms`

export interface SagaFilter {
  readonly state?: string | undefined
  readonly type?: string | undefined
  readonly sinceMs?: number | undefined
  readonly limit: number
}

export const listSagas = (filter: SagaFilter) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<SagaRow>`
      select ${sagaColumns(sql)} from saga_instances
      where (${filter.state ?? null}::text is null or state = ${filter.state ?? null})
        and (${filter.type ?? null}::text is null or saga_type = ${filter.type ?? null})
        and (${filter.sinceMs ?? null}::bigint is null
             or created_at > now() - ${filter.sinceMs ?? null}::bigint * interval '1 millisecond')
      order by created_at desc
      limit ${filter.limit}`)

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const isUuid = (text: string) => uuidPattern.test(text)

/**
 * A saga or order id as stored: Postgres prints UUIDs in lower case, and the edge API writes order
 * ids so. Anything that is not a UUID is left as it is.
 */
export const storedId = (text: string) => isUuid(text) ? text.toLowerCase() : text

/** A saga id names one saga; an order id names every saga of that order (placement, cancellation). */
export const sagasOf = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    isUuid(id)
      ? sql<SagaRow>`
          select ${sagaColumns(sql)} from saga_instances
          where id = ${id}::uuid or aggregate_id = ${id}
          order by created_at`
      : sql<SagaRow>`select ${sagaColumns(sql)} from saga_instances where aggregate_id = ${id} order by created_at`)

export interface StepRow {
  readonly step: string
  readonly phase: "forward" | "compensation"
  readonly status: string
  readonly attempts: number
  readonly outcome_unknown: boolean
  readonly started_at: string
  readonly ended_at: string | null
  readonly duration_ms: number | null
  readonly last_error: string | null
}

export const stepsOf = (sagaId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<StepRow>`
      select step, phase, status, attempts, outcome_unknown,
             to_json(started_at)#>>'{}' as started_at, to_json(ended_at)#>>'{}' as ended_at,
             (extract(epoch from ended_at - started_at) * 1000)::int as duration_ms, last_error
      from saga_steps where saga_id = ${sagaId}::uuid
      order by started_at, phase desc`)

export interface LedgerRow {
  readonly order_id: string
  readonly status: string
  readonly reason: string | null
  readonly amount: string
  readonly currency: string
  readonly updated_at: string
}

export const ledgerOf = (orderId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    isUuid(orderId)
      ? sql<LedgerRow>`
          select order_id::text as order_id, status, reason, amount::text as amount, currency,
                 to_json(updated_at)#>>'{}' as updated_at
          from order_ledger where order_id = ${orderId}::uuid`.pipe(Effect.map((rows) => rows[0] ?? null))
      : Effect.succeed(null))

export interface OutboxRow {
  readonly id: string
  readonly event_id: string
  readonly event_type: string
  readonly aggregate_id: string
  readonly status: string
  readonly attempts: number
  readonly last_error: string | null
  readonly created_at: string
  readonly processed_at: string | null
}

const outboxColumns = (sql: SqlClient.SqlClient) =>
  sql`id::text as id, event_id::text as event_id, event_type, aggregate_id, status, attempts, last_error,
      to_json(created_at)#>>'{}' as created_at, to_json(processed_at)#>>'{}' as processed_at`

export const eventsOf = (aggregateId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<OutboxRow>`select ${outboxColumns(sql)} from outbox where aggregate_id = ${aggregateId} order by id`
  )

export const deadEvents = (limit: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<OutboxRow>`select ${outboxColumns(sql)} from outbox where status = 'dead' order by id limit ${limit}`
  )

export interface ActionRow {
  readonly action: string
  readonly note: string | null
  readonly actor: string
  readonly created_at: string
}

export const actionsOf = (sagaId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<ActionRow>`
      select action, note, actor, to_json(created_at)#>>'{}' as created_at
      from operator_actions where saga_id = ${sagaId}::uuid order by id`)
