import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { OrderFixture } from "./FakeServices.ts"

export const newOrder = (): OrderFixture => ({
  orderId: randomUUID(),
  authorizationId: randomUUID(),
  customerId: "cust-unit",
  items: [{ sku: "MUG-BLUE", quantity: 2, unitPrice: 899 }, { sku: "SOCKS-3PACK", quantity: 1, unitPrice: 1250 }],
  amount: 3048,
  currency: "EUR"
})

/** The PENDING ledger row the edge API would have written with the OrderPlaced event. */
export const insertLedgerRow = (order: OrderFixture, status = "PENDING") =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      insert into order_ledger (order_id, customer_id, items, amount, currency, authorization_id, status)
      values (${order.orderId}, ${order.customerId}, ${JSON.stringify(order.items)}::jsonb, ${order.amount},
              ${order.currency}, ${order.authorizationId}, ${status})`)

export const ledgerOf = (orderId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ status: string; reason: string | null }>`select status, reason from order_ledger where order_id = ${orderId}`).pipe(
    Effect.map((rows) => rows[0])
  )

export const sagaOf = (eventId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ id: string; state: string; error: unknown; currentStep: string | null }>`
      select id::text as id, state, error, current_step as "currentStep" from saga_instances where trigger_event_id = ${eventId}`).pipe(
    Effect.map((rows) => rows[0]!)
  )

export const stepLogOf = (sagaId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ step: string; phase: string; status: string; attempts: number; outcomeUnknown: boolean }>`
      select step, phase, status, attempts, outcome_unknown as "outcomeUnknown"
      from saga_steps where saga_id = ${sagaId} order by started_at, step, phase`)
