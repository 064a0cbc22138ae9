/**
 * The backstop: holds older than AUTHORIZATION_TTL are voided as expired.
 */
import { AuthorizationId } from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { clientOf, testServer } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schedule } from "effect"
import { PaymentsApiLive } from "../src/Http.ts"
import { authorize, capture, terms, TestLive } from "./paymentsFixtures.ts"

layer(TestLive, { excludeTestServices: true })("payments over HTTP: expiry", (it) => {
  it.scoped(
    "holds older than AUTHORIZATION_TTL are voided as expired; captured ones are left alone",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const short = testServer({
          api: PaymentsApiLive.pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({ AUTHORIZATION_TTL: "2 seconds" })))
          ),
          role: "payments"
        })
        const context = yield* Layer.buildWithScope(
          clientOf(PaymentsClient.layer).pipe(Layer.provide(short)),
          yield* Effect.scope
        )
        const scoped = <A, E>(effect: Effect.Effect<A, E, PaymentsClient>) => Effect.provide(effect, context)
        const open = yield* scoped(authorize(terms()))
        const captured = yield* scoped(authorize(terms()))
        yield* scoped(capture(captured))
        const statusOf = (id: AuthorizationId) =>
          sql<{ status: string; voidReason: string | null }>`
          select status, void_reason as "voidReason" from payments.authorizations where authorization_id = ${id}`
        yield* statusOf(open.authorizationId).pipe(
          Effect.filterOrFail((rows) => rows[0]?.status === "VOIDED"),
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("30 seconds")))
        )
        expect(yield* statusOf(open.authorizationId)).toEqual([{ status: "VOIDED", voidReason: "expired" }])
        expect(yield* statusOf(captured.authorizationId)).toEqual([{ status: "CAPTURED", voidReason: null }])
        const late = yield* Effect.flip(scoped(capture(open)))
        expect(late).toMatchObject({ _tag: "PaymentStateConflict", status: "VOIDED" })
      }),
    60_000
  )
})
