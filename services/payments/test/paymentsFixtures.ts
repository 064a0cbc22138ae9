/** The payments service over HTTP for its test files: the layer, an authorization's terms and the calls on it. */
import {
  AuthorizationId,
  Authorize,
  CaptureTerms,
  CardToken,
  Currency,
  MinorUnits,
  OrderId,
  type Payment,
  TestCards
} from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { freshKey, serviceTestLayer } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { PaymentsApiLive } from "../src/Http.ts"

export const TestLive = serviceTestLayer({ api: PaymentsApiLive, role: "payments", client: PaymentsClient.layer })

export const terms = (card: string = TestCards.approved, orderId = OrderId.make(randomUUID())) =>
  new Authorize({
    orderId,
    amount: MinorUnits.make(2500),
    currency: Currency.make("EUR"),
    cardToken: CardToken.make(card)
  })

export const authorize = (request: Authorize, headers = freshKey()) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.authorize({ headers, payload: request }))

/** Captures with the payment's own terms unless `terms` says otherwise. */
export const capture = (
  payment: Pick<Payment, "authorizationId" | "orderId" | "amount" | "currency">,
  headers = freshKey(),
  terms: Partial<CaptureTerms> = {}
) =>
  Effect.flatMap(PaymentsClient, (client) =>
    client.payments.capture({
      path: { authorization_id: payment.authorizationId },
      headers,
      payload: new CaptureTerms({
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
        ...terms
      })
    }))

export const voidIt = (id: AuthorizationId, headers = freshKey()) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.void({ path: { authorization_id: id }, headers }))

export const refund = (id: AuthorizationId, headers = freshKey()) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.refund({ path: { authorization_id: id }, headers }))

export const get = (id: AuthorizationId) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.get({ path: { authorization_id: id } }))

export const capturedAt = (id: AuthorizationId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ capturedAt: Date | null }>`
      select captured_at as "capturedAt" from payments.authorizations where authorization_id = ${id}`)
