import { HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Option } from "effect"
import type { IncomingMessage } from "node:http"

/**
 * Deepest JSON nesting a body may have. Every contract body is at most 3 levels deep; Effect's
 * `Inspectable` and `JSON.stringify` overflow the stack near 5,000 levels (a 500 before this guard).
 */
export const MaxJsonDepth = 32

/** What the guard found wrong with a body, with the 4xx status it answers. */
type Refusal = { readonly status: 400 | 413; readonly message: string; readonly path: ReadonlyArray<string | number> }

const refuse = (refusal: Refusal) =>
  HttpServerResponse.unsafeJson(
    refusal.status === 413
      ? { _tag: "PayloadTooLarge", message: refusal.message }
      : {
        _tag: "HttpApiDecodeError",
        issues: [{ _tag: "Type", path: refusal.path, message: refusal.message }],
        message: refusal.message
      },
    { status: refusal.status }
  )

/**
 * Nesting depth of a JSON text, in one pass that skips string contents (brackets inside strings do
 * not count). Stops as soon as `limit` is passed, so a hostile body costs at most one scan.
 */
export const jsonDepthExceeds = (text: string, limit: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true
    } else if (c === 125 || c === 93) depth--
  }
  return false
}

// NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * The path of the first string (value or key) Postgres cannot store: text and jsonb refuse NUL, and
 * a lone surrogate is not valid UTF-8 (the driver would silently turn it into U+FFFD).
 */
export const findUnstorableString = (value: unknown): Option.Option<ReadonlyArray<string | number>> => {
  const stack: Array<[unknown, ReadonlyArray<string | number>]> = [[value, []]]
  while (stack.length > 0) {
    const [current, path] = stack.pop()!
    if (typeof current === "string") {
      if (unstorable.test(current)) return Option.some(path)
    } else if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push([item, [...path, i]]))
    } else if (current !== null && typeof current === "object") {
      for (const [key, item] of Object.entries(current)) {
        if (unstorable.test(key)) return Option.some([...path, key])
        stack.push([item, [...path, key]])
      }
    }
  }
  return Option.none()
}

const hasBody = (method: string) => method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE"

type Body = { readonly _tag: "Text"; readonly text: string } | { readonly _tag: "TooLarge" } | {
  readonly _tag: "Aborted"
}

/**
 * Reads the body up to `limit` bytes. Past it, the rest is drained and dropped (not destroyed, as
 * @effect/platform's own limit does, which resets the connection before the 413 can be read).
 */
const readBody = (source: IncomingMessage, limit: number) =>
  Effect.async<Body>((resume) => {
    const chunks: Array<Buffer> = []
    let bytes = 0
    let done = false
    const finish = (body: Body) => {
      if (!done) {
        done = true
        resume(Effect.succeed(body))
      }
    }
    source.on("data", (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > limit) finish({ _tag: "TooLarge" })
      else if (!done) chunks.push(chunk)
    })
    source.once("end", () => finish({ _tag: "Text", text: Buffer.concat(chunks).toString("utf8") }))
    source.once("error", () => finish({ _tag: "Aborted" }))
    source.once("aborted", () => finish({ _tag: "Aborted" }))
  })

type Inspected =
  | { readonly _tag: "Refused"; readonly refusal: Refusal }
  | { readonly _tag: "Parsed"; readonly json: unknown }
  | { readonly _tag: "NotJson"; readonly error: unknown }

const inspect = (text: string): Inspected => {
  if (text === "") return { _tag: "Parsed", json: null }
  if (jsonDepthExceeds(text, MaxJsonDepth)) {
    return {
      _tag: "Refused",
      refusal: { status: 400, path: [], message: `request body: JSON nested deeper than ${MaxJsonDepth} levels` }
    }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { _tag: "NotJson", error } // left to the API, which answers it as a decode error
  }
  return Option.match(findUnstorableString(json), {
    onNone: () => ({ _tag: "Parsed", json }),
    onSome: (path) => ({
      _tag: "Refused",
      refusal: {
        status: 400,
        path,
        message: `${
          path.length === 0 ? "request body" : JSON.stringify(path)
        }: must not contain NUL or unpaired surrogates`
      }
    })
  })
}

/**
 * The request as the API sees it once the guard has read the body: `text` and `json` answer from
 * what was read (the stream is consumed, and the body is parsed once, not twice).
 */
const withBody = (request: HttpServerRequest.HttpServerRequest, text: string, inspected: Inspected) =>
  Object.create(request, {
    text: { value: Effect.succeed(text) },
    json: {
      value: inspected._tag === "Parsed"
        ? Effect.succeed(inspected.json)
        : Effect.fail(
          new HttpServerError.RequestError({
            request,
            reason: "Decode",
            cause: inspected._tag === "NotJson" ? inspected.error : undefined
          })
        )
    }
  }) as HttpServerRequest.HttpServerRequest

/**
 * Refuses, before any handler runs, what a client can send that would otherwise end in a 500 or
 * in data Postgres cannot store: a body over `maxBodyBytes` (413, from Content-Length when given,
 * else while reading), JSON nested past `MaxJsonDepth` (400), strings with NUL or lone surrogates
 * (400 naming the field). Must run inside the API (HttpApiBuilder.middleware), before the payload
 * is decoded.
 */
export const requestGuard = (maxBodyBytes: number) => <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!hasBody(request.method)) return yield* app
    const tooLarge = refuse({
      status: 413,
      path: [],
      message: `request body exceeds ${maxBodyBytes} bytes (MAX_BODY_BYTES)`
    })
    if (Number(request.headers["content-length"] ?? "0") > maxBodyBytes) return tooLarge
    const body = yield* readBody(NodeHttpServerRequest.toIncomingMessage(request), maxBodyBytes)
    // An aborted body has nobody left to read the answer.
    if (body._tag !== "Text") return body._tag === "TooLarge" ? tooLarge : HttpServerResponse.empty({ status: 400 })
    const inspected = inspect(body.text)
    if (inspected._tag === "Refused") return refuse(inspected.refusal)
    return yield* Effect.provideService(
      app,
      HttpServerRequest.HttpServerRequest,
      withBody(request, body.text, inspected)
    )
  })
