import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Config, Context, Effect, Layer, Random } from "effect"

/**
 * Fault injection for the saga's tests, off by default. Each non-health request draws once:
 * - `CHAOS_FAIL_BEFORE_RATE` of them answer 503 before doing anything;
 * - `CHAOS_FAIL_AFTER_RATE` of them run to completion (effect and idempotency record committed),
 *   then answer 503 instead of the real response: a lost response the caller must retry.
 */
export interface ChaosSettings {
  readonly failBeforeRate: number
  readonly failAfterRate: number
}

const rate = (name: string) =>
  Config.number(name).pipe(
    Config.validate({ message: "must be between 0 and 1", validation: (n) => n >= 0 && n <= 1 }),
    Config.withDefault(0)
  )

export const ChaosConfig: Config.Config<ChaosSettings> = Config.all({
  failBeforeRate: rate("CHAOS_FAIL_BEFORE_RATE"),
  failAfterRate: rate("CHAOS_FAIL_AFTER_RATE")
})

export class Chaos extends Context.Tag("@ecommerce/http-kit/Chaos")<Chaos, ChaosSettings>() {
  static readonly layer = (settings: ChaosSettings) => Layer.succeed(Chaos, settings)
  static readonly Live = Layer.effect(Chaos, ChaosConfig)
  static readonly off = Chaos.layer({ failBeforeRate: 0, failAfterRate: 0 })
}

const unavailable = (when: "before" | "after") =>
  HttpServerResponse.unsafeJson(
    { _tag: "ServiceUnavailable", message: `injected failure (${when} the effect)` },
    { status: 503 }
  )

const hits = (probability: number) =>
  probability <= 0 ? Effect.succeed(false) : Effect.map(Random.next, (draw) => draw < probability)

/** Inside the API (HttpApiBuilder.middleware): a response replaced here has not been sent yet. */
export const chaosMiddleware = (settings: ChaosSettings) => <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.url.startsWith("/health")) return yield* app
    if (yield* hits(settings.failBeforeRate)) {
      yield* Effect.logWarning("chaos: failing the request before the effect")
      return unavailable("before")
    }
    const response = yield* app
    if (yield* hits(settings.failAfterRate)) {
      yield* Effect.logWarning("chaos: dropping the response after the effect")
      return unavailable("after")
    }
    return response
  })
