import { HttpServerError, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Cause, Effect, Option } from "effect"

const isUnreadableBody = (defect: unknown) =>
  HttpServerError.isServerError(defect) && defect._tag === "RequestError" && defect.reason === "Decode"

/**
 * HttpApiBuilder reads a JSON body with `orDie`, so a body that is not JSON at all would surface as
 * a bare 400 (or a 500 behind other middleware). Answer it as the `HttpApiDecodeError` that typed
 * clients already decode. Must run inside the API (HttpApiBuilder.middleware), where the defect is
 * still visible.
 */
export const malformedBodyMiddleware = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.catchAllCause(app, (cause) =>
    Option.match(
      Cause.find(cause, (reason) =>
        reason._tag === "Die" && isUnreadableBody(reason.defect) ? Option.some(reason.defect) : Option.none()),
      {
        onNone: () =>
          Effect.failCause(cause),
        onSome: () =>
          Effect.succeed(
            HttpServerResponse.unsafeJson(
              { _tag: "HttpApiDecodeError", issues: [], message: "request body: not valid JSON" },
              { status: 400 }
            )
          )
      }
    ))
