// End-to-end tests of the social worker's PWA in Debian's headless Chromium (playwright-core).
// Run by tests/tests/pwa.rs against a real Doorstep server with a test council. Environment:
//   DOORSTEP_URL        http://127.0.0.1:PORT
//   DOORSTEP_USER       a social worker, DOORSTEP_PASSWORD its password
//   DOORSTEP_CHILD      a child reference on that worker's caseload
//   DOORSTEP_PROFILE    a scratch directory for browser profiles
//   CHROMIUM            the browser (default /usr/bin/chromium)
//   DOORSTEP_ADMIN, DOORSTEP_DATA_DIR   (revoked) the doorstep-server binary and data dir
// Usage: node pwa.mjs offline-visit | conflict | revoked
// Prints one JSON line with what it measured; exits non-zero with the failed check.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.DOORSTEP_URL;
const user = process.env.DOORSTEP_USER;
const password = process.env.DOORSTEP_PASSWORD;
const childRef = process.env.DOORSTEP_CHILD;
const profileRoot = process.env.DOORSTEP_PROFILE;
const PIN = "246810";
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];
const axeSource = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

const result = { checks: [] };
const pass = (name, detail = {}) => result.checks.push({ name, ...detail });
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function launch(profile, { offline = false } = {}) {
  return chromium.launchPersistentContext(join(profileRoot, profile), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ARGS,
    offline,
    viewport: { width: 1024, height: 900 },
  });
}

let lastPage = null;
async function open(context) {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => { result.pageErrors = [...(result.pageErrors ?? []), String(error)]; });
  page.on("dialog", (dialog) => { result.dialogs = [...(result.dialogs ?? []), dialog.message()]; dialog.dismiss(); });
  page.on("console", (message) => { if (message.type() === "error" || message.type() === "warning") result.console = [...(result.console ?? []), message.text()]; });
  lastPage = page;
  await page.goto(url + "/", { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  return page;
}

async function axeCheck(page, screen) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] });
    return results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
  check(violations.length === 0, `accessibility on ${screen}: ${violations.join("; ")}`);
  // Every control is in the tab order (only headings, main and the error summary take focus
  // from script, with tabindex=-1) and its touch target is at least 24 by 24 CSS pixels.
  const controls = await page.evaluate(() => [...document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")]
    .filter((el) => el.offsetParent !== null && !el.matches("h1, main, #error-summary, .skip-link"))
    .map((el) => {
      const box = el.getBoundingClientRect();
      const label = el.id ? document.querySelector(`label[for="${el.id}"]`)?.getBoundingClientRect() : null;
      const size = (b) => b && b.width >= 24 && b.height >= 24;
      return { html: el.outerHTML.slice(0, 80), reachable: el.tabIndex >= 0 && !el.disabled, big: size(box) || size(label) || el.tagName === "A" };
    }));
  const unreachable = controls.filter((c) => !c.reachable).map((c) => c.html);
  check(unreachable.length === 0, `not reachable by keyboard on ${screen}: ${unreachable.join("; ")}`);
  const small = controls.filter((c) => !c.big).map((c) => c.html);
  check(small.length === 0, `touch target under 24px on ${screen}: ${small.join("; ")}`);
  result.axeScreens = [...(result.axeScreens ?? []), screen];
}

// Signs in using only the keyboard (Tab, typing, Enter).
async function signInByKeyboard(page) {
  await page.waitForSelector("#sign-in-form");
  await axeCheck(page, "sign in");
  await page.focus("#username");
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PIN);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PIN);
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement?.textContent === "Sign in"), "Tab reaches the Sign in button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:text('My caseload')", { timeout: 30_000 });
}

async function waitForChild(page) {
  await page.waitForFunction((ref) => [...document.querySelectorAll("main a")].some((a) => a.getAttribute("href") === `#/child/${ref}`), childRef, { timeout: 20_000 });
  // The name comes from the child's own document, synced from the server.
  await page.waitForFunction((ref) => {
    const link = [...document.querySelectorAll("main a")].find((a) => a.getAttribute("href") === `#/child/${ref}`);
    return link && link.textContent !== ref;
  }, childRef, { timeout: 20_000 });
}

