/**
 * What every benchmark part shares: one Postgres server (embedded, with pg_stat_statements preloaded,
 * unless DATABASE_URL names a server), databases per system, child processes compiled to JavaScript,
 * and CPU/RSS read from /proc. The harness's own queries log in as `bench_harness`, so that
 * pg_stat_statements (filtered by user) counts only what the systems under test send.
 */
export * from "./harness/Children.ts"
export * from "./harness/Ours.ts"
export * from "./harness/Postgres.ts"
export * from "./harness/Proc.ts"
export * from "./harness/Stats.ts"
