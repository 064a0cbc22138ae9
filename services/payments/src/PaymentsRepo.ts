import { AuthorizationId, Authorize, CardToken, OrderId, Payment } from "@ecommerce/contracts"
import { repository } from "@ecommerce/db"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"

/** A row as selected below: bigint `amount` arrives as a string. */
const PaymentRow = Schema.Struct({
  ...Payment.fields,
  amount: Schema.compose(Schema.NumberFromString, Payment.fields.amount),
  cardToken: CardToken
})
export type PaymentRow = typeof PaymentRow.Type

export const toPayment = ({ cardToken: _, ...row }: PaymentRow) => new Payment(row)

/** The payments schema's SQL, one statement per function. SqlError is a defect past this point. */
export class PaymentsRepo extends Effect.Service<PaymentsRepo>()("@ecommerce/payments/PaymentsRepo", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's statements, each short and sharing
    // the one `sql`; splitting it would scatter one schema's SQL over files.
    const sql = yield* SqlClient.SqlClient
    const columns = sql`authorization_id as "authorizationId", order_id as "orderId", amount::text as amount,
      currency, status, card_token as "cardToken"`

    /** One authorization per order: a second insert for the order (even concurrent) inserts nothing. */
    const insert = SqlSchema.findOne({
      Request: Schema.Struct({ ...Authorize.fields, authorizationId: AuthorizationId }),
      Result: Schema.Struct({ authorizationId: AuthorizationId }),
      execute: (request) =>
        sql`
          insert into payments.authorizations (authorization_id, order_id, amount, currency, card_token, status)
          values (${request.authorizationId}, ${request.orderId}, ${request.amount}, ${request.currency},
                  ${request.cardToken}, 'AUTHORIZED')
          on conflict (order_id) do nothing
          returning authorization_id as "authorizationId"`
    })

    const find = SqlSchema.findOne({
      Request: AuthorizationId,
      Result: PaymentRow,
      execute: (id) => sql`select ${columns} from payments.authorizations where authorization_id = ${id}`
    })

    const findByOrder = SqlSchema.findOne({
      Request: OrderId,
      Result: PaymentRow,
      execute: (orderId) => sql`select ${columns} from payments.authorizations where order_id = ${orderId}`
    })

    // Each transition is one conditional UPDATE: of two concurrent captures, the second waits on
    // the row lock, then finds the status changed and matches nothing.
    const capture = SqlSchema.findOne({
      Request: AuthorizationId,
      Result: PaymentRow,
      execute: (id) =>
        sql`update payments.authorizations set status = 'CAPTURED', captured_at = now()
            where authorization_id = ${id} and status = 'AUTHORIZED' returning ${columns}`
    })

    const voidAuthorized = SqlSchema.findOne({
      Request: AuthorizationId,
      Result: PaymentRow,
      execute: (id) =>
        sql`update payments.authorizations set status = 'VOIDED', voided_at = now(), void_reason = 'voided'
            where authorization_id = ${id} and status = 'AUTHORIZED' returning ${columns}`
    })

    const refund = SqlSchema.findOne({
      Request: AuthorizationId,
      Result: PaymentRow,
      execute: (id) =>
        sql`update payments.authorizations set status = 'REFUNDED', refunded_at = now()
            where authorization_id = ${id} and status = 'CAPTURED' returning ${columns}`
    })

    /** One batch of expired holds; the caller sweeps again on its next tick. */
    const expireAuthorized = SqlSchema.findAll({
      Request: Schema.Number,
      Result: Schema.Struct({ authorizationId: AuthorizationId }),
      execute: (ttlMs) =>
        sql`
          update payments.authorizations set status = 'VOIDED', voided_at = now(), void_reason = 'expired'
          where authorization_id in (
            select authorization_id from payments.authorizations
            where status = 'AUTHORIZED' and created_at < now() - ${ttlMs} * interval '1 millisecond'
            order by created_at
            limit 1000
            for update skip locked
          ) and status = 'AUTHORIZED'
          returning authorization_id as "authorizationId"`
    })

    return repository({
      insert: (authorizationId: AuthorizationId, request: Authorize) =>
        Effect.map(insert({ ...request, authorizationId }), Option.isSome),
      find,
      findByOrder,
      capture,
      voidAuthorized,
      refund,
      expireAuthorized: (ttlMs: number) => Effect.map(expireAuthorized(ttlMs), (rows) => rows.length)
    })
  })
}) {}
