// client.mjs: an OFFICIAL automerge-repo client (@automerge/automerge-repo 2.5.6 +
// WebSocketClientAdapter, no storage) driven as a subprocess by the Rust tests and the
// benchmark, to prove Doorstep interoperates with the reference implementation.
//
// Usage (every subcommand also takes --timeout-ms N, default 30000):
//   DOORSTEP_TOKEN=<session token> (optional: sign each connection in with a sync ticket)
//   node client.mjs create       --url ws://127.0.0.1:PORT/sync --count N [--child-id X] [--worker-id Y]
//   node client.mjs fetch        --url URL (--ids id1,id2,... | --ids-file PATH)
//   node client.mjs append-words --url URL --id DOCID --text "..." [--entry 0]
//   node client.mjs set          --url URL --id DOCID --field NAME --json VALUE
//
// Ids may be given with or without the "automerge:" prefix. --ids-file holds the JSON
// printed by `create` ({"docs":[{"documentId":...}]}) or a JSON array of ids.
// A value starting with "--" must be written as --name=value.
//
// Output: ONE JSON line on stdout; logs on stderr.
//   create       -> {"docs":[{"url","documentId","heads","content"}]}
//   fetch        -> {"docs":[{"documentId","heads","content"} | {"documentId","unavailable":true}]}
//   append-words -> {"documentId","heads","content"}
//   set          -> {"documentId","heads","content"}
//   expect-refusal --url URL --id DOCID --field NAME --json VALUE
//                -> {"documentId","notice":{type,reason,message,documentId}}: the change is
//                   made, then the script waits for the server's refusal notice (an
//                   `ephemeral` message on the document: handle "ephemeral-message")
// heads are hex change hashes (Automerge.getHeads), sorted as Automerge returns them.
//
// create / append-words / set only succeed once a SECOND fresh peer (new Repo, no
// storage) connected to the same URL finds the document with the writer's heads, i.e.
// the server really holds the data. Exit codes: 0 ok, 1 failure, 2 usage, 3 timeout.

import { readFileSync } from "node:fs"
import { randomUUID } from "node:crypto"
import * as A from "@automerge/automerge"
import { isValidDocumentId } from "@automerge/automerge-repo"
import {
  EXIT_USAGE,
  UsageError,
  closeRepo,
  connectRepo,
  describe,
  fail,
  hexHeads,
  installCrashHandlers,
  intFlag,
  log,
  output,
  parseArgs,
  plain,
  setPhase,
  setScriptName,
  startDeadline,
  strFlag,
  stripUrl,
  waitServerHas, setSessionToken, newVisit, editWords, imm } from "./common.mjs"

setScriptName("client.mjs")
installCrashHandlers()

const USAGE = `usage:
  node client.mjs create       --url URL --count N [--child-id X] [--worker-id Y] [--timeout-ms MS]
  node client.mjs fetch        --url URL (--ids a,b,c | --ids-file PATH) [--timeout-ms MS]
  node client.mjs append-words --url URL --id DOCID --text TEXT [--entry 0] [--timeout-ms MS]
  node client.mjs set          --url URL --id DOCID --field NAME --json VALUE [--timeout-ms MS]
  node client.mjs expect-refusal --url URL --id DOCID --field NAME --json VALUE [--timeout-ms MS]`

function docId(raw, what = "--id") {
  const id = stripUrl(String(raw).trim())
  if (!isValidDocumentId(id)) throw new UsageError(`${what}: not a valid automerge document id: ${JSON.stringify(raw)}`)
  return id
}


async function cmdCreate(flags, clock) {
  const url = strFlag(flags, "url", { required: true })
  const count = intFlag(flags, "count", undefined, { min: 0 })
  if (count === undefined) throw new UsageError("missing required --count")
  const childId = strFlag(flags, "child-id", { dflt: `child-${randomUUID()}` })
  const workerId = strFlag(flags, "worker-id", { dflt: `worker-${randomUUID()}` })

  setPhase(`connecting creator to ${url}`)
  const repo = await connectRepo(url, clock, { label: "creator" })
  setPhase(`creating ${count} documents`)
  const handles = []
  for (let i = 0; i < count; i++) {
    const handle = repo.create(newVisit({ childId, workerId, index: i, count }))
    editWords(handle)
    handles.push(handle)
  }
  const docs = handles.map(h => ({
    url: h.url,
    documentId: h.documentId,
    heads: hexHeads(h.doc()),
    content: plain(h.doc()),
  }))
  setPhase("waiting for the server to hold the created documents")
  const attempts = await waitServerHas(url, docs, clock)
  log(`server confirmed ${docs.length} documents after ${attempts} verifier attempt(s)`)
  await closeRepo(repo)
  return { docs }
}

function readIdsFile(path) {
  let parsed
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"))
  } catch (e) {
    throw new UsageError(`--ids-file ${path}: ${e.message}`)
  }
  const list = Array.isArray(parsed) ? parsed : parsed?.docs
  if (!Array.isArray(list)) throw new UsageError(`--ids-file ${path}: expected {"docs":[...]} or an array`)
  return list.map(x => (typeof x === "string" ? x : x?.documentId ?? x?.url))
}

