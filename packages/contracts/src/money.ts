import { Schema } from "effect"

/** ISO 4217 alphabetic code. Which codes a price exists for is the catalogue's business. */
export const Currency = Schema.String.pipe(
  Schema.pattern(/^[A-Z]{3}$/, { message: () => "a currency is an ISO 4217 code such as EUR" }),
  Schema.brand("Currency")
).annotations({ identifier: "Currency" })
export type Currency = typeof Currency.Type

/** Money in integer minor units (cents): no floating point anywhere near an amount. */
export const MinorUnits = Schema.Int.pipe(
  Schema.between(1, 1_000_000_000_000, { message: () => "an amount is a whole number of minor units from 1 to 10^12" }),
  Schema.brand("MinorUnits")
).annotations({ identifier: "MinorUnits" })
export type MinorUnits = typeof MinorUnits.Type
