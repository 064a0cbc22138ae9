/** Passing: exitStatus.test.ts runs it through `npx vitest run` and expects status 0. */
import { expect, it } from "vitest"

it("passes", () => expect(1).toBe(1))
