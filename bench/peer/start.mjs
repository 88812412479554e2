// Runs the Durable Streams reference server (@durable-streams/server) on loopback for ./scripts/bench.
//   node start.mjs [--data-dir DIR] [--port N]
// --data-dir selects its file-backed store (stream log files + LMDB metadata, fdatasync per append);
// without it the server keeps streams in memory. Port 0 (the default) takes a free port.
// Prints "listening <url>" once it accepts requests; stops when stdin closes (the bench that
// started it ended or died) or on SIGTERM/SIGINT.
import { DurableStreamTestServer } from "@durable-streams/server"

const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const dataDir = option("--data-dir")
const port = Number(option("--port") ?? 0)

const server = new DurableStreamTestServer({ host: "127.0.0.1", port, dataDir })
const url = await server.start()
process.stdout.write(`listening ${url} ${dataDir ? "file-store" : "memory"}\n`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  // never hang the bench on a slow shutdown
  setTimeout(() => process.exit(0), 5000).unref()
  try {
    await server.stop()
  } finally {
    process.exit(0)
  }
}
process.stdin.on("end", stop)
process.stdin.on("close", stop)
process.stdin.resume()
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
