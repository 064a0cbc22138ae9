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
import { Effect, Option } from "effect"
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

export class Orders extends Effect.Service<Orders>()("@ecommerce/orders/Orders", {
  effect: Effect.gen(function*() {
    const repo = yield* OrdersRepo
    const idempotency = yield* Idempotency

    const createOnce = (request: CreateOrder) =>
      Effect.gen(function*() {
        const inserted = yield* repo.insert(request)
        const order = Option.getOrThrow(yield* repo.find(request.orderId))
        if (inserted || sameData(order, request)) return order
        return yield* new OrderConflict({
          orderId: request.orderId,
          message: `order ${request.orderId} exists with other data`
        })
      })

    const create = (key: string, request: CreateOrder) =>
      idempotency.run({ key, request: { endpoint: "create", body: request }, success: Order }, createOnce(request)).pipe(
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

    const cancelOnce = (orderId: OrderId, reason: string) =>
      Effect.flatMap(
        repo.cancelOpen(orderId, reason),
        Option.match({ onSome: Effect.succeed, onNone: () => get(orderId) })
      )

    const cancel = (key: string, orderId: OrderId, request: CancelOrder) =>
      idempotency.run(
        { key, request: { endpoint: "cancel", orderId, body: request }, success: Order },
        cancelOnce(orderId, request.reason)
      ).pipe(Effect.withSpan("Orders.cancel", { attributes: { orderId } }))

    return { create, get, confirm, cancel } as const
  }),
  dependencies: [OrdersRepo.Default, Idempotency.layer("orders.idempotency_keys")]
}) {}

