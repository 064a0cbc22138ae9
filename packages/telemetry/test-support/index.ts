export * from "./OtlpReceiver.ts"
export * from "./InMemoryTracing.ts"
