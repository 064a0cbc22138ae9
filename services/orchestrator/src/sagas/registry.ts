import type { AnySaga } from "../saga/Saga.ts"
import type { Downstream } from "./Downstream.ts"
import type { LedgerRepo } from "./LedgerRepo.ts"
import { OrderCancellationSaga } from "./OrderCancellationSaga.ts"
import { OrderPlacedSaga } from "./OrderPlacedSaga.ts"

/** What the sagas of this orchestrator need from their environment. */
export type SagaServices = Downstream | LedgerRepo

/** Every saga this orchestrator runs. A new saga type is one file in this folder and one line here. */
export const Sagas: ReadonlyArray<AnySaga<SagaServices>> = [OrderPlacedSaga, OrderCancellationSaga]
