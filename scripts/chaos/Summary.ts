import type { OrderSnapshot } from "./Checks.ts"
import type { FaultKind, Proxy } from "./Proxy.ts"

/** The run's one summary line: `key=value` pairs a script can grep. */
export const summaryLine = (run: {
  readonly orders: number
  readonly accepted: ReadonlyArray<{ readonly cancelRequested: boolean }>
  readonly declined: number
  readonly snapshots: ReadonlyArray<OrderSnapshot>
  readonly proxies: ReadonlyArray<Proxy>
  readonly counts: { readonly kills: number; readonly terminated: number; readonly pgRestarts: number }
  readonly crashes: number
  readonly violations: number
  readonly seconds: number
  readonly logDir: string
}) => {
  const count = (status: string) => run.snapshots.filter((o) => o.ledger?.status === status).length
  const injected: Record<FaultKind, number> = { before: 0, after: 0, delay: 0, resetBefore: 0, resetAfter: 0 }
  for (const proxy of run.proxies) {
    for (const kind of Object.keys(injected) as Array<FaultKind>) injected[kind] += proxy.faults[kind]
  }
  return [
    `chaos: orders=${run.orders}`,
    `accepted=${run.accepted.length}`,
    `declined_at_checkout=${run.declined}`,
    `confirmed=${count("CONFIRMED")}`,
    `cancelled=${count("CANCELLED")}`,
    `needs_attention=${count("NEEDS_ATTENTION")}`,
    `pending=${count("PENDING")}`,
    `cancels_requested=${run.accepted.filter((o) => o.cancelRequested).length}`,
    `faults=${Object.values(injected).reduce((a, b) => a + b, 0)}` +
    `(503_before=${injected.before},503_after=${injected.after},delay=${injected.delay},` +
    `reset=${injected.resetBefore + injected.resetAfter})`,
    `replica_kills=${run.counts.kills}`,
    `connections_terminated=${run.counts.terminated}`,
    `pg_restarts=${run.counts.pgRestarts}`,
    `crashes=${run.crashes}`,
    `violations=${run.violations}`,
    `seconds=${run.seconds}`,
    `logs=${run.logDir}`
  ].join(" ")
}
