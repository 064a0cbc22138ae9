export * from "./OtlpReceiver.ts"
