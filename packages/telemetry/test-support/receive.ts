/**
 * `tsx packages/telemetry/test-support/receive.ts`: runs the loopback OTLP receiver until SIGINT or
 * SIGTERM, prints its URL, then how many requests and bytes arrived per signal. For measuring the
 * cost of telemetry (`OTEL_EXPORTER_OTLP_ENDPOINT=<url> npm run bench:drain`) without a collector.
 */
import { OtlpReceiver } from "./OtlpReceiver.ts"

const receiver = await OtlpReceiver.start({ keepBodies: false })
process.stdout.write(`${receiver.url}\n`)
const stop = async () => {
  await receiver.stop()
  process.stdout.write(`received ${JSON.stringify(receiver.counts)}\n`)
  process.exit(0)
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