async function cmdFetch(flags, clock) {
  const url = strFlag(flags, "url", { required: true })
  const idsFlag = strFlag(flags, "ids")
  const idsFile = strFlag(flags, "ids-file")
  if ((idsFlag === undefined) === (idsFile === undefined)) throw new UsageError("give exactly one of --ids or --ids-file")
  const rawIds = idsFlag !== undefined ? idsFlag.split(",").filter(s => s.trim() !== "") : readIdsFile(idsFile)
  const ids = rawIds.map(r => docId(r, "--ids"))

  setPhase(`connecting fetcher to ${url}`)
  const repo = await connectRepo(url, clock, { label: "fetcher" })
  setPhase(`finding ${ids.length} documents`)
  const docs = await Promise.all(
    ids.map(async documentId => {
      try {
        const handle = await repo.find(documentId)
        return { documentId, heads: hexHeads(handle.doc()), content: plain(handle.doc()) }
      } catch (e) {
        if (/unavailable/i.test(e?.message ?? "")) {
          log(`${documentId}: unavailable`)
          return { documentId, unavailable: true }
        }
        throw e
      }
    }),
  )
  await closeRepo(repo)
  return { docs }
}

/** Finds one document, applies `mutate` in one change, waits until the server has it. */
async function editOne(flags, clock, what, mutate) {
  const url = strFlag(flags, "url", { required: true })
  const documentId = docId(strFlag(flags, "id", { required: true }))
  setPhase(`connecting writer to ${url}`)
  const repo = await connectRepo(url, clock, { label: "writer" })
  setPhase(`finding ${documentId}`)
  let handle
  try {
    handle = await repo.find(documentId)
  } catch (e) {
    throw new Error(`cannot ${what}: document ${documentId} not found on server (${e?.message ?? e})`)
  }
  mutate(handle)
  const heads = hexHeads(handle.doc())
  setPhase(`waiting for the server to hold ${documentId} at ${heads.join(",")}`)
  await waitServerHas(url, [{ documentId, heads }], clock)
  const result = { documentId, heads, content: plain(handle.doc()) }
  await closeRepo(repo)
  return result
}

async function cmdAppendWords(flags, clock) {
  const text = strFlag(flags, "text", { required: true })
  const entry = intFlag(flags, "entry", 0, { min: 0 })
  return editOne(flags, clock, "append words", handle => {
    const doc = handle.doc()
    const words = doc?.voice?.[entry]?.words
    if (typeof words !== "string") {
      throw new Error(`document has no text at voice[${entry}].words (voice has ${doc?.voice?.length ?? 0} entries)`)
    }
    handle.change(d => A.splice(d, ["voice", entry, "words"], d.voice[entry].words.length, 0, text))
  })
}

async function cmdSet(flags, clock) {
  const field = strFlag(flags, "field", { required: true })
  const raw = strFlag(flags, "json", { required: true })
  let value
  try {
    value = JSON.parse(raw)
  } catch (e) {
    throw new UsageError(`--json: not valid JSON: ${JSON.stringify(raw)} (${e.message})`)
  }
  // Strings are stored as scalar strings (not collaborative text), matching the id/code fields.
  const stored = typeof value === "string" ? imm(value) : value
  return editOne(flags, clock, `set ${field}`, handle => {
    handle.change(d => {
      d[field] = stored
    })
  })
}

/** Makes a change the server will refuse, and reports the refusal notice it sends back. */
async function cmdExpectRefusal(flags, clock) {
  const url = strFlag(flags, "url", { required: true })
  const documentId = docId(strFlag(flags, "id", { required: true }))
  const field = strFlag(flags, "field", { required: true })
  const value = JSON.parse(strFlag(flags, "json", { required: true }))
  setPhase(`connecting to ${url}`)
  const repo = await connectRepo(url, clock, { label: "refused-writer" })
  const handle = await repo.find(documentId)
  const notice = new Promise(resolve => {
    handle.on("ephemeral-message", ({ message }) => {
      log(`ephemeral message: ${JSON.stringify(message)}`)
      if (message?.type === "doorstep/refused") resolve(message)
    })
  })
  setPhase(`changing ${field} and waiting for the server's answer`)
  handle.change(d => {
    d[field] = typeof value === "string" ? imm(value) : value
  })
  const told = await notice
  await closeRepo(repo)
  return { documentId, notice: told }
}

const COMMANDS = {
  "expect-refusal": cmdExpectRefusal,
  create: cmdCreate,
  fetch: cmdFetch,
  "append-words": cmdAppendWords,
  set: cmdSet,
}

async function main() {
  const { flags, positional } = parseArgs(process.argv.slice(2))
  const cmd = COMMANDS[positional[0]]
  if (flags.help || flags.h) {
    process.stderr.write(USAGE + "\n")
    process.exit(0)
  }
  if (!cmd) throw new UsageError(positional[0] ? `unknown subcommand ${JSON.stringify(positional[0])}` : "missing subcommand")
  const timeoutMs = intFlag(flags, "timeout-ms", 30000, { min: 1 })
  const clock = startDeadline(timeoutMs)
  // A Doorstep session token comes through the environment, never argv (`ps` shows argv).
  if (process.env.DOORSTEP_TOKEN) setSessionToken(process.env.DOORSTEP_TOKEN)
  const result = await cmd(flags, clock)
  setPhase("done")
  output(result)
}

main().catch(e => {
  if (e instanceof UsageError) fail(`${e.message}\n${USAGE}`, EXIT_USAGE)
  fail(describe(e))
})
