import { OrderConflict, OrderId, PaymentDeclined } from "@ecommerce/contracts"
import { expect, it } from "@effect/vitest"
import { reply } from "../saga-fixtures/FakeServices.ts"

it("the fakes answer a contract error with the status and body the contract declares", () => {
  expect(reply.error(new PaymentDeclined({ stage: "capture", message: "declined" }))).toEqual({
    _tag: "status",
    status: 402,
    body: { _tag: "PaymentDeclined", stage: "capture", message: "declined" }
  })
  const orderId = OrderId.make("5b1c3c0e-0000-4000-8000-000000000000")
  expect(reply.error(409, { _tag: "OrderConflict", orderId, message: "other data" })).toEqual(
    reply.error(new OrderConflict({ orderId, message: "other data" }))
  )
})

it("the fakes refuse a body or a status the contracts do not declare, so they cannot drift", () => {
  expect(() => reply.error(409, { _tag: "PaymentDeclined", stage: "capture", message: "declined" })).toThrow(
    "the contracts answer PaymentDeclined with 402, not 409"
  )
  expect(() => reply.error(409, { _tag: "OrderConflict", message: "no order id" })).toThrow(/orderId/)
  expect(() => reply.error(409, { _tag: "NoSuchError", message: "x" })).toThrow(
    "NoSuchError is not an error the contracts declare"
  )
})
