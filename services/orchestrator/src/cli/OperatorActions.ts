import type { SqlClient } from "@effect/sql"

/** The channel the worker listens on; the payload is only a hint (BRIEF: NOTIFY is a hint). */
export const wake = (sql: SqlClient.SqlClient) => sql`select pg_notify('order_events', 'cli')`

/**
 * Makes an event claimable again with a fresh attempt budget. The stale `last_error` is cleared
 * (and kept in operator_actions), so the row shows an error again only if the new run fails.
 */
export const requeueEvent = (
  sql: SqlClient.SqlClient,
  where: { readonly eventId: string },
  from: ReadonlyArray<string>
) =>
  sql<{ id: string; event_type: string; aggregate_id: string; status: string; last_error: string | null }>`
    update outbox o set status = 'pending', attempts = 0, available_at = now(), processed_at = null, last_error = null
    from (select id, status, last_error from outbox where event_id = ${where.eventId}::uuid for update) old
    where o.id = old.id and old.status in ${sql.in(from)}
    returning o.id::text as id, o.event_type, o.aggregate_id, old.status, old.last_error`

/** Every operator action is kept, with what it changed, in operator_actions. */
export const record = (
  sql: SqlClient.SqlClient,
  action: "saga_retry" | "saga_resolve" | "outbox_replay",
  ids: { readonly sagaId?: string | undefined; readonly outboxId?: string | undefined },
  note: string | null,
  previous: unknown
) =>
  sql`
    insert into operator_actions (action, saga_id, outbox_id, note, previous)
    values (${action}, ${ids.sagaId ?? null}::uuid, ${ids.outboxId ?? null}::bigint, ${note}, ${
    JSON.stringify(previous)
  }::jsonb)`
