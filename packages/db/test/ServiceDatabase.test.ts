import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { inject } from "vitest"
import { ServiceDatabase } from "../src/ServiceDatabase.ts"
import { TestDatabase, TestDatabaseLive } from "../src/testing.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

layer(TestDatabaseLive(adminUrl, template), { excludeTestServices: true })("ServiceDatabase", (it) => {
  it.effect("logs in as the service's role, whatever user DATABASE_URL names", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const currentUser = Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ user: string }>`select current_user as user`
      )
      const rows = yield* currentUser.pipe(
        Effect.provide(
          ServiceDatabase("inventory", { maxConnections: 1 }).pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", db.url]]))))
          )
        )
      )
      expect(rows).toEqual([{ user: "inventory" }])
    }))
})
