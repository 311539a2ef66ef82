// common.mjs: helpers shared by client.mjs and node-server.mjs (not a CLI).
//
// Conventions every script follows:
//   - exactly ONE machine-readable JSON line on stdout (the result);
//   - logs and errors go to stderr;
//   - exit codes: 0 ok, 1 failure, 2 usage error, 3 overall timeout (--timeout-ms);
//   - a hard overall timeout, so a script can never hang.

import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { randomUUID } from "node:crypto"
import * as A from "@automerge/automerge"

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_TIMEOUT = 3

let scriptName = "script"
let phase = "starting"

export function setScriptName(name) {
  scriptName = name
}

/** Records what the script is doing, so a timeout message can say where it got stuck. */
export function setPhase(p) {
  phase = p
  log(`[${p}]`)
}

export function log(...args) {
  process.stderr.write(
    `${scriptName}: ${args.map(a => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}\n`,
  )
}

export class UsageError extends Error {}

export function fail(message, code = EXIT_FAILURE) {
  process.stderr.write(`${scriptName}: error: ${message}\n`)
  process.exit(code)
}

/** Writes the single JSON result line and exits once stdout has drained. */
export function output(result, code = 0) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code))
}

/** Turns unexpected crashes (including errors thrown inside websocket event handlers) into a clean exit 1. */
export function installCrashHandlers() {
  process.on("uncaughtException", err => {
    // automerge-repo 2.5's WebSocket adapter may retry after its repo was shut down, with the
    // single-use ticket it was given; the refused upgrade surfaces as an unhandled `error`.
    // Nothing is lost (that repo is gone), so it is logged, not fatal.
    if (shutDownRepos > 0 && /Unexpected server response: 401/.test(String(err?.message))) {
      log(`ignored: a shut-down repo's adapter retried with its used ticket (${err.message})`)
      return
    }
    fail(`uncaught exception during ${phase}: ${describe(err)}`)
  })
  process.on("unhandledRejection", err => fail(`unhandled rejection during ${phase}: ${describe(err)}`))
}

/** An error's message; its stack too when DEBUG is set. */
export function describe(err) {
  return process.env.DEBUG ? String(err?.stack ?? err) : String(err?.message ?? err)
}

/**
 * Minimal hand-written argv parser: `--name value` pairs and bare positionals.
 * `--flag` directly followed by another `--x` (or nothing) is boolean true.
 */
export function parseArgs(argv) {
  const flags = {}
  const positional = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith("--")) {
      const eq = a.indexOf("=")
      if (eq !== -1) {
        flags[a.slice(2, eq)] = a.slice(eq + 1)
      } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
        flags[a.slice(2)] = argv[++i]
      } else {
        flags[a.slice(2)] = true
      }
    } else {
      positional.push(a)
    }
  }
  return { flags, positional }
}

export function intFlag(flags, name, dflt, { min = -Infinity } = {}) {
  const v = flags[name]
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  return n
}

export function strFlag(flags, name, { required = false, dflt } = {}) {
  const v = flags[name]
  if (v === undefined || v === true) {
    if (required) throw new UsageError(`missing required --${name}`)
    return dflt
  }
  return String(v)
}

/**
 * Starts the hard overall timeout. Returns a deadline helper.
 * The timer is unref'd so it never keeps a finished process alive.
 */
export function startDeadline(timeoutMs) {
  const deadline = Date.now() + timeoutMs
  const t = setTimeout(() => fail(`timed out after ${timeoutMs} ms (during: ${phase})`, EXIT_TIMEOUT), timeoutMs)
  t.unref()
  return {
    deadline,
    remaining: () => Math.max(0, deadline - Date.now()),
  }
}

export const sleep = ms => new Promise(r => setTimeout(r, ms))

/** Plain JSON of an Automerge document (text -> string, ImmutableString -> string). */
export function plain(doc) {
  // Automerge "uint" values arrive as BigInt, which JSON cannot hold; they are small here.
  return JSON.parse(JSON.stringify(doc, (_key, value) => (typeof value === "bigint" ? Number(value) : value)))
}

