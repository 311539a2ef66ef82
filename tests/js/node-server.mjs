// node-server.mjs: the OFFICIAL automerge-repo Node sync server (Repo 2.5.6 +
// WebSocketServerAdapter + NodeFSStorageAdapter), used as the baseline the benchmark
// compares Doorstep against. It never announces documents (sharePolicy -> false) but
// answers every request, like a typical sync server.
//
// Usage:
//   node node-server.mjs --port P --dir DATA_DIR [--host 127.0.0.1] [--timeout-ms 30000]
//                        [--lifetime-ms MS] [--no-orphan-guard]
//
//   --port 0      picks a free port (the chosen one is printed).
//   --timeout-ms  hard limit for STARTING (must be listening by then; default 30000).
//   --lifetime-ms optional hard limit on the whole run (default: none).
//   --no-orphan-guard  keep running when the parent process exits (by default the
//                 server stops once it is re-parented, e.g. when the test that spawned it
//                 died; so don't start it from a shell that exits right away).
// The WebSocket server is path-agnostic: ws://HOST:P/sync (and any other path) works.
//
// Output: ONE JSON line on stdout once listening: {"ready":true,"port":P,"pid":PID}
// Logs on stderr. Exits 0 on SIGTERM/SIGINT (after flushing storage to DATA_DIR).
// Exit codes: 0 ok, 1 failure, 2 usage, 3 timeout.

import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { WebSocketServer } from "ws"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import {
  EXIT_TIMEOUT,
  EXIT_USAGE,
  UsageError,
  fail,
  installCrashHandlers,
  intFlag,
  log,
  parseArgs,
  setPhase,
  setScriptName,
  strFlag,
} from "./common.mjs"

setScriptName("node-server.mjs")
installCrashHandlers()

const USAGE = "usage: node node-server.mjs --port P --dir DATA_DIR [--host 127.0.0.1] [--timeout-ms MS] [--lifetime-ms MS] [--no-orphan-guard]"

let flags
let port, dir, host, timeoutMs, lifetimeMs
try {
  ;({ flags } = parseArgs(process.argv.slice(2)))
  if (flags.help || flags.h) {
    process.stderr.write(USAGE + "\n")
    process.exit(0)
  }
  port = intFlag(flags, "port", undefined, { min: 0 })
  if (port === undefined || port > 65535) throw new UsageError("--port P (0..65535) is required")
  dir = resolve(strFlag(flags, "dir", { required: true }))
  host = strFlag(flags, "host", { dflt: "127.0.0.1" })
  timeoutMs = intFlag(flags, "timeout-ms", 30000, { min: 1 })
  lifetimeMs = intFlag(flags, "lifetime-ms", 0, { min: 0 })
} catch (e) {
  if (e instanceof UsageError) fail(`${e.message}\n${USAGE}`, EXIT_USAGE)
  throw e
}

const startTimer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`, EXIT_TIMEOUT), timeoutMs)

setPhase(`starting on ${host}:${port}, data in ${dir}`)
mkdirSync(dir, { recursive: true })

const wss = new WebSocketServer({ host, port })
const repo = new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  sharePolicy: async () => false,
})

wss.on("error", err => fail(`websocket server error: ${err?.message ?? err}`))
wss.on("connection", (_socket, req) => log(`connection from ${req.socket.remoteAddress} to ${req.url}`))
wss.on("listening", () => {
  clearTimeout(startTimer)
  const actual = wss.address().port
  setPhase(`listening on ws://${host}:${actual}/sync`)
  process.stdout.write(JSON.stringify({ ready: true, port: actual, pid: process.pid }) + "\n")
})

let stopping = false
async function stop(reason, code = 0) {
  if (stopping) return
  stopping = true
  setPhase(`stopping (${reason})`)
  // Never hang on shutdown either.
  setTimeout(() => fail(`shutdown took more than 5000 ms`, EXIT_TIMEOUT), 5000).unref()
  try {
    // Persist anything still debounced. Only ready handles: flush() of a handle that is
    // e.g. "unavailable" (someone asked for an unknown id) throws "DocHandle is not ready".
    const ready = Object.values(repo.handles)
      .filter(h => h.isReady())
      .map(h => h.documentId)
    await repo.flush(ready)
    log(`flushed ${ready.length} document(s)`)
  } catch (e) {
    log(`flush failed: ${e?.message ?? e}`)
  }
  for (const socket of wss.clients) socket.terminate()
  await new Promise(r => wss.close(() => r()))
  log("stopped")
  process.exit(code)
}

process.on("SIGTERM", () => stop("SIGTERM"))
process.on("SIGINT", () => stop("SIGINT"))

// Orphan guard: if the spawning process dies we get re-parented; then stop.
if (!flags["no-orphan-guard"]) {
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) stop(`parent process ${parent} exited`)
  }, 500).unref()
}

if (lifetimeMs > 0) {
  setTimeout(() => stop(`--lifetime-ms ${lifetimeMs} reached`), lifetimeMs).unref()
}