async function unlock(page) {
  await page.waitForSelector("#unlock-form", { timeout: 20_000 });
  await axeCheck(page, "unlock");
  await page.fill("#pin", PIN);
  await page.click("#unlock-form button[type=submit]");
  // The app returns to where the worker was (or the caseload).
  await page.waitForSelector("#unlock-form", { state: "detached", timeout: 20_000 });
}

const go = (page, hash) => page.evaluate((h) => { location.hash = h; }, hash);

async function recordVisit(page, words) {
  await page.click(`a[href='#/child/${childRef}']`);
  await page.waitForSelector("h2:text('Visits')");
  await axeCheck(page, "child");
  await page.click("text=Record a visit");
  await page.waitForSelector("#new-visit-form");
  await axeCheck(page, "new visit");
  await page.click("#new-visit-form button[type=submit]");
  await page.waitForSelector("#visit-form");
  const id = decodeURIComponent(page.url().split("#/visit/")[1].split("/")[0]);
  // Visit details: radios and a purpose typed key by key (saved on every keystroke).
  await page.check("#visitKind-statutory");
  await page.check("#location-placement");
  await page.check("#announced-yes");
  await page.locator("#purpose").pressSequentially("Six-weekly statutory visit", { delay: 5 });
  await axeCheck(page, "visit details");
  await go(page, `#/visit/${id}/people`);
  await page.click("[data-action=add-person]");
  await page.fill("#person-0-name", "Sam Carer");
  await page.fill("#person-0-role", "Foster carer");
  await axeCheck(page, "who was present");
  await go(page, `#/visit/${id}/seen`);
  // Radios by keyboard: focus the first option, Space selects it.
  await page.focus("#childSeen-yes");
  await page.keyboard.press("Space");
  check(await page.isChecked("#childSeen-yes"), "a radio is operable by keyboard");
  await page.check("#seenAlone-no");
  await page.waitForSelector("#notAloneReason-refused");
  await axeCheck(page, "seen alone, reason revealed");
  await page.check("#seenAlone-yes");
  await page.waitForSelector("#notAloneReason-refused", { state: "detached" });
  await go(page, `#/visit/${id}/bedroom`);
  await page.check("#bedroomSeen-yes");
  await page.fill("#bedroom-detail", "Own room, posters up, warm and tidy");
  await axeCheck(page, "bedroom");
  await go(page, `#/visit/${id}/observations`);
  await page.fill("#observations", "Relaxed with the carers; showed me the new bike.");
  await axeCheck(page, "what I saw");
  await go(page, `#/visit/${id}/voice`);
  await page.click("[data-action=add-voice]");
  await page.locator("#voice-0-words").pressSequentially(words, { delay: 5 });
  await page.fill("#voice-0-paraphrase", "Happy at home, wants to keep the bike");
  await page.check("#voice-0-topic-home");
  await page.selectOption("#voice-0-scale", "9");
  await page.check("#voice-0-readback");
  await axeCheck(page, "child's voice");
  await go(page, `#/visit/${id}/analysis`);
  await page.fill("#analysis", "Placement is stable and meeting needs.");
  await axeCheck(page, "analysis");
  await go(page, `#/visit/${id}/actions`);
  await page.fill("#action-description", "Arrange cycling proficiency course");
  await page.check("#ownerType-carer");
  await page.fill("#action-owner", "Sam Carer");
  await page.fill("#action-due-day", "15");
  await page.fill("#action-due-month", "1");
  await page.fill("#action-due-year", "2027");
  await page.click("#add-action-form button[type=submit]");
  await page.waitForSelector("#action-0-description");
  await axeCheck(page, "actions");
  await go(page, `#/visit/${id}/welfare`);
  await page.check("#welfareSafeguarded-yes");
  await axeCheck(page, "welfare");
  await go(page, `#/visit/${id}`);
  await page.waitForSelector(".task-list");
  await axeCheck(page, "visit task list");
  await go(page, `#/visit/${id}/check`);
  await page.waitForSelector("h1:text('Check your answers')");
  await axeCheck(page, "check your answers");
  // Submitting with a section left empty: an error summary linking to it, then inline errors.
  await go(page, `#/visit/${id}/analysis`);
  await page.fill("#analysis", "");
  await go(page, `#/visit/${id}/check`);
  await page.waitForSelector("h1:text('Check your answers')");
  await page.click("[data-action=submit-visit]");
  await page.waitForSelector("#error-summary");
  check(await page.evaluate(() => document.activeElement?.id === "error-summary"), "the error summary takes focus");
  await axeCheck(page, "error summary");
  await page.click("#error-summary a");
  await page.waitForSelector("#section-errors .error-message");
  await axeCheck(page, "inline errors");
  await page.fill("#analysis", "Placement is stable and meeting needs.");
  await go(page, `#/visit/${id}/check`);
  await page.waitForSelector("h1:text('Check your answers')");
  await page.click("[data-action=submit-visit]");
  await page.waitForSelector("h1:text('Record submitted')");
  await axeCheck(page, "record submitted");
  return id;
}

