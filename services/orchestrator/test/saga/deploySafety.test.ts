import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { checkDeploySafety } from "../../src/saga/DeploySafety.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import {
  EngineDatabase,
  insertLedgerRow,
  insertSaga,
  ledgerOf,
  newOrder,
  NoDownstream,
  testSettings
} from "../saga-fixtures/fixtures.ts"

const settings = testSettings()

// Its own database: deploy safety looks at every in-flight saga, so no other test's may be there.
layer(Layer.merge(EngineDatabase(), NoDownstream), { excludeTestServices: true })("deploy safety", (it) => {
  it.effect("deploy safety: refuses to start naming in-flight sagas at unknown steps; with park, they need attention", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const order = newOrder()
      yield* insertLedgerRow(order)
      const sagaId = yield* insertSaga({ order, currentStep: "shipParcel" })
      const refused = yield* Effect.flip(
        checkDeploySafety([OrderPlacedSaga]).pipe(Effect.provideService(SagaSettings, settings))
      )
      expect(refused._tag).toBe("UnknownSagaSteps")
      expect(refused.message).toContain(`${sagaId} (OrderPlaced, running: step shipParcel)`)
      expect(refused.message).toContain("SAGA_UNKNOWN_STEPS=park")

      yield* checkDeploySafety([OrderPlacedSaga]).pipe(
        Effect.provideService(SagaSettings, { ...settings, unknownSteps: "park" })
      )
      const [row] = yield* sql<
        { state: string; error: unknown }
      >`select state, error from saga_instances where id = ${sagaId}`
      expect(row).toMatchObject({
        state: "needs_attention",
        error: { details: { saga: { id: sagaId, type: "OrderPlaced", step: "shipParcel", state: "needs_attention" } } }
      })
      expect((yield* ledgerOf(order.orderId))?.status).toBe("NEEDS_ATTENTION")
      // Nothing left to refuse: the same check now passes.
      yield* checkDeploySafety([OrderPlacedSaga]).pipe(Effect.provideService(SagaSettings, settings))
    }))
})
