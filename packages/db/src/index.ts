export * from "./DatabaseConfig.ts"
export * from "./Migrations.ts"
export * from "./PgLive.ts"
export * from "./Roles.ts"
