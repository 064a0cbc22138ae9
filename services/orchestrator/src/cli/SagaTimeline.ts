import { errorText, formatMs, table } from "./Output.ts"
import type * as Q from "./Queries.ts"

/** What `saga show` prints: the order's ledger row, each of its sagas with steps and actions, its events. */
type Shown = {
  readonly order_id: string
  readonly ledger: Q.LedgerRow | null
  readonly sagas: ReadonlyArray<
    Q.SagaRow & {
      readonly steps: ReadonlyArray<Q.StepRow & { readonly idempotency_key: string }>
      readonly operator_actions: ReadonlyArray<Q.ActionRow>
    }
  >
  readonly events: ReadonlyArray<Q.OutboxRow>
}

export const showText = (d: Shown): string =>
  [
    `order ${d.order_id}: ledger ${
      d.ledger === null
        ? "(no ledger row)"
        : `${d.ledger.status} ${d.ledger.amount} ${d.ledger.currency}${d.ledger.reason ? ` — ${d.ledger.reason}` : ""}`
    }`,
    ...d.sagas.flatMap((s) => [
      "",
      `saga ${s.id} (${s.saga_type}): ${s.state}${s.current_step ? ` at ${s.current_step}` : ""}, ` +
      `started ${s.created_at}, last change after ${formatMs(s.duration_ms)}`,
      ...(errorText(s.error) === null ? [] : [`  error: ${errorText(s.error)}`]),
      table(
        ["  step", "phase", "status", "attempts", "started", "took", "idempotency key", "error"],
        s.steps.map((st) => [
          `  ${st.step}`,
          st.phase,
          st.outcome_unknown ? `${st.status} (outcome unknown)` : st.status,
          st.attempts,
          st.started_at,
          formatMs(st.duration_ms),
          st.idempotency_key,
          st.last_error
        ]),
        "  (no step started)"
      ),
      ...s.operator_actions.map((a) => `  ${a.created_at} ${a.actor}: ${a.action}${a.note ? ` — ${a.note}` : ""}`)
    ]),
    "",
    "events",
    table(
      ["  outbox id", "type", "status", "attempts", "created", "error"],
      d.events.map((e) => [`  ${e.id}`, e.event_type, e.status, e.attempts, e.created_at, e.last_error]),
      "  (none in the outbox)"
    )
  ].join("\n")