/** Hex change-hash heads, as the Rust `automerge` crate prints them. */
export function hexHeads(doc) {
  return A.getHeads(doc)
}

export function stripUrl(id) {
  return id.startsWith("automerge:") ? id.slice("automerge:".length) : id
}

/**
 * A storage-less Repo (= a brand-new ephemeral peer) connected over WebSocket to `url`.
 * Resolves only once the server has answered our `join` with `peer`, so that a later
 * `find` really asks the server (the adapter otherwise declares itself "ready" after
 * 1 s even when not connected, and finds then report "unavailable").
 */
export async function connectRepo(url, clock, { label = "repo" } = {}) {
  // The adapter dials the same URL again whenever its socket is not open within the retry
  // interval; with a single-use ticket the first attempt redeems it and the second is
  // refused (401, thrown as an uncaught error). So the interval must outlast a slow open on
  // a loaded machine (seen with 250 ms): the library's default. The server is up already,
  // since the ticket came from it. Without a ticket, retry soon: the server may be starting.
  const signed = await withTicket(url)
  const adapter = new WebSocketClientAdapter(signed, signed === url ? 250 : 5000)
  const repo = new Repo({ network: [adapter] })
  while (repo.peers.length === 0) {
    if (clock.remaining() === 0) throw new Error(`${label}: could not connect to ${url}`)
    await sleep(10)
  }
  log(`${label}: connected to ${url} as ${repo.peerId} (server peer ${repo.peers[0]})`)
  return repo
}

let sessionToken = null

/** Signs every later connection in with this Doorstep session token (see `withTicket`). */
export function setSessionToken(token) {
  sessionToken = token
}

/**
 * With a session token set, fetches a single-use sync ticket from the server that `url`
 * points at (`POST /api/sync-ticket`) and returns `url?ticket=...`; otherwise `url`.
 * A WebSocket cannot carry an Authorization header, hence the ticket.
 */
export async function withTicket(url) {
  if (!sessionToken) return url
  const api = new URL(url)
  api.protocol = api.protocol === "wss:" ? "https:" : "http:"
  api.pathname = "/api/sync-ticket"
  api.search = ""
  const response = await fetchRetrying(api, { method: "POST", headers: { Authorization: `Bearer ${sessionToken}` } })
  if (!response.ok) throw new Error(`sync ticket refused: HTTP ${response.status} ${await response.text()}`)
  const { ticket } = await response.json()
  const signed = new URL(url)
  signed.searchParams.set("ticket", ticket)
  return signed.toString()
}

/**
 * `fetch`, tried again (up to 5 times, 100 ms apart) when it fails before any answer: a
 * kept-alive connection that a dropped signal cut fails the next request on it ("fetch
 * failed"), and a restarting server refuses connections for a moment.
 */
export async function fetchRetrying(url, init) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init)
    } catch (e) {
      if (attempt >= 5) throw e
      log(`fetch ${url} failed (${describe(e)}); trying again`)
      await sleep(100)
    }
  }
}

let shutDownRepos = 0

export async function closeRepo(repo) {
  shutDownRepos++
  try {
    await repo.shutdown()
  } catch (e) {
    log(`ignoring error while shutting down repo: ${e?.message ?? e}`)
  }
}

/**
 * Waits until `handle`'s document contains all of `heads` (hex), up to `ms`.
 */
function waitForHeads(handle, heads, ms) {
  return new Promise(resolve => {
    if (A.hasHeads(handle.doc(), heads)) return resolve(true)
    const onChange = () => {
      if (A.hasHeads(handle.doc(), heads)) done(true)
    }
    const timer = setTimeout(() => done(false), ms)
    function done(v) {
      clearTimeout(timer)
      handle.off("change", onChange)
      resolve(v)
    }
    handle.on("change", onChange)
  })
}