async function readVisit(page, id) {
  await go(page, `#/visit/${id}/check`);
  await page.waitForSelector("h1:text('Check your answers')");
  return page.textContent("main");
}

async function idbPlaintext(page, needles) {
  return page.evaluate(async (needles) => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open("doorstep");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const texts = [];
    for (const name of db.objectStoreNames) {
      const values = await new Promise((resolve) => {
        const request = db.transaction(name).objectStore(name).getAll();
        request.onsuccess = () => resolve(request.result);
      });
      for (const value of values) {
        if (value instanceof Uint8Array) texts.push(new TextDecoder("latin1").decode(value), new TextDecoder().decode(value));
        else texts.push(typeof value === "string" ? value : JSON.stringify(value));
      }
    }
    db.close();
    return { records: texts.length / 1, found: needles.filter((n) => texts.some((t) => t.includes(n))) };
  }, needles);
}

async function offlineVisit() {
  const words = "I like it here because Sam lets me help with the garden";
  let context = await launch("tablet");
  let page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  await axeCheck(page, "caseload");
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10_000 });
  pass("signed in online; caseload synced; service worker in control");

  // Installability (manifest + service worker), as Chromium judges it.
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  check(installabilityErrors.length === 0, `installability errors: ${JSON.stringify(installabilityErrors)}`);
  pass("installable");

  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  const id = await recordVisit(page, words);
  check((await page.textContent("main")).includes("saved on this device"), "done page says saved on this device");
  pass("recorded a complete visit offline", { id });

  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  let text = await readVisit(page, id);
  check(text.includes(words), "after an offline reload the child's words are there");
  check(text.includes("Relaxed with the carers"), "after an offline reload the observations are there");
  pass("offline reload: app from the service worker, visit intact");

  const plaintext = await idbPlaintext(page, [words, "Relaxed with the carers", "Placement is stable", "Sam Carer", "Arrange cycling"]);
  check(plaintext.found.length === 0, `IndexedDB holds plaintext: ${plaintext.found.join(", ")}`);
  pass("no plaintext in IndexedDB", { records: plaintext.records });

  await context.close();
  context = await launch("tablet", { offline: true });
  const started = Date.now();
  page = await open(context);
  await unlock(page);
  result.offlineStartToCaseloadMs = Date.now() - started;
  text = await readVisit(page, id);
  check(text.includes(words), "after a browser restart offline the visit is there");
  pass("browser restarted offline: unlocked with the PIN, visit intact");

  await context.setOffline(false);
  const online = Date.now();
  await page.waitForFunction(() => document.getElementById("sync-status")?.dataset.unsent === "0"
    && document.getElementById("sync-status")?.dataset.connected === "true", null, { timeout: 30_000 });
  result.onlineToServerMs = Date.now() - online;
  pass("back online: the visit reached the server", { ms: result.onlineToServerMs });

  // Lock on demand, then the keyboard path through unlock.
  await page.click("[data-action=lock]");
  await page.waitForSelector("#unlock-form");
  await context.close();
  result.visitId = id;
  result.words = words;
}

