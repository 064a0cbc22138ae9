/**
 * What a client can send that used to end in a 500 or in unstorable data, against two real services
 * over loopback HTTP: bodies over MAX_BODY_BYTES, deep JSON, NUL and lone surrogates.
 */
import { TestDatabaseLive } from "@ecommerce/db/testing"
import { serverUrl, testServer, testToken } from "@ecommerce/http-kit/testing"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { request as httpRequest } from "node:http"
import { inject } from "vitest"
import { InventoryApiLive } from "../../../services/inventory/src/Http.ts"
import { OrdersApiLive } from "../../../services/orders/src/Http.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")
const maxBodyBytes = 64 * 1024

class OrdersUrl extends Context.Tag("test/OrdersUrl")<OrdersUrl, string>() {}
class InventoryUrl extends Context.Tag("test/InventoryUrl")<InventoryUrl, string>() {}

const TestLive = Layer.mergeAll(
  Layer.effect(OrdersUrl, serverUrl).pipe(
    Layer.provide(testServer({ api: OrdersApiLive, role: "orders", maxBodyBytes }))
  ),
  Layer.effect(InventoryUrl, serverUrl).pipe(
    Layer.provide(testServer({ api: InventoryApiLive, role: "inventory", maxBodyBytes }))
  )
).pipe(Layer.provideMerge(TestDatabaseLive(adminUrl, template)))

interface Answer {
  readonly status: number
  readonly body: {
    readonly _tag?: string
    readonly message?: string
    readonly issues?: ReadonlyArray<{ path: unknown }>
  }
}

/** A raw request with node:http; `chunked` sends the body without Content-Length. */
const send = (url: string, method: string, body: string, options: { chunked?: boolean } = {}) =>
  Effect.async<Answer>((resume) => {
    const req = httpRequest(url, {
      method,
      headers: {
        authorization: `Bearer ${Redacted.value(testToken)}`,
        "content-type": "application/json",
        "idempotency-key": randomUUID(),
        ...(options.chunked ? { "transfer-encoding": "chunked" } : { "content-length": Buffer.byteLength(body) })
      }
    }, (res) => {
      let text = ""
      res.on("data", (chunk) => (text += chunk))
      res.on(
        "end",
        () => resume(Effect.succeed({ status: res.statusCode!, body: text === "" ? {} : JSON.parse(text) }))
      )
    })
    // The server may answer (413) and close before the whole body is written.
    req.on("error", (error) => resume(Effect.succeed({ status: -1, body: { message: String(error) } })))
    if (options.chunked) {
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.slice(i, i + 16 * 1024))
      req.end()
    } else req.end(body)
  })

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
/** An order body; `customerJson` is spliced in as JSON text (deep values cannot be stringified). */
const order = (options: { orderId?: string; customerJson?: string } = {}) =>
  `{"orderId":"${options.orderId ?? randomUUID()}","customerId":${options.customerJson ?? `"cust-1"`},` +
  `"items":[{"sku":"MUG-BLUE","quantity":1,"unitPrice":899}],"amount":899,"currency":"EUR"}`

layer(TestLive, { excludeTestServices: true })("hostile input on orders and inventory", (it) => {
  it.effect("JSON nested 10,000 levels is a 400 on both services, not a 500", () =>
    Effect.gen(function*() {
      const orders = yield* OrdersUrl
      const inventory = yield* InventoryUrl
      for (
        const [url, body] of [
          [`${orders}/orders`, nested(10_000)],
          [`${orders}/orders`, order({ customerJson: nested(6_000) })],
          [`${inventory}/reservations`, `{"orderId":"${randomUUID()}","items":${nested(10_000)}}`]
        ] as const
      ) {
        const answer = yield* send(url, "POST", body)
        expect(answer.status).toBe(400)
        expect(answer.body._tag).toBe("HttpApiDecodeError")
        expect(answer.body.message).toMatch(/nested deeper than 32 levels/)
      }
    }))

  it.effect("a NUL or a lone surrogate in the cancellation reason is a 400 naming the field", () =>
    Effect.gen(function*() {
      const orders = yield* OrdersUrl
      const orderId = randomUUID()
      expect((yield* send(`${orders}/orders`, "POST", order({ orderId }))).status).toBe(201)
      for (const reason of ["nul \\u0000 here", "lone \\ud800 high", "lone \\udc00 low"]) {
        const answer = yield* send(`${orders}/orders/${orderId}/cancellation`, "POST", `{"reason":"${reason}"}`)
        expect(answer.status).toBe(400)
        expect(answer.body.message).toContain(`["reason"]`)
        expect(answer.body.issues?.[0]?.path).toEqual(["reason"])
      }
      // A well-formed pair is an ordinary character and is stored.
      const fine = yield* send(`${orders}/orders/${orderId}/cancellation`, "POST", `{"reason":"emoji \\ud83d\\ude00"}`)
      expect(fine.status).toBe(200)
    }))

  it.effect("a NUL in a nested field or a key of an inventory body names its path", () =>
    Effect.gen(function*() {
      const inventory = yield* InventoryUrl
      const answer = yield* send(
        `${inventory}/reservations`,
        "POST",
        `{"orderId":"${randomUUID()}","items":[{"sku":"MUG\\u0000","quantity":1}]}`
      )
      expect(answer.status).toBe(400)
      expect(answer.body.issues?.[0]?.path).toEqual(["items", 0, "sku"])
      const key = yield* send(`${inventory}/stock/MUG-BLUE`, "PUT", `{"onHand":1,"\\u0000":1}`)
      expect(key.status).toBe(400)
    }))

  it.effect("a body over MAX_BODY_BYTES is a 413, with or without Content-Length", () =>
    Effect.gen(function*() {
      const orders = yield* OrdersUrl
      const inventory = yield* InventoryUrl
      const big = order({ customerJson: `"${"x".repeat(maxBodyBytes)}"` })
      for (const chunked of [false, true]) {
        const answer = yield* send(`${orders}/orders`, "POST", big, { chunked })
        expect(answer, `chunked: ${chunked}`).toMatchObject({ status: 413 })
        expect(answer.body._tag).toBe("PayloadTooLarge")
        expect((yield* send(`${inventory}/reservations`, "POST", big, { chunked })).status).toBe(413)
      }
      // Just under the limit is read and judged by the schema (customerId is too long: 400).
      const under = order({ customerJson: `"${"x".repeat(maxBodyBytes - 500)}"` })
      expect((yield* send(`${orders}/orders`, "POST", under)).status).toBe(400)
    }))
})
