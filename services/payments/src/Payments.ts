import {
  AuthorizationConflict,
  AuthorizationId,
  AuthorizationMismatch,
  AuthorizationNotFound,
  type Authorize,
  type CaptureTerms,
  OrderAuthorizationNotFound,
  type OrderId,
  Payment,
  PaymentDeclined,
  PaymentStateConflict,
  type PaymentStatus,
  TestCards
} from "@ecommerce/contracts"
import { Idempotency } from "@ecommerce/http-kit"
import { Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import { type PaymentRow, PaymentsRepo, toPayment } from "./PaymentsRepo.ts"

type Action = "capture" | "void" | "refund"

/** For each action: the status it starts from, and the status it leads to (repeating it is a no-op). */
const rules: Record<Action, { readonly from: PaymentStatus; readonly to: PaymentStatus }> = {
  capture: { from: "AUTHORIZED", to: "CAPTURED" },
  void: { from: "AUTHORIZED", to: "VOIDED" },
  refund: { from: "CAPTURED", to: "REFUNDED" }
}

export class Payments extends Effect.Service<Payments>()("@ecommerce/payments/Payments", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's methods, each short and sharing
    // the one `repo`; splitting it would scatter one schema's rules over files.
    const repo = yield* PaymentsRepo
    const idempotency = yield* Idempotency

    const authorizeOnce = (request: Authorize) =>
      Effect.gen(function*() {
        if (request.cardToken === TestCards.declined) {
          return yield* new PaymentDeclined({ stage: "authorization", message: "the card was declined" })
        }
        const authorizationId = AuthorizationId.make(randomUUID())
        if (yield* repo.insert(authorizationId, request)) {
          return new Payment({ ...request, authorizationId, status: "AUTHORIZED" })
        }
        const existing = Option.getOrThrow(yield* repo.findByOrder(request.orderId))
        if (
          existing.amount === request.amount && existing.currency === request.currency &&
          existing.cardToken === request.cardToken
        ) return toPayment(existing)
        return yield* new AuthorizationConflict({
          orderId: request.orderId,
          message: `order ${request.orderId} already has an authorization for other terms`
        })
      })

    const authorize = (key: string, request: Authorize) =>
      idempotency.run(
        { key, request: { endpoint: "authorize", body: request }, success: Payment },
        authorizeOnce(request)
      ).pipe(Effect.withSpan("Payments.authorize", { attributes: { orderId: request.orderId } }))

    const find = (authorizationId: AuthorizationId) =>
      Effect.flatMap(
        repo.find(authorizationId),
        Option.match({
          onNone: () =>
            Effect.fail(
              new AuthorizationNotFound({ authorizationId, message: `authorization ${authorizationId} does not exist` })
            ),
          onSome: Effect.succeed
        })
      )

    const settle = (action: Action, row: PaymentRow) =>
      row.status === rules[action].to
        ? Effect.succeed(toPayment(row))
        : Effect.fail(
          new PaymentStateConflict({
            authorizationId: row.authorizationId,
            status: row.status,
            action,
            message: `cannot ${action} a payment that is ${row.status}`
          })
        )

    /** From the row as just read: the conditional update, or the answer its status already gives. */
    const transition = <E>(
      action: Action,
      current: PaymentRow,
      apply: typeof repo.capture,
      precheck: (row: PaymentRow) => Effect.Effect<void, E>
    ) =>
      Effect.gen(function*() {
        if (current.status !== rules[action].from) return yield* settle(action, current)
        yield* precheck(current)
        const updated = yield* apply(current.authorizationId)
        if (Option.isSome(updated)) return toPayment(updated.value)
        // A concurrent request moved it first: decide on what it did.
        return yield* settle(action, yield* find(current.authorizationId))
      })

    const act =
      <E>(action: Action, apply: typeof repo.capture, precheck: (row: PaymentRow) => Effect.Effect<void, E>) =>
      (key: string, authorizationId: AuthorizationId) =>
        idempotency.run(
          { key, request: { endpoint: action, authorizationId }, success: Payment },
          Effect.flatMap(find(authorizationId), (current) => transition(action, current, apply, precheck))
        ).pipe(Effect.withSpan(`Payments.${action}`, { attributes: { authorizationId } }))

    const captureDecision = (row: PaymentRow) =>
      row.cardToken === TestCards.captureDeclined
        ? Effect.fail(new PaymentDeclined({ stage: "capture", message: "the capture was declined" }))
        : Effect.void

    /**
     * Checked before the status, so a capture "repeated" by an order pointing at another order's
     * (already captured) authorization is refused instead of answered as a no-op.
     */
    const matchTerms = (row: PaymentRow, terms: CaptureTerms) => {
      const mismatch = (["orderId", "amount", "currency"] as const).filter((field) => row[field] !== terms[field])
      return mismatch.length === 0 ? Effect.void : Effect.fail(
        new AuthorizationMismatch({
          authorizationId: row.authorizationId,
          mismatch,
          message: `authorization ${row.authorizationId} is for order ${row.orderId}, ${row.amount} ${row.currency}; ` +
            `the capture asked for order ${terms.orderId}, ${terms.amount} ${terms.currency}`
        })
      )
    }

    // One read of the row serves both the terms check and the transition.
    const capture = (key: string, authorizationId: AuthorizationId, terms: CaptureTerms) =>
      idempotency.run(
        { key, request: { endpoint: "capture", authorizationId, body: terms }, success: Payment },
        Effect.flatMap(
          find(authorizationId),
          (current) =>
            Effect.zipRight(matchTerms(current, terms), transition("capture", current, repo.capture, captureDecision))
        )
      ).pipe(Effect.withSpan("Payments.capture", { attributes: { authorizationId } }))

    const getByOrder = (orderId: OrderId) =>
      Effect.flatMap(
        repo.findByOrder(orderId),
        Option.match({
          onNone: () =>
            Effect.fail(new OrderAuthorizationNotFound({ orderId, message: `order ${orderId} has no authorization` })),
          onSome: (row) => Effect.succeed(toPayment(row))
        })
      ).pipe(Effect.withSpan("Payments.getByOrder"))

    const get = (authorizationId: AuthorizationId) =>
      find(authorizationId).pipe(Effect.map(toPayment), Effect.withSpan("Payments.get"))

    return {
      authorize,
      capture,
      getByOrder,
      void: act("void", repo.voidAuthorized, () => Effect.void),
      refund: act("refund", repo.refund, () => Effect.void),
      get
    } as const
  }),
  dependencies: [PaymentsRepo.Default, Idempotency.layer("payments.idempotency_keys")]
}) {}
