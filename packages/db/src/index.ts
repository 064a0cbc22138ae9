export * from "./DatabaseConfig.ts"
export * from "./Migrations.ts"
export * from "./PgLive.ts"