async function conflict() {
  const a = await launch("device-a");
  const b = await launch("device-b");
  const pageA = await open(a);
  const pageB = await open(b);
  await signInByKeyboard(pageA);
  await signInByKeyboard(pageB);
  await waitForChild(pageA);
  // Device A starts a visit online; device B gets it from the server's caseload.
  await pageA.click(`a[href='#/child/${childRef}']`);
  await pageA.click("text=Record a visit");
  await pageA.click("#new-visit-form button[type=submit]");
  await pageA.waitForSelector("#visit-form");
  const id = decodeURIComponent(pageA.url().split("#/visit/")[1].split("/")[0]);
  await go(pageA, `#/visit/${id}/voice`);
  await pageA.click("[data-action=add-voice]");
  await pageA.fill("#voice-0-words", "I want to stay.");
  await pageA.waitForFunction(() => document.getElementById("sync-status")?.dataset.unsent === "0", null, { timeout: 20_000 });
  // B asks for the caseload again (the server now lists the new visit) by going offline and online.
  await b.setOffline(true);
  await b.setOffline(false);
  await pageB.waitForFunction((id) => { try { return window.__doorstep.visit(id).voice.length === 1; } catch { return false; } }, id, { timeout: 30_000 });
  pass("both devices hold the visit");

  await a.setOffline(true);
  await b.setOffline(true);
  await go(pageA, `#/visit/${id}/voice`);
  await go(pageB, `#/visit/${id}/voice`);
  await pageB.waitForSelector("#voice-0-words");
  await pageA.focus("#voice-0-words");
  await pageA.keyboard.press("End");
  await pageA.keyboard.type(" Near my school.");
  await pageB.focus("#voice-0-words");
  await pageB.keyboard.press("End");
  await pageB.keyboard.type(" With my dog Biscuit.");
  await go(pageA, `#/visit/${id}/seen`);
  await go(pageB, `#/visit/${id}/seen`);
  await pageA.check("#seenAlone-yes");
  await pageB.check("#seenAlone-no");
  pass("edited offline on both devices");

  await a.setOffline(false);
  await b.setOffline(false);
  for (const page of [pageA, pageB]) {
    await page.waitForFunction((id) => {
      const v = window.__doorstep.visit(id);
      return v.conflicts.some((c) => c.field === "seenAlone") && v.voice[0].words.includes("Near my school") && v.voice[0].words.includes("Biscuit");
    }, id, { timeout: 30_000 });
  }
  await go(pageA, `#/visit/${id}`);
  await pageA.waitForSelector("[data-conflict=seenAlone]");
  await axeCheck(pageA, "conflict");
  const words = (await pageA.evaluate((id) => window.__doorstep.visit(id).voice[0].words, id));
  pass("both texts kept and the conflict shown", { words });

  const choice = await pageA.evaluate(() => [...document.querySelectorAll("[data-conflict=seenAlone] label")].findIndex((l) => l.textContent === "No"));
  await pageA.check(`#resolve-seenAlone-${choice}`);
  await pageA.click("[data-conflict=seenAlone] button[type=submit]");
  for (const page of [pageA, pageB]) {
    await page.waitForFunction((id) => {
      const v = window.__doorstep.visit(id);
      return v.conflicts.length === 0 && v.seenAlone === false;
    }, id, { timeout: 30_000 });
  }
  const [viewA, viewB] = await Promise.all([pageA, pageB].map((p) => p.evaluate((id) => {
    const v = window.__doorstep.visit(id);
    delete v.sync;
    return JSON.stringify(v);
  }, id)));
  check(viewA === viewB, "after resolving, both devices show the same record");
  pass("resolved on one device; both agree");
  await a.close();
  await b.close();
  result.visitId = id;
}

// An administrator revokes the device while the app is open: the live connection is cut,
// the reconnection is refused with "wipe", and the app wipes every record from the device.
async function revoked() {
  const admin = process.env.DOORSTEP_ADMIN;
  const dataDir = process.env.DOORSTEP_DATA_DIR;
  const context = await launch("revoked");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  check((await idbCount(page)) > 0, "records are stored before the revocation");
  const list = execFileSync(admin, ["admin", "--data-dir", dataDir, "device", "list", user]).toString();
  for (const line of list.trim().split("\n")) {
    const [deviceId, state] = line.split("\t");
    if (state === "active") execFileSync(admin, ["admin", "--data-dir", dataDir, "device", "revoke", deviceId]);
  }
  await page.waitForSelector("#sign-in-form", { timeout: 30_000 });
  check((await idbCount(page)) === 0, "every record is wiped from IndexedDB");
  check((await page.textContent("#sync-status")).includes("revoked"), "the worker is told the device was revoked");
  pass("revoked device wiped on its next connection");
  await context.close();
}

