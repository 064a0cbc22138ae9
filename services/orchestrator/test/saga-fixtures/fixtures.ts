/**
 * The one typed fixture module of the saga tests: orders built from the contract classes, the rows
 * the edge API, the worker and the engine would write, readers of what the engine left, and the
 * database layer with the repositories the engine needs. Each test creates what it needs with
 * these; none depends on what another test left behind.
 */
import {
  AuthorizationId,
  Currency,
  CustomerId,
  MinorUnits,
  OrderId,
  OrderLine,
  OrderPlaced,
  Sku
} from "@ecommerce/contracts"
import { TestDatabaseLive } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import type { OutboxEvent } from "../../src/outbox/EventHandler.ts"
import type { SagaConfig } from "../../src/saga/SagaConfig.ts"
import { SagaRepo } from "../../src/saga/SagaRepo.ts"
import { StepFailure } from "../../src/saga/StepFailure.ts"
import { Downstream } from "../../src/sagas/Downstream.ts"
import { LedgerRepo } from "../../src/sagas/LedgerRepo.ts"

/** A fresh test database (cloned from the template) with the engine's repositories on it. */
export const EngineDatabase = () =>
  Layer.mergeAll(SagaRepo.Default, LedgerRepo.Default).pipe(
    Layer.provideMerge(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")))
  )

/** Engine settings for tests: every retry parks, so a test drives re-deliveries itself. */
export const testSettings = (overrides: Partial<SagaConfig> = {}): SagaConfig => ({
  sagaTimeoutMs: 60_000,
  stepTimeoutMs: 400,
  inlineRetryMaxMs: 0,
  circuitFailureThreshold: 1_000,
  circuitCooldownMs: 1_000,
  deadLetterSweepMs: 30_000,
  unknownSteps: "refuse",
  startupTimeoutMs: 5_000,
  retentionHours: 168,
  ...overrides
})

/** A 503: transient, and the call may have been applied. */
export const transientFailure = new StepFailure({
  kind: "transient",
  unknownOutcome: true,
  errorTag: "ResponseError",
  message: "503"
})

/** A business rejection: permanent, nothing applied. */
export const rejectedFailure = new StepFailure({
  kind: "permanent",
  unknownOutcome: false,
  errorTag: "Nope",
  message: "no"
})

const line = (sku: string, quantity: number, unitPrice: number) =>
  new OrderLine({ sku: Sku.make(sku), quantity, unitPrice: MinorUnits.make(unitPrice) })

/** A checkout of 2 × 899 + 1 × 1250 = 3048 EUR with its own order and authorization ids. */
export const newOrder = (overrides: Partial<ConstructorParameters<typeof OrderPlaced>[0]> = {}): OrderPlaced =>
  new OrderPlaced({
    orderId: OrderId.make(randomUUID()),
    authorizationId: AuthorizationId.make(randomUUID()),
    customerId: CustomerId.make("cust-unit"),
    items: [line("MUG-BLUE", 2, 899), line("SOCKS-3PACK", 1, 1250)],
    amount: MinorUnits.make(3048),
    currency: Currency.make("EUR"),
    ...overrides
  })

/** The outbox event the worker hands the handler, as the edge API writes it. */
export const outboxEvent = <A>(
  eventType: string,
  payload: A,
  overrides: Partial<OutboxEvent<unknown>> = {}
): OutboxEvent => ({
  id: "1",
  eventId: randomUUID(),
  aggregateType: "order",
  aggregateId: typeof payload === "object" && payload !== null && "orderId" in payload
    ? String(payload.orderId)
    : randomUUID(),
  eventType,
  payload,
  headers: {},
  attempt: 1,
  createdAt: new Date(),
  ...overrides
})

/** The ledger row the edge API writes with the OrderPlaced event (`order`'s own data unless overridden). */
export const insertLedgerRow = (
  order: OrderPlaced,
  overrides: { readonly status?: string; readonly amount?: number; readonly currency?: string } = {}
) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      insert into order_ledger (order_id, customer_id, items, amount, currency, authorization_id, status)
      values (${order.orderId}, ${order.customerId}, ${JSON.stringify(order.items)}::jsonb, ${
      overrides.amount ?? order.amount
    },
              ${overrides.currency ?? order.currency}, ${order.authorizationId}, ${overrides.status ?? "PENDING"})`)

/** An OrderPlaced outbox row in the given state, as the worker would leave it. */
export const insertOutboxRow = (
  order: OrderPlaced,
  row: {
    readonly status: "pending" | "dead"
    readonly attempts?: number
    readonly lastError?: string | null
    readonly aggregateId?: string
  }
) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ eventId: string }>`
      insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, attempts, last_error)
      values ('order', ${row.aggregateId ?? order.orderId}, 'OrderPlaced', ${
      JSON.stringify(order)
    }::jsonb, ${row.status},
              ${row.attempts ?? 0}, ${row.lastError ?? null})
      returning event_id::text as "eventId"`).pipe(Effect.map((rows) => rows[0]!.eventId))

/** A saga row as the engine leaves one mid-way. */
export const insertSaga = (input: {
  readonly order: OrderPlaced
  readonly eventId?: string
  readonly state?: "running" | "compensating" | "completed"
  readonly currentStep: string
  readonly type?: string
}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sagaId = randomUUID()
    yield* sql`
      insert into saga_instances (id, saga_type, trigger_event_id, aggregate_id, state, current_step, context, deadline_at)
      values (${sagaId}, ${input.type ?? "OrderPlaced"}, ${input.eventId ?? randomUUID()}, ${input.order.orderId},
              ${input.state ?? "running"}, ${input.currentStep}, ${JSON.stringify(input.order)}::jsonb,
              now() + interval '5 minutes')`
    return sagaId
  })

export const ledgerOf = (orderId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<
        { status: string; reason: string | null }
      >`select status, reason from order_ledger where order_id = ${orderId}`
  ).pipe(
    Effect.map((rows) => rows[0])
  )

export const sagaOf = (eventId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ id: string; state: string; error: unknown; currentStep: string | null; context: unknown }>`
      select id::text as id, state, error, current_step as "currentStep", context
      from saga_instances where trigger_event_id = ${eventId}`
  ).pipe(
    Effect.map((rows) => rows[0]!)
  )

export const stepLogOf = (sagaId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ step: string; phase: string; status: string; attempts: number; outcomeUnknown: boolean }>`
      select step, phase, status, attempts, outcome_unknown as "outcomeUnknown"
      from saga_steps where saga_id = ${sagaId} order by started_at, step, phase`
  )

/** For code that needs the sagas' services but must not call any (deploy safety, the sweeps). */
export const NoDownstream = Layer.succeed(Downstream, {
  orders: () => Effect.dieMessage("no downstream call expected"),
  inventory: () => Effect.dieMessage("no downstream call expected"),
  payments: () => Effect.dieMessage("no downstream call expected")
})
