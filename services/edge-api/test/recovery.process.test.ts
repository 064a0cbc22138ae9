/**
 * No card hold without an order when the edge OS process is SIGKILLed between the authorization and
 * the commit: another edge's recovery loop voids the hold (see recovery.test.ts for the other causes).
 */
import { IdempotencyKey } from "@ecommerce/contracts"
import { TestDatabase } from "@ecommerce/db/testing"
import { testToken } from "@ecommerce/http-kit/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted, Schedule } from "effect"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createServer as createNetServer } from "node:net"
import { fileURLToPath } from "node:url"
import { orderIdFor } from "../src/OrderKeys.ts"
import { edgeKey } from "./checkoutFixtures.ts"
import {
  awaitChecks,
  awaitReleased,
  order,
  paymentsProxy,
  PaymentsUrl,
  shortWindow,
  startEdge,
  stateOf,
  TestLive
} from "./recoveryFixtures.ts"

const mainEntry = fileURLToPath(new URL("../src/main.ts", import.meta.url))

const freePort = Effect.async<number>((resume) => {
  const probe = createNetServer()
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

layer(TestLive, { excludeTestServices: true })("checkout recovery: edge process killed", (it) => {
  it.scoped(
    "the edge process is SIGKILLed between authorize and commit: another edge voids the hold",
    () =>
      Effect.gen(function*() {
        const db = yield* TestDatabase
        const proxy = yield* paymentsProxy
        proxy.setMode("hold")
        const port = yield* freePort
        const output: Array<string> = []
        const child = yield* Effect.acquireRelease(
          Effect.sync(() => {
            const child = spawn(process.execPath, ["--import", "tsx", mainEntry], {
              env: {
                ...process.env,
                DATABASE_URL: db.url,
                PAYMENTS_SERVICE_URL: proxy.url,
                SERVICE_TOKEN: Redacted.value(testToken),
                EDGE_API_KEYS: Redacted.value(edgeKey),
                EDGE_API_PORT: String(port),
                CHECKOUT_RECOVERY_MS: "120000"
              },
              stdio: ["ignore", "pipe", "pipe"]
            })
            child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()))
            child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()))
            return child
          }),
          (child) =>
            Effect.sync(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")))
        )
        const baseUrl = `http://127.0.0.1:${port}`
        yield* HttpClient.get(`${baseUrl}/health`).pipe(
          Effect.filterOrFail((response) => response.status === 200),
          // Generous: tsx transpiles the whole service at start, on a machine other tests share.
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("150 seconds"))),
          Effect.mapError((error) => new Error(`the edge process never answered: ${error}; ${output.join("")}`))
        )
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-edge-killed")
        const orderId = orderIdFor(request.customerId, key)
        yield* Effect.fork(
          HttpClient.execute(
            HttpClientRequest.post(`${baseUrl}/checkout`).pipe(
              HttpClientRequest.bearerToken(edgeKey),
              HttpClientRequest.setHeader("idempotency-key", key),
              HttpClientRequest.bodyUnsafeJson(request)
            )
          )
        )
        yield* awaitChecks(proxy, 1)
        expect(yield* stateOf(orderId)).toEqual({ ledger: 0, payment: "AUTHORIZED", attempt: "open" })
        child.kill("SIGKILL")
        yield* Effect.async<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
        })
        // The survivor (another replica, or the restarted edge) runs the recovery loop.
        const payments = yield* PaymentsUrl
        yield* startEdge(payments, shortWindow)
        expect(yield* awaitReleased(orderId)).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
      }),
    300_000
  )
})
