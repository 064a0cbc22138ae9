import { describe, expect, it } from "@effect/vitest"
import { Context, Option } from "effect"
import { spanFromTraceHeaders, TraceStateHeader } from "../src/TraceHeaders.ts"

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
const spanId = "00f067aa0ba902b7"

describe("spanFromTraceHeaders", () => {
  it("reads the producer's span and sampling from traceparent, and keeps tracestate beside it", () => {
    const span = spanFromTraceHeaders({
      traceparent: ` 00-${traceId.toUpperCase()}-${spanId}-01 `,
      tracestate: "a=1,b=2"
    })
    expect(span).toMatchObject({ _tag: "ExternalSpan", traceId, spanId, sampled: true })
    expect(Context.getOption(span!.context, TraceStateHeader)).toEqual(Option.some("a=1,b=2"))
    const unsampled = spanFromTraceHeaders({ traceparent: `00-${traceId}-${spanId}-00`, tracestate: "  " })
    expect(unsampled?.sampled).toBe(false)
    expect(Context.getOption(unsampled!.context, TraceStateHeader)).toEqual(Option.none())
  })

  it("returns nothing for headers without a valid traceparent", () => {
    for (
      const headers of [
        null,
        "00-x",
        [],
        {},
        { traceparent: 42 },
        { traceparent: `00-${"0".repeat(32)}-${spanId}-01` },
        { traceparent: `00-${traceId}-${"0".repeat(16)}-01` },
        { traceparent: `00-${traceId}-${spanId}` },
        { traceparent: `00-${traceId}-${spanId}-01-extra` }
      ]
    ) {
      expect(spanFromTraceHeaders(headers), JSON.stringify(headers)).toBeUndefined()
    }
  })
})
