import { OrderId } from "@ecommerce/contracts"
import { repository } from "@ecommerce/db"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"

export const AttemptStatus = Schema.Literal("open", "placed", "voiding", "voided")
export type AttemptStatus = typeof AttemptStatus.Type

const StatusRow = Schema.Struct({ status: AttemptStatus })
const OrderIdRow = Schema.Struct({ orderId: OrderId })

/**
 * `edge.checkout_attempts` (migrations/0050): one statement per function, each its own short
 * transaction unless the caller runs it inside one. SqlError is a defect past this point.
 */
export class AttemptsRepo extends Effect.Service<AttemptsRepo>()("@ecommerce/edge-api/AttemptsRepo", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's statements, each short and sharing
    // the one `sql`; splitting it would scatter one schema's SQL over files.
    const sql = yield* SqlClient.SqlClient

    /** Records the attempt (a retry finds the first one) and returns its status. */
    const open = SqlSchema.single({
      Request: OrderId,
      Result: StatusRow,
      execute: (orderId) =>
        sql`
          with inserted as (
            insert into edge.checkout_attempts (order_id) values (${orderId})
            on conflict (order_id) do nothing
            returning status
          )
          select status from inserted
          union all
          select status from edge.checkout_attempts where order_id = ${orderId}
          limit 1`
    })

    /** open -> placed, in the order's own transaction; false when a release took the attempt first. */
    const markPlaced = SqlSchema.findOne({
      Request: OrderId,
      Result: OrderIdRow,
      execute: (orderId) =>
        sql`
          update edge.checkout_attempts set status = 'placed', updated_at = now()
          where order_id = ${orderId} and status = 'open'
          returning order_id as "orderId"`
    })

    /** open -> voiding for one attempt that failed after authorizing; false when it was placed or taken. */
    const claim = SqlSchema.findOne({
      Request: OrderId,
      Result: OrderIdRow,
      execute: (orderId) =>
        sql`
          update edge.checkout_attempts set status = 'voiding', claimed_at = now(), updated_at = now()
          where order_id = ${orderId} and status = 'open'
          returning order_id as "orderId"`
    })

    /**
     * Claims up to `limit` attempts to release: open ones older than `windowMs` without a ledger row,
     * and voiding ones whose claimer went quiet for `staleClaimMs`. SKIP LOCKED and the status checks
     * let several edge replicas recover side by side, each attempt claimed by one of them.
     */
    const claimExpired = SqlSchema.findAll({
      Request: Schema.Struct({ windowMs: Schema.Number, staleClaimMs: Schema.Number, limit: Schema.Number }),
      Result: OrderIdRow,
      execute: ({ limit, staleClaimMs, windowMs }) =>
        sql`
          update edge.checkout_attempts a set status = 'voiding', claimed_at = now(), updated_at = now()
          where a.order_id in (
            select c.order_id from edge.checkout_attempts c
            where (c.status = 'open' and c.created_at < now() - ${windowMs} * interval '1 millisecond'
                   and not exists (select 1 from order_ledger l where l.order_id = c.order_id))
               or (c.status = 'voiding' and c.claimed_at < now() - ${staleClaimMs} * interval '1 millisecond')
            order by c.created_at
            limit ${limit}
            for update of c skip locked
          ) and a.status in ('open', 'voiding')
          returning a.order_id as "orderId"`
    })

    /** voiding -> voided, once payments holds nothing open for the order. */
    const markVoided = SqlSchema.void({
      Request: OrderId,
      execute: (orderId) =>
        sql`
          update edge.checkout_attempts set status = 'voided', updated_at = now()
          where order_id = ${orderId} and status = 'voiding'`
    })

    return repository({
      open: (orderId: OrderId) => Effect.map(open(orderId), (row) => row.status),
      markPlaced: (orderId: OrderId) => Effect.map(markPlaced(orderId), Option.isSome),
      claim: (orderId: OrderId) => Effect.map(claim(orderId), Option.isSome),
      claimExpired: (windowMs: number, staleClaimMs: number, limit: number) =>
        Effect.map(claimExpired({ windowMs, staleClaimMs, limit }), (rows) => rows.map((row) => row.orderId)),
      markVoided
    })
  })
}) {}
