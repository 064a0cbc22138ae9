import {
  type CancelOrder,
  type CreateOrder,
  Order,
  OrderConflict,
  type OrderId,
  OrderNotFound,
  OrderTransitionRejected
} from "@ecommerce/contracts"
import { Idempotency } from "@ecommerce/http-kit"
import { Effect, Option, Schema } from "effect"
import { OrdersRepo } from "./OrdersRepo.ts"

const notFound = (orderId: OrderId) => new OrderNotFound({ orderId, message: `order ${orderId} does not exist` })

/** The data that identifies an order, whatever its status now. */
const sameData = (order: Order, request: CreateOrder) =>
  order.customerId === request.customerId &&
  order.amount === request.amount &&
  order.currency === request.currency &&
  order.items.length === request.items.length &&
  order.items.every((line, i) => {
    const other = request.items[i]!
    return line.sku === other.sku && line.quantity === other.quantity && line.unitPrice === other.unitPrice
  })

/**
 * What a cancellation that found no order stores as its idempotent response (it answers 404, but
 * its mark was written and must be replayed as such, not re-evaluated).
 */
const CancelledBeforeCreation = Schema.TaggedStruct("CancelledBeforeCreation", {})
const CancelResult = Schema.Union(Order, CancelledBeforeCreation)

export class Orders extends Effect.Service<Orders>()("@ecommerce/orders/Orders", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's methods, each short and sharing
    // the one `repo`; splitting it would scatter one schema's rules over files.
    const repo = yield* OrdersRepo
    const idempotency = yield* Idempotency

    const createOnce = (request: CreateOrder) =>
      Effect.gen(function*() {
        yield* repo.lockOrderId(request.orderId)
        const mark = yield* repo.cancellationMark(request.orderId)
        if (Option.isSome(mark)) {
          // The saga gave up on this order and cancelled it before this (late) create arrived.
          return yield* new OrderConflict({
            orderId: request.orderId,
            message:
              `order ${request.orderId} was cancelled before it was created (${mark.value}); it cannot be created now`
          })
        }
        const inserted = yield* repo.insert(request)
        if (Option.isSome(inserted)) return inserted.value
        const order = Option.getOrThrow(yield* repo.find(request.orderId))
        if (sameData(order, request)) return order
        return yield* new OrderConflict({
          orderId: request.orderId,
          message: `order ${request.orderId} exists with other data`
        })
      })

    const create = (key: string, request: CreateOrder) =>
      idempotency.run({ key, request: { endpoint: "create", body: request }, success: Order }, createOnce(request))
        .pipe(
          Effect.withSpan("Orders.create", { attributes: { orderId: request.orderId } })
        )

    const get = (orderId: OrderId) =>
      repo.find(orderId).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound(orderId)), onSome: Effect.succeed })),
        Effect.withSpan("Orders.get")
      )

    const confirmOnce = (orderId: OrderId) =>
      Effect.gen(function*() {
        const confirmed = yield* repo.confirmPending(orderId)
        if (Option.isSome(confirmed)) return confirmed.value
        const order = yield* get(orderId)
        if (order.status === "CONFIRMED") return order
        return yield* new OrderTransitionRejected({
          orderId,
          status: order.status,
          requested: "CONFIRMED",
          message: `order ${orderId} is ${order.status} and cannot be confirmed`
        })
      })

    const confirm = (key: string, orderId: OrderId) =>
      idempotency.run({ key, request: { endpoint: "confirm", orderId }, success: Order }, confirmOnce(orderId)).pipe(
        Effect.withSpan("Orders.confirm", { attributes: { orderId } })
      )

    /**
     * A missing order is still answered 404 (the order saga reads it as nothing to undo), but the
     * id is marked cancelled in the same transaction, so a create that arrives later is refused.
     */
    const cancelOnce = (orderId: OrderId, reason: string) =>
      Effect.gen(function*() {
        yield* repo.lockOrderId(orderId)
        const cancelled = yield* repo.cancelOpen(orderId, reason)
        if (Option.isSome(cancelled)) return cancelled.value
        const order = yield* repo.find(orderId)
        if (Option.isSome(order)) return order.value
        yield* repo.markCancelled(orderId, reason)
        return CancelledBeforeCreation.make({})
      })

    const cancel = (key: string, orderId: OrderId, request: CancelOrder) =>
      idempotency.run(
        { key, request: { endpoint: "cancel", orderId, body: request }, success: CancelResult },
        cancelOnce(orderId, request.reason)
      ).pipe(
        Effect.flatMap((result) => result instanceof Order ? Effect.succeed(result) : Effect.fail(notFound(orderId))),
        Effect.withSpan("Orders.cancel", { attributes: { orderId } })
      )

    return { create, get, confirm, cancel } as const
  }),
  dependencies: [OrdersRepo.Default, Idempotency.layer("orders.idempotency_keys")]
}) {}