/**
 * Proves the server holds each target document at (at least) the given heads:
 * repeatedly opens a FRESH peer (new storage-less Repo) and finds every pending
 * document until the found document contains all the target heads (for a single
 * writer this means equal heads). Each attempt uses a new peer because a Repo caches
 * "unavailable" answers. Retries with small delays until the overall deadline.
 * Returns the number of attempts used.
 */
export async function waitServerHas(url, targets, clock) {
  let pending = targets
  if (pending.length === 0) return 0
  for (let attempt = 1; ; attempt++) {
    const repo = await connectRepo(url, clock, { label: `verifier#${attempt}` })
    const ok = await Promise.all(
      pending.map(async t => {
        const budget = Math.max(50, Math.min(5000, clock.remaining()))
        let handle
        try {
          handle = await repo.find(t.documentId, { signal: AbortSignal.timeout(budget) })
        } catch (e) {
          log(`verifier#${attempt}: ${t.documentId}: not yet (${e?.message ?? e})`)
          return false
        }
        const has = await waitForHeads(handle, t.heads, Math.min(1000, budget))
        if (!has) {
          log(`verifier#${attempt}: ${t.documentId}: heads ${JSON.stringify(hexHeads(handle.doc()))} lack ${JSON.stringify(t.heads)}`)
        }
        return has
      }),
    )
    await closeRepo(repo)
    pending = pending.filter((_, i) => !ok[i])
    if (pending.length === 0) return attempt
    if (clock.remaining() === 0) {
      throw new Error(`server never confirmed ${pending.map(t => t.documentId).join(",")}`)
    }
    await sleep(Math.min(50 * attempt, 500))
  }
}

// Visits as an official client writes them (client.mjs, reconnect.mjs).

// automerge 3.x: ImmutableString (scalar string); 2.x called it RawString.
const Imm = A.ImmutableString ?? A.RawString
export const imm = s => new Imm(String(s))

function today() {
  return new Date().toISOString().slice(0, 10)
}

function inDays(n) {
  return new Date(Date.now() + n * 86400000).toISOString().slice(0, 10)
}

/** The fixed visit schema (schemaVersion 1). Narrative fields are collaborative text (plain JS strings). */
export function newVisit({ childId, workerId, index, count }) {
  return {
    schemaVersion: 1,
    type: imm("visit"),
    visitId: imm(randomUUID()),
    childId: imm(childId),
    workerId: imm(workerId),
    visitDate: imm(today()),
    visitKind: imm("statutory"),
    location: imm("placement"),
    announced: true,
    purpose: `Statutory visit ${index + 1} of ${count}: check on placement and wellbeing.`,
    personsPresent: [
      { name: imm("Sam Carer"), role: imm("foster carer") },
      { name: imm("Alex Worker"), role: imm("social worker") },
    ],
    childSeen: true,
    seenAlone: true,
    bedroomSeen: imm("yes"),
    observations: "Child was relaxed and chatty; the home was warm and tidy.",
    voice: [
      {
        entryId: imm(randomUUID()),
        words: "I like", // extended below through several separate changes
        paraphrase: "Likes living in the placement, misses brother.",
        topics: [imm("home"), imm("school")],
        scale: 7,
        readBack: true,
      },
    ],
    analysis: "Placement is meeting needs; sibling contact is the main gap.",
    actions: [
      {
        actionId: imm(randomUUID()),
        description: "Arrange sibling contact before the next visit.",
        ownerType: imm("worker"),
        ownerName: imm("Alex Worker"),
        dueDate: imm(inDays(14)),
        status: imm("open"),
      },
    ],
    welfareSafeguarded: true,
    status: imm("draft"),
    createdAt: Date.now(),
  }
}

const WORDS = ["voice", 0, "words"]

/** Builds voice[0].words with several separate changes (appends and a mid-text insert). */
export function editWords(handle) {
  const append = text => handle.change(d => A.splice(d, WORDS, d.voice[0].words.length, 0, text))
  append(" living here")
  append(". School is ok")
  handle.change(d => A.splice(d, WORDS, 2, 0, "really ")) // "I really like ..."
  append(" but I miss my brother.")
}

