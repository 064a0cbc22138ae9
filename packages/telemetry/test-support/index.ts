export * from "./InMemoryTracing.ts"
export * from "./OtlpReceiver.ts"
