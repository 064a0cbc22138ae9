import { HttpServerError, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Cause, Effect, Option } from "effect"

/**
 * HttpApiBuilder reads a JSON body with `orDie`, so a body that is not JSON at all would surface as
 * a 500. Answer it as the 400 `HttpApiDecodeError` that typed clients already decode.
 */
export const malformedBodyMiddleware = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.catchAllCause(app, (cause) =>
    Option.match(
      Cause.find(cause, (reason) =>
        reason._tag === "Die" && HttpServerError.isServerError(reason.defect) &&
          reason.defect._tag === "RequestError" && reason.defect.reason === "Decode"
          ? Option.some(reason.defect)
          : Option.none()
      ),
      {
        onNone: () => Effect.failCause(cause),
        onSome: () =>
          Effect.succeed(
            HttpServerResponse.unsafeJson(
              { _tag: "HttpApiDecodeError", issues: [], message: "request body: not valid JSON" },
              { status: 400 }
            )
          )
      }
    ))
