/**
 * Who may call the edge (its own keys, rotated; never the services' SERVICE_TOKEN), and its catalogue.
 */
import { testToken } from "@ecommerce/http-kit/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { EdgeApiKeys, EdgeAuthLive } from "../src/Http.ts"
import { edgeKey } from "./checkoutFixtures.ts"
import { order, PaymentsUrl, startEdge, TestLive } from "./recoveryFixtures.ts"

layer(TestLive, { excludeTestServices: true })("edge authentication", (it) => {
  it.scoped(
    "an edge key is accepted (202), the SERVICE_TOKEN is refused (401); keys rotate",
    () =>
      Effect.gen(function*() {
        const payments = yield* PaymentsUrl
        const edge = yield* startEdge(payments, {})
        const post = (token: Redacted.Redacted<string>) =>
          HttpClient.execute(
            HttpClientRequest.post(`${edge.url}/checkout`).pipe(
              HttpClientRequest.bearerToken(token),
              HttpClientRequest.setHeader("idempotency-key", randomUUID()),
              HttpClientRequest.bodyUnsafeJson(order("cust-auth"))
            )
          ).pipe(Effect.map((response) => response.status))
        expect(yield* post(edgeKey)).toBe(202)
        expect(yield* post(testToken)).toBe(401)
        const catalogue = (token: Redacted.Redacted<string>) =>
          HttpClient.execute(HttpClientRequest.get(`${edge.url}/catalogue`).pipe(HttpClientRequest.bearerToken(token)))
            .pipe(
              Effect.map((response) => response.status)
            )
        expect(yield* catalogue(testToken)).toBe(401)

        // Rotation: both keys of EDGE_API_KEYS are accepted, and nothing else.
        const rotating = yield* startEdge(payments, { EDGE_API_KEYS: " old-key , new-key," }, EdgeAuthLive)
        const postTo = (url: string, token: string) =>
          HttpClient.execute(
            HttpClientRequest.post(`${url}/checkout`).pipe(
              HttpClientRequest.bearerToken(token),
              HttpClientRequest.setHeader("idempotency-key", randomUUID()),
              HttpClientRequest.bodyUnsafeJson(order("cust-rotation"))
            )
          ).pipe(Effect.map((response) => response.status))
        expect(yield* postTo(rotating.url, "old-key")).toBe(202)
        expect(yield* postTo(rotating.url, "new-key")).toBe(202)
        expect(yield* postTo(rotating.url, Redacted.value(edgeKey))).toBe(401)
        expect(yield* postTo(rotating.url, Redacted.value(testToken))).toBe(401)
      }),
    60_000
  )

  it.scoped("GET /catalogue lists every sku with its name, unit price and currency", () =>
    Effect.gen(function*() {
      const payments = yield* PaymentsUrl
      const edge = yield* startEdge(payments, {})
      const listing = yield* edge.client.catalogue.list()
      expect(listing.items).toHaveLength(10)
      expect(listing.items[0]).toEqual({
        sku: "HOODIE-GREY-L",
        name: "Grey hoodie, L",
        unitPrice: 4900,
        currency: "EUR"
      })
      expect(listing.items.find((item) => item.sku === "MUG-BLUE" && item.currency === "USD")?.unitPrice).toBe(999)
      const sql = yield* SqlClient.SqlClient
      const [count] = yield* sql<{ n: number }>`select count(*)::int as n from catalogue`
      expect(listing.items).toHaveLength(count!.n)
      const raw = yield* HttpClient.execute(
        HttpClientRequest.get(`${edge.url}/catalogue`).pipe(HttpClientRequest.bearerToken(edgeKey))
      )
      expect(raw.status).toBe(200)
      expect(((yield* raw.json) as { items: Array<unknown> }).items[0]).toEqual({
        sku: "HOODIE-GREY-L",
        name: "Grey hoodie, L",
        unitPrice: 4900,
        currency: "EUR"
      })
    }))

  it.effect("EDGE_API_KEYS that hold the SERVICE_TOKEN, or no key, refuse to load and name the setting", () =>
    Effect.gen(function*() {
      const load = (settings: Record<string, string>) =>
        Effect.flip(EdgeApiKeys.pipe(Effect.withConfigProvider(ConfigProvider.fromJson(settings)))).pipe(
          Effect.map(String)
        )
      expect(yield* load({ EDGE_API_KEYS: "a,svc", SERVICE_TOKEN: "svc" })).toMatch(/EDGE_API_KEYS.*SERVICE_TOKEN/)
      expect(yield* load({ EDGE_API_KEYS: " , " })).toMatch(/EDGE_API_KEYS.*at least one key/)
      const defaults = yield* EdgeApiKeys.pipe(Effect.withConfigProvider(ConfigProvider.fromJson({})))
      expect(defaults.map(Redacted.value)).toEqual(["dev-edge-key"])
    }))
})
