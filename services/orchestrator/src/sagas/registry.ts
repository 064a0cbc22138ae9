import type { SqlClient } from "@effect/sql"
import type { AnySaga } from "../saga/Saga.ts"
import type { Downstream } from "./Downstream.ts"
import { OrderCancellationSaga } from "./OrderCancellationSaga.ts"
import { OrderPlacedSaga } from "./OrderPlacedSaga.ts"

/** Every saga this orchestrator runs. A new saga type is one file in this folder and one line here. */
export const Sagas: ReadonlyArray<AnySaga<Downstream | SqlClient.SqlClient>> = [OrderPlacedSaga, OrderCancellationSaga]
