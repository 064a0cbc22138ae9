import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { hostname } from "node:os"

/** The `worker_heartbeats` rows that let an operator see which replicas are alive. */
export const makeReplicaRegistry = (sql: SqlClient.SqlClient, workerId: string, concurrency: number) => ({
  register: sql`
    insert into worker_heartbeats (worker_id, host, pid, concurrency)
    values (${workerId}, ${hostname()}, ${process.pid}, ${concurrency})
    on conflict (worker_id) do update
      set host = excluded.host, pid = excluded.pid, concurrency = excluded.concurrency,
          started_at = now(), last_seen_at = now()`.pipe(Effect.asVoid),
  touch: sql`update worker_heartbeats set last_seen_at = now() where worker_id = ${workerId}`.pipe(Effect.asVoid),
  deregister: sql`delete from worker_heartbeats where worker_id = ${workerId}`.pipe(Effect.asVoid),
  /** Rows of replicas that died without deregistering (SIGKILL, lost host): the table lists live ones. */
  forgetSilent: (silentForMs: number) =>
    sql`
      delete from worker_heartbeats
      where last_seen_at < now() - ${silentForMs} * interval '1 millisecond'
      returning worker_id`.pipe(Effect.map((rows) => rows.length))
})

export type ReplicaRegistry = ReturnType<typeof makeReplicaRegistry>
