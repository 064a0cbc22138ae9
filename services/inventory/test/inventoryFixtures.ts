/** The inventory service over HTTP for its test files: the layer, and stock and reservation calls. */
import { OrderId, ReservationLine, ReserveStock, SetStock, Sku } from "@ecommerce/contracts"
import { InventoryClient } from "@ecommerce/http-kit/clients"
import { freshKey, serviceTestLayer } from "@ecommerce/http-kit/testing"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { InventoryApiLive } from "../src/Http.ts"

export const TestLive = serviceTestLayer({ api: InventoryApiLive, role: "inventory", client: InventoryClient.layer })

export const newOrder = () => OrderId.make(randomUUID())

export const line = (sku: string, quantity: number) => new ReservationLine({ sku: Sku.make(sku), quantity })

export const uniqueSku = (prefix: string) => Sku.make(`${prefix}-${randomUUID().slice(0, 8).toUpperCase()}`)

export const setStock = (sku: Sku, onHand: number) =>
  Effect.flatMap(
    InventoryClient,
    (client) => client.stock.set({ path: { sku }, headers: freshKey(), payload: new SetStock({ onHand }) })
  )

export const reserve = (orderId: OrderId, items: Array<ReservationLine>, headers = freshKey()) =>
  Effect.flatMap(
    InventoryClient,
    (client) =>
      client.reservations.reserve({
        headers,
        payload: new ReserveStock({ orderId, items: [items[0]!, ...items.slice(1)] })
      })
  )

export const stockOf = (sku: Sku) => Effect.flatMap(InventoryClient, (client) => client.stock.get({ path: { sku } }))