async function idbCount(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open("doorstep");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let count = 0;
    for (const name of db.objectStoreNames) {
      count += await new Promise((resolve) => {
        const request = db.transaction(name).objectStore(name).count();
        request.onsuccess = () => resolve(request.result);
      });
    }
    db.close();
    return count;
  });
}

// Benchmark (not a test): how long the app takes to open offline, from navigation to a
// usable caseload, with VISITS visit records on the device, and with none (the baseline,
// measured in the same run). Each is the median of RUNS cold starts (new browser process).
async function benchOpen() {
  const visits = Number(process.env.DOORSTEP_VISITS ?? "500");
  const runs = Number(process.env.DOORSTEP_RUNS ?? "5");
  const measure = async (profile, expectedVisits) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const context = await launch(profile, { offline: true });
      const page = context.pages()[0] ?? (await context.newPage());
      const started = Date.now();
      await page.goto(url + "/", { waitUntil: "load" });
      await page.waitForSelector("#unlock-form", { timeout: 30_000 });
      const ready = Date.now();
      await page.fill("#pin", PIN);
      const unlockAt = Date.now();
      await page.click("#unlock-form button[type=submit]");
      await page.waitForFunction((n) => {
        const caseload = window.__doorstep.caseload();
        const held = caseload.children.reduce((sum, c) => sum + c.visits.length, 0);
        const named = caseload.children.every((c) => c.profile);
        return held >= n && named && document.querySelector("main table");
      }, expectedVisits, { timeout: 60_000, polling: 10 });
      const done = Date.now();
      times.push({ total: done - started - (unlockAt - ready), appReady: ready - started, unlockToCaseload: done - unlockAt });
      await context.close();
    }
    times.sort((a, b) => a.total - b.total);
    return { ...times[Math.floor(times.length / 2)], min: times[0].total, max: times[times.length - 1].total };
  };
  const fill = async (profile, count) => {
    const context = await launch(profile);
    const page = await open(context);
    await signInByKeyboard(page);
    await waitForChild(page);
    await context.setOffline(true);
    const words = "I like living here. ".repeat(10);
    const seen = "Relaxed, chatty, showed me the garden and the new bike. ".repeat(6);
    await page.evaluate(async ({ count, words, seen, childRef }) => {
      const device = window.__doorstep;
      for (let i = 0; i < count; i++) {
        const day = String(1 + (i % 28)).padStart(2, "0");
        const id = device.createVisit(childRef, `2026-${String(1 + (i % 10)).padStart(2, "0")}-${day}`);
        const edit = (op) => device.editVisit(id, op);
        edit({ op: "text", field: "observations", value: seen });
        edit({ op: "choice", field: "seenAlone", value: "yes" });
        const v = edit({ op: "addVoice" });
        edit({ op: "itemText", list: "voice", index: v, field: "words", value: words });
        edit({ op: "text", field: "analysis", value: "Stable placement." });
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
      }
    }, { count, words, seen, childRef });
    await page.waitForFunction(() => window.__doorstep.syncState().saving === 0, null, { timeout: 120_000 });
    // Locking (as the app does after inactivity) stores the caseload summaries.
    await page.evaluate(() => window.__doorstep.lock());
    await context.close();
  };
  await fill("bench-empty", 0);
  await fill("bench-full", visits);
  const baseline = await measure("bench-empty", 0);
  const full = await measure("bench-full", visits);
  result.visits = visits;
  result.runs = runs;
  result.baseline = baseline;
  result.full = full;
  result.ratio = Math.round((full.total / baseline.total) * 100) / 100;
}

const scenario = process.argv[2];
const scenarios = { "offline-visit": offlineVisit, conflict, revoked, "bench-open": benchOpen };
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await scenarios[scenario]();
  result.ok = true;
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(error.stack ?? String(error));
  if (lastPage) {
    result.mainText = await lastPage.textContent("main").catch(() => null);
    result.status = await lastPage.textContent("#sync-status").catch(() => null);
    await lastPage.screenshot({ path: join(profileRoot, "failure.png") }).catch(() => {});
  }
  console.error(JSON.stringify(result));
  process.exit(1);
}
