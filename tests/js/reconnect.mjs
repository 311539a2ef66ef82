// reconnect.mjs: an UNMODIFIED official automerge-repo client (Repo 2.5.6 +
// WebSocketClientAdapter, no storage) that stays connected for a whole session with
// Doorstep's sync credential, through dropped sockets and server restarts. The adapter
// reconnects to the same URL after every close; the URL carries the session's sync
// credential (`POST /api/sync-credential`), which opens /sync as often as needed while the
// session lives, unlike a single-use ticket.
//
// Usage: DOORSTEP_TOKEN=<session token> node reconnect.mjs --url ws://HOST:PORT/sync
//          --child-id C --worker-id W [--retry-ms 200] [--timeout-ms 120000]
// Then, on stdin, one command per line:
//   edit TEXT   append TEXT to the child's words (on the one long-lived Repo), then wait
//               until a fresh verifier peer finds the server holding the new heads
//   quit        shut down
// Output: one JSON line per step on stdout:
//   {"event":"created","documentId","heads","connects"}
//   {"event":"synced","heads","connects","verifierAttempts"}
//   {"event":"done","connects"}
// `connects` counts the `peer` answers the adapter got (1 + reconnections).

import { createInterface } from "node:readline"
import * as A from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import {
  closeRepo,
  describe,
  fail,
  hexHeads,
  installCrashHandlers,
  intFlag,
  log,
  newVisit,
  parseArgs,
  setPhase,
  setScriptName,
  setSessionToken,
  sleep,
  startDeadline,
  strFlag,
  waitServerHas,
} from "./common.mjs"

setScriptName("reconnect.mjs")
installCrashHandlers()

function emit(line) {
  process.stdout.write(JSON.stringify(line) + "\n")
}

async function syncCredentialUrl(url, token) {
  const api = new URL(url)
  api.protocol = api.protocol === "wss:" ? "https:" : "http:"
  api.pathname = "/api/sync-credential"
  api.search = ""
  const response = await fetch(api, { method: "POST", headers: { Authorization: `Bearer ${token}` } })
  if (response.status !== 201) throw new Error(`sync credential refused: HTTP ${response.status} ${await response.text()}`)
  const { credential } = await response.json()
  const signed = new URL(url)
  signed.searchParams.set("credential", credential)
  return signed.toString()
}

async function main() {
  const { flags } = parseArgs(process.argv.slice(2))
  const url = strFlag(flags, "url", { required: true })
  const childId = strFlag(flags, "child-id", { required: true })
  const workerId = strFlag(flags, "worker-id", { required: true })
  const retryMs = intFlag(flags, "retry-ms", 200, { min: 1 })
  const clock = startDeadline(intFlag(flags, "timeout-ms", 120000, { min: 1 }))
  const token = process.env.DOORSTEP_TOKEN
  if (!token) throw new Error("DOORSTEP_TOKEN is required")
  // The verifiers sign in with tickets; the long-lived Repo with the credential.
  setSessionToken(token)

  setPhase("getting the sync credential")
  const adapter = new WebSocketClientAdapter(await syncCredentialUrl(url, token), retryMs)
  let connects = 0
  adapter.on("peer-candidate", () => {
    connects++
    log(`peer answered (${connects})`)
  })
  const repo = new Repo({ network: [adapter] })
  while (repo.peers.length === 0) {
    if (clock.remaining() === 0) throw new Error("never connected")
    await sleep(10)
  }
  setPhase("creating a visit")
  const handle = repo.create(newVisit({ childId, workerId, index: 0, count: 1 }))
  let heads = hexHeads(handle.doc())
  await waitServerHas(url, [{ documentId: handle.documentId, heads }], clock)
  emit({ event: "created", documentId: handle.documentId, heads, connects })

  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    const [command, ...rest] = line.trim().split(" ")
    if (command === "edit") {
      setPhase(`editing: ${rest.join(" ")}`)
      handle.change(d => A.splice(d, ["voice", 0, "words"], d.voice[0].words.length, 0, " " + rest.join(" ")))
      heads = hexHeads(handle.doc())
      const attempts = await waitServerHas(url, [{ documentId: handle.documentId, heads }], clock)
      emit({ event: "synced", heads, connects, verifierAttempts: attempts })
    } else if (command === "quit") {
      break
    } else if (command !== "") {
      throw new Error(`unknown command ${JSON.stringify(command)}`)
    }
  }
  await closeRepo(repo)
  emit({ event: "done", connects })
  process.exit(0)
}

main().catch(e => fail(describe(e)))
