import {
  InsufficientStock,
  type OrderId,
  Quantity,
  Reservation,
  ReservationConflict,
  ReservationLine,
  ReservationNotFound,
  type ReserveStock,
  type Sku,
  Stock,
  StockBelowReserved,
  StockNotFound
} from "@ecommerce/contracts"
import { Idempotency, invalidRequest } from "@ecommerce/http-kit"
import { Effect, Option, Schema } from "effect"
import { InventoryRepo, type StockRow } from "./InventoryRepo.ts"

/**
 * Lines of the same sku summed, sorted by sku: the canonical form stored and compared. A sum is still
 * a `Quantity` (the response carries it as one), so lines that add up past its maximum are a 400.
 */
const canonicalLines = (items: ReadonlyArray<ReservationLine>) => {
  const totals = new Map<Sku, number>()
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity)
  const sorted = [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const tooMany = sorted.find(([, quantity]) => !isQuantity(quantity))
  return tooMany === undefined
    ? Effect.succeed(sorted.map(([sku, quantity]) => new ReservationLine({ sku, quantity })))
    : Effect.fail(
      invalidRequest(["items"], `the lines of ${tooMany[0]} add up to ${tooMany[1]}; at most 10000 per sku`)
    )
}

const isQuantity = Schema.is(Quantity)

const sameLines = (a: ReadonlyArray<{ sku: Sku; quantity: number }>, b: ReadonlyArray<ReservationLine>) =>
  a.length === b.length && a.every((line, i) => line.sku === b[i]!.sku && line.quantity === b[i]!.quantity)

const toStock = (row: StockRow) =>
  new Stock({ sku: row.sku, onHand: row.onHand, reserved: row.reserved, available: row.onHand - row.reserved })

export class Inventory extends Effect.Service<Inventory>()("@ecommerce/inventory/Inventory", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's methods, each short and sharing
    // the one `repo`; splitting it would scatter one schema's rules over files.
    const repo = yield* InventoryRepo
    const idempotency = yield* Idempotency

    const reserveOnce = (orderId: OrderId, lines: ReadonlyArray<ReservationLine>) =>
      Effect.gen(function*() {
        if (!(yield* repo.claimReservation(orderId, "HELD"))) {
          const existing = Option.getOrThrow(yield* repo.findReservation(orderId))
          if (existing.status === "HELD" && sameLines(existing.items, lines)) return existing
          return yield* new ReservationConflict({
            orderId,
            status: existing.status,
            message: existing.status === "RELEASED"
              ? `the reservation of order ${orderId} was released; it cannot be reserved again`
              : `order ${orderId} already holds a reservation with other lines`
          })
        }
        const stock = new Map((yield* repo.lockStock(lines.map((line) => line.sku))).map((row) => [row.sku, row]))
        for (const line of lines) {
          const row = stock.get(line.sku)
          const available = row === undefined ? 0 : row.onHand - row.reserved
          if (available < line.quantity) {
            return yield* new InsufficientStock({
              orderId,
              sku: line.sku,
              requested: line.quantity,
              available,
              message: `only ${available} of ${line.sku} available, ${line.quantity} requested`
            })
          }
        }
        yield* repo.reserveLines(orderId, lines)
        return new Reservation({ orderId, status: "HELD", items: lines })
      })

    const reserve = (key: string, request: ReserveStock) =>
      Effect.flatMap(canonicalLines(request.items), (lines) =>
        idempotency.run(
          { key, request: { endpoint: "reserve", body: request }, success: Reservation },
          reserveOnce(request.orderId, lines)
        )).pipe(Effect.withSpan("Inventory.reserve", { attributes: { orderId: request.orderId } }))

    const releaseOnce = (orderId: OrderId) =>
      Effect.gen(function*() {
        // Nothing was reserved: leave a RELEASED mark so that a late reserve cannot succeed.
        if (yield* repo.claimReservation(orderId, "RELEASED")) {
          return new Reservation({ orderId, status: "RELEASED", items: [] })
        }
        if (yield* repo.markReleased(orderId)) {
          yield* repo.lockReservedStock(orderId)
          yield* repo.returnReservedStock(orderId)
        }
        return Option.getOrThrow(yield* repo.findReservation(orderId))
      })

    const release = (key: string, orderId: OrderId) =>
      idempotency.run(
        { key, request: { endpoint: "release", orderId }, success: Reservation },
        releaseOnce(orderId)
      ).pipe(Effect.withSpan("Inventory.release", { attributes: { orderId } }))

    const getReservation = (orderId: OrderId) =>
      repo.findReservation(orderId).pipe(
        Effect.flatMap(Option.match({
          onNone: () =>
            Effect.fail(new ReservationNotFound({ orderId, message: `order ${orderId} has no reservation` })),
          onSome: Effect.succeed
        })),
        Effect.withSpan("Inventory.getReservation")
      )

    const getStock = (sku: Sku) =>
      repo.findStock(sku).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new StockNotFound({ sku, message: `no stock record for ${sku}` })),
          onSome: (row) => Effect.succeed(toStock(row))
        })),
        Effect.withSpan("Inventory.getStock")
      )

    const setStock = (key: string, sku: Sku, onHand: number) =>
      idempotency.run(
        { key, request: { endpoint: "setStock", sku, onHand }, success: Stock },
        Effect.gen(function*() {
          const row = yield* repo.setOnHand(sku, onHand)
          if (Option.isSome(row)) return toStock(row.value)
          const current = Option.getOrThrow(yield* repo.findStock(sku))
          return yield* new StockBelowReserved({
            sku,
            onHand,
            reserved: current.reserved,
            message: `${current.reserved} of ${sku} are reserved; on-hand cannot be set to ${onHand}`
          })
        })
      ).pipe(Effect.withSpan("Inventory.setStock", { attributes: { sku } }))

    return { reserve, release, getReservation, getStock, setStock } as const
  }),
  dependencies: [InventoryRepo.Default, Idempotency.layer("inventory.idempotency_keys")]
}) {}
