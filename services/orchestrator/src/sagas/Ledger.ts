import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export type LedgerStatus = "PENDING" | "CONFIRMED" | "CANCELLED" | "NEEDS_ATTENTION"

/** The order saga's verdict; only a PENDING row moves, so a repeat changes nothing. */
export const settlePending = (orderId: string, status: Exclude<LedgerStatus, "PENDING">, reason: string | null) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      update order_ledger set status = ${status}, reason = ${reason}, updated_at = now()
      where order_id = ${orderId} and status = 'PENDING'`).pipe(Effect.asVoid)

/** The cancellation saga's verdict: from CONFIRMED (or PENDING, for attention) only. */
export const settleCancellation = (orderId: string, status: "CANCELLED" | "NEEDS_ATTENTION", reason: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      update order_ledger set status = ${status}, reason = ${reason}, updated_at = now()
      where order_id = ${orderId} and status in ('CONFIRMED', 'PENDING')`).pipe(Effect.asVoid)

export const ledgerStatus = (orderId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ status: LedgerStatus }>`select status from order_ledger where order_id = ${orderId}`).pipe(
    Effect.map((rows) => rows[0]?.status)
  )
