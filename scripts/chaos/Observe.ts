import { Effect, Schedule } from "effect"
import type { Accepted } from "./Checkouts.ts"
import type { Line, OrderSnapshot, Snapshot } from "./Checks.ts"
import { call, retried } from "./Http.ts"
import { admin } from "./Postgres.ts"
import { direct, type System } from "./System.ts"
import { SKUS } from "./Workload.ts"

/** Orders still open: PENDING ledger rows plus outbox rows not yet done or dead (-1 when the database cannot say). */
const unsettled = (databaseUrl: string) =>
  admin(databaseUrl, async (client) => {
    const result = await client.query<{ n: number }>(
      `select ((select count(*) from order_ledger where status = 'PENDING')
             + (select count(*) from outbox where status in ('pending', 'processing')))::int as n`
    )
    return result.rows[0]!.n
  }).pipe(Effect.catchAllDefect(() => Effect.succeed(-1)))

/** Waits, up to `timeoutMs`, until the count of unsettled work satisfies `done`; never fails. */
export const settleUntil = (databaseUrl: string, timeoutMs: number) => (done: (n: number) => boolean) =>
  unsettled(databaseUrl).pipe(
    Effect.repeat({ until: done, schedule: Schedule.spaced("1 second") }),
    Effect.timeout(timeoutMs),
    Effect.ignore
  )

/** What the services say now about each accepted order and each sku. */
export const observeServices = (system: System, accepted: ReadonlyArray<Accepted>, runId: string) =>
  Effect.gen(function*() {
    const { port } = system
    const get = (url: string) =>
      call("GET", url, system.serviceHeaders).pipe(
        retried("30 seconds"),
        Effect.map((answer) => (answer.status === 200 ? answer.json as Record<string, unknown> : undefined)),
        Effect.orDie
      )
    const orders = yield* Effect.forEach(accepted, ({ cancelRequested, orderId }) =>
      Effect.gen(function*() {
        const view = yield* call(
          "GET",
          `${direct(port.edge)}/orders/${orderId}`,
          system.edgeHeaders(`chaos-${runId}-read`)
        )
          .pipe(
            retried("30 seconds"),
            Effect.map((answer) => (answer.status === 200 ? answer.json as Record<string, unknown> : undefined)),
            Effect.orDie
          )
        const order = yield* get(`${direct(port.orders)}/orders/${orderId}`)
        const reservation = yield* get(`${direct(port.inventory)}/reservations/${orderId}`)
        const payment = view
          ? yield* get(`${direct(port.payments)}/payments/${String(view.authorizationId)}`)
          : undefined
        return {
          orderId,
          cancelRequested,
          ledger: view && {
            status: String(view.status),
            reason: (view.reason as string | null) ?? null,
            amount: Number(view.amount),
            authorizationId: String(view.authorizationId),
            items: view.items as ReadonlyArray<Line>
          },
          order: order && String(order.status),
          reservation: reservation &&
            { status: String(reservation.status), items: reservation.items as ReadonlyArray<Line> },
          payment: payment && { status: String(payment.status), amount: Number(payment.amount) }
        } satisfies OrderSnapshot
      }), { concurrency: 16 })
    const stockAfter: Snapshot["stockAfter"] = Object.fromEntries(
      yield* Effect.forEach(
        SKUS,
        (sku) =>
          Effect.map(
            get(`${direct(port.inventory)}/stock/${sku}`),
            (stock) => [sku, { onHand: Number(stock?.onHand), reserved: Number(stock?.reserved) }] as const
          )
      )
    )
    return { orders, stockAfter }
  })

/** No API lists authorizations, outbox rows or sagas: read them. */
export const observeDatabase = (databaseUrl: string) =>
  admin(databaseUrl, async (client) => {
    const openHolds = await client.query(
      `select a.authorization_id as "authorizationId", a.order_id as "orderId", l.status as ledger
       from payments.authorizations a left join order_ledger l using (order_id)
       where a.status = 'AUTHORIZED' and l.status is distinct from 'CONFIRMED' and l.status is distinct from 'PENDING'`
    )
    const money = await client.query(
      `select (select coalesce(sum(amount) filter (where status in ('CAPTURED', 'REFUNDED')), 0)
                    - coalesce(sum(amount) filter (where status = 'REFUNDED'), 0) from payments.authorizations)::bigint::text as net,
              (select coalesce(sum(amount), 0) from order_ledger where status = 'CONFIRMED')::bigint::text as confirmed`
    )
    const outbox = await client.query(
      `select id::text as id, event_type as "eventType", status, last_error as "lastError"
       from outbox where status in ('pending', 'processing', 'dead') order by id`
    )
    const sagas = await client.query(
      `select id::text as id, saga_type as type, state, aggregate_id as "orderId"
       from saga_instances where state not in ('completed', 'compensated') order by created_at`
    )
    return {
      openHolds: openHolds.rows,
      capturedNet: Number(money.rows[0].net),
      confirmedTotal: Number(money.rows[0].confirmed),
      outboxUnfinished: outbox.rows,
      sagasUnfinished: sagas.rows
    } as Snapshot["db"]
  })
