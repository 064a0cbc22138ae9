/** Where the sagas meet the contracts: event payloads bounded as the requests they feed; errors classified. */
import { InsufficientStock, OrderCancellationRequested, OrderId, OrderPlaced, Sku } from "@ecommerce/contracts"
import { HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { expect, it as plain } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { byStatus, classify } from "../../src/saga/Classification.ts"
import { inventoryErrors } from "../../src/sagas/Downstream.ts"
import { newOrder } from "../saga-fixtures/fixtures.ts"

plain(
  "event schemas bound their strings as the contracts they feed: a cancellation reason over 500 characters does not decode",
  () => {
    const request = {
      ...Schema.encodeSync(OrderPlaced)(newOrder()),
      reason: "x".repeat(501)
    }
    expect(Either.isLeft(Schema.decodeUnknownEither(OrderCancellationRequested)(request))).toBe(true)
    expect(
      Either.isRight(Schema.decodeUnknownEither(OrderCancellationRequested)({ ...request, reason: "x".repeat(500) }))
    ).toBe(true)
    expect(Either.isRight(Schema.decodeUnknownEither(OrderCancellationRequested)({ ...request, reason: "" }))).toBe(
      true
    )
  }
)

plain.effect(
  "classification: 5xx and transport errors are transient with unknown outcome; typed 409s are rejected",
  () =>
    Effect.sync(() => {
      const request = HttpClientRequest.get("http://inventory.test/x")
      const response = (status: number) =>
        new HttpClientError.ResponseError({
          request,
          response: HttpClientResponse.fromWeb(request, new Response("", { status })),
          reason: "StatusCode"
        })
      expect(byStatus(response(503))).toBe("transient")
      expect(byStatus(response(429))).toBe("transient")
      expect(byStatus(response(418))).toBe("unknown")
      expect(classify("inventory", inventoryErrors, response(502))).toMatchObject({
        kind: "transient",
        unknownOutcome: true
      })
      expect(classify("inventory", inventoryErrors, new HttpClientError.RequestError({ request, reason: "Transport" })))
        .toMatchObject({ kind: "transient", unknownOutcome: true })
      const insufficient = new InsufficientStock({
        orderId: OrderId.make("5b1c3c0e-0000-4000-8000-000000000000"),
        sku: Sku.make("MUG-BLUE"),
        requested: 2,
        available: 0,
        message: "none left"
      })
      expect(classify("inventory", inventoryErrors, insufficient)).toMatchObject({
        kind: "permanent",
        unknownOutcome: false,
        errorTag: "InsufficientStock",
        message: "inventory: InsufficientStock: none left"
      })
    })
)
