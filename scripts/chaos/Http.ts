/** The run's HTTP calls (plain JSON over fetch), retried the way a client would retry. */
import { Data, Duration, Effect, Schedule } from "effect"

export class HttpFailure extends Data.TaggedError("HttpFailure")<{
  readonly method: string
  readonly url: string
  /** 0 for a transport failure (refused, reset, timed out). */
  readonly status: number
  readonly body: string
}> {
  override get message() {
    return `${this.method} ${this.url}: ${this.status === 0 ? "transport failure" : this.status} ${
      this.body.slice(0, 300)
    }`
  }
}

export interface Answer {
  readonly status: number
  readonly json: unknown
}

export const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)])
      })
      const text = await response.text()
      let json: unknown = undefined
      try {
        json = text.length > 0 ? JSON.parse(text) : undefined
      } catch {
        json = text
      }
      return { status: response.status, json, text }
    },
    catch: (error) => new HttpFailure({ method, url, status: 0, body: String(error) })
  }).pipe(
    Effect.flatMap(({ json, status, text }) =>
      status >= 500
        ? Effect.fail(new HttpFailure({ method, url, status, body: text }))
        : Effect.succeed({ status, json } satisfies Answer)
    )
  )

/** Retries 5xx and transport failures (the same request, so the same Idempotency-Key) for up to `within`. */
export const retried = (within: Duration.DurationInput) => <A, R>(self: Effect.Effect<A, HttpFailure, R>) =>
  Effect.retry(self, Schedule.spaced("250 millis").pipe(Schedule.upTo(within)))
