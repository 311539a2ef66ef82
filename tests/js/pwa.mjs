// End-to-end tests of the social worker's PWA in Debian's headless Chromium (playwright-core).
// Run by tests/tests/pwa.rs against a real Doorstep server with a test council. Environment:
//   DOORSTEP_URL        http://127.0.0.1:PORT
//   DOORSTEP_USER       a social worker, DOORSTEP_PASSWORD its password
//   DOORSTEP_CHILD      a child reference on that worker's caseload
//   DOORSTEP_PROFILE    a scratch directory for browser profiles
//   CHROMIUM            the browser (default /usr/bin/chromium)
//   DOORSTEP_ADMIN, DOORSTEP_DATA_DIR   (revoked) the doorstep-server binary and data dir
//   DOORSTEP_MANAGER    (oversight, dashboard-offline) the child's team manager
// Usage: node pwa.mjs offline-visit | conflict | revoked | oversight | handover | dashboard-offline | break-glass-dashboard
// Prints one JSON line with what it measured; exits non-zero with the failed check.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.DOORSTEP_URL;
const user = process.env.DOORSTEP_USER;
const password = process.env.DOORSTEP_PASSWORD;
const childRef = process.env.DOORSTEP_CHILD;
const manager = process.env.DOORSTEP_MANAGER;
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
    acceptDownloads: true,
    viewport: { width: 1024, height: 900 },
  });
}

let lastPage = null;
const openPages = [];
// Confirmation dialogs (remove, sign out) are accepted when this is set, else dismissed.
let acceptDialogs = false;
async function open(context) {
  const page = context.pages()[0] ?? (await context.newPage());
  openPages.push(page);
  page.on("pageerror", (error) => { result.pageErrors = [...(result.pageErrors ?? []), String(error)]; });
  page.on("dialog", (dialog) => { result.dialogs = [...(result.dialogs ?? []), dialog.message()]; if (acceptDialogs) dialog.accept(); else dialog.dismiss(); });
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

// Signs in using only the keyboard (Tab, typing, Enter); a team manager lands on the
// team dashboard, a social worker on their caseload.
async function signInByKeyboard(page, who = user, landing = "My caseload") {
  await page.waitForSelector("#sign-in-form");
  await axeCheck(page, "sign in");
  await page.focus("#username");
  await page.keyboard.type(who);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PIN);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PIN);
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement?.textContent === "Sign in"), "Tab reaches the Sign in button");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`h1:text('${landing}')`, { timeout: 30_000 });
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
  // Issue 15: the question a scale answered is recorded with it (a build from before the
  // issue has no such field: the bug scenarios run against it too).
  if (await page.locator("#voice-0-scale-question").count()) await page.fill("#voice-0-scale-question", "How happy are you living here?");
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
  const { a, b, pageA, pageB } = await twoDevices();
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
  // B holds the visit once it shows A's words (the entry may arrive before its words).
  await pageB.waitForFunction((id) => { try { return window.__doorstep.visit(id).voice[0]?.words === "I want to stay."; } catch { return false; } }, id, { timeout: 30_000 });
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
  // Issue 15: only the plain-text guard record stays (the notice of the wipe, to be read
  // after a reload), and it holds nothing about a child.
  check((await idbCount(page, ["guard"])) === 0, "every record is wiped from IndexedDB");
  const leftover = await idbPlaintext(page, ["Test Child", childRef]);
  check(leftover.found.length === 0, `the wiped device holds ${leftover.found.join(", ")}`);
  check((await page.textContent("#sync-status")).includes("revoked"), "the worker is told the device was revoked");
  pass("revoked device wiped on its next connection");
  await context.close();
}

// ---------- management oversight, the team dashboard, the handover ----------

async function waitForStatus(page, ref, status) {
  await page.waitForFunction(({ ref, status }) => document.querySelector(`#dashboard-children tr[data-child='${ref}'] td[data-status]`)?.dataset.status === status,
    { ref, status }, { timeout: 30_000 });
}

// The data core says every record is on the server, and so does the status bar (whose
// attributes alone can still show the moment before a record made through the data core).
async function waitSynced(page) {
  await page.waitForFunction(() => {
    const state = window.__doorstep.syncState();
    return state.connected && state.unsent === 0 && state.saving === 0
      && document.getElementById("sync-status")?.dataset.unsent === "0"
      && document.getElementById("sync-status")?.dataset.connected === "true";
  }, null, { timeout: 30_000 });
}

// Clicks "Download CSV" and answers the file's text.
async function downloadCsv(page) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-action=download-csv]")]);
  return readFileSync(await download.path(), "utf8");
}

const rowCount = (page) => page.locator("#dashboard-children tbody tr").count();

// A worker records and submits a visit offline; back online, the manager's dashboard moves
// the child from overdue to met; the manager signs it off; the worker amends it with a
// reason; the manager sees it amended after sign-off, with the difference and the signed
// version; a decision on a version that has changed since is refused and the page reloads.
async function oversight() {
  const words = "I like my new school and my teacher Mrs Patel";
  const managerContext = await launch("manager");
  const workerContext = await launch("worker");
  const mgr = await open(managerContext);
  const sw = await open(workerContext);

  await signInByKeyboard(mgr, manager, "Team dashboard");
  await waitForStatus(mgr, childRef, "overdue");
  await mgr.waitForSelector("[data-dashboard-state=fresh]");
  await axeCheck(mgr, "team dashboard");
  const workerRow = await mgr.textContent("#dashboard-workers");
  check(workerRow.includes(user), "the dashboard counts overdue visits per worker");
  const all = await rowCount(mgr);
  // A filter by keyboard: the results change and focus stays on the checkbox.
  await mgr.focus("#filter-overdue");
  await mgr.keyboard.press("Space");
  await mgr.waitForFunction(() => document.getElementById("filter-overdue").checked);
  check(await mgr.evaluate(() => document.activeElement?.id === "filter-overdue"), "filtering keeps focus on the filter");
  check(await mgr.evaluate(() => [...document.querySelectorAll("#dashboard-children td[data-status]")].every((td) => td.dataset.status === "overdue")), "the overdue filter shows only overdue children");
  await mgr.selectOption("#filter-worker", user);
  const shown = await rowCount(mgr);
  check(shown >= 1 && shown <= all, `the worker filter shows ${shown} of ${all}`);
  check(await mgr.evaluate((name) => [...document.querySelectorAll("#dashboard-children tbody tr td:nth-child(2)")].every((td) => td.textContent === name), user), "the worker filter shows only that worker's children");
  await axeCheck(mgr, "team dashboard, filtered");
  const csv = await downloadCsv(mgr);
  const lines = csv.trim().split("\r\n");
  check(lines[0].startsWith('"child_ref","child_name"'), `the CSV has a header: ${lines[0]}`);
  check(lines.length === shown + 1 && csv.includes(`"${childRef}"`), "the CSV holds the filtered children");
  await mgr.uncheck("#filter-overdue");
  await mgr.selectOption("#filter-worker", "");
  check((await rowCount(mgr)) === all, "clearing the filters shows every child");
  pass("team dashboard: child overdue, counts per worker, filters, CSV", { children: all, csvLines: lines.length });

  await signInByKeyboard(sw);
  await waitForChild(sw);
  await workerContext.setOffline(true);
  await sw.waitForFunction(() => !navigator.onLine);
  const id = await recordVisit(sw, words);
  pass("the worker recorded and submitted a visit offline", { id });
  await workerContext.setOffline(false);
  await waitSynced(sw);

  await mgr.click("[data-action=refresh-dashboard]");
  await waitForStatus(mgr, childRef, "met");
  await mgr.waitForSelector(`#dashboard-awaiting tr[data-visit='${id}'] [data-review-state=submitted]`);
  pass("back online: on the manager's dashboard the child moved from overdue to met, the record awaits sign-off");

  await mgr.click(`#dashboard-awaiting tr[data-visit='${id}'] a`);
  await mgr.waitForSelector("#decision-form");
  const sections = await mgr.textContent("#review-sections");
  check(sections.includes(words), "the review shows the child's words");
  // Issue 15: provenance is one compact line per section ("sw-north-1 · written … · received …").
  check(sections.includes(`${user} · written`) && sections.includes("received"), "each section shows its author and when it was received");
  await axeCheck(mgr, "review");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("#error-summary");
  check(await mgr.evaluate(() => document.activeElement?.id === "error-summary"), "the error summary takes focus");
  await axeCheck(mgr, "review, nothing chosen");
  await mgr.check("#decision-return");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("#decision-comment-error");
  check((await mgr.textContent("#error-summary")).includes("Say what needs to change"), "returning needs a comment");
  await axeCheck(mgr, "review, return without a comment");
  const returnComment = "Please add what he said about his friends at school.";
  await mgr.fill("#decision-comment", returnComment);
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("text=Record returned for amendment");
  pass("the manager returned it, after the error summary for a missing choice and comment");

  // The return reaches the worker's device inside the document: changed without a reason
  // and submitted again.
  const waitForState = (state) => sw.waitForFunction(({ id, state }) => { try { return window.__doorstep.visit(id).review?.state === state; } catch { return false; } }, { id, state }, { timeout: 30_000 });
  await waitForState("returned");
  await go(sw, `#/visit/${id}`);
  await sw.waitForSelector("#review-banner[data-review-state=returned]");
  check((await sw.textContent("#review-banner")).includes(returnComment), "the worker reads why it was returned");
  await axeCheck(sw, "visit, returned");
  await go(sw, `#/visit/${id}/voice`);
  await sw.waitForSelector("#voice-0-words");
  await sw.focus("#voice-0-words");
  await sw.keyboard.press("End");
  await sw.keyboard.type(". I play football with Sam and Ali at lunch");
  await go(sw, `#/visit/${id}/check`);
  await sw.waitForSelector("[data-action=submit-visit]");
  await sw.click("[data-action=submit-visit]");
  await sw.waitForSelector("h1:text('Record submitted')");
  await waitSynced(sw);
  pass("the worker changed the returned record, no reason asked, and submitted it again");

  await go(mgr, "#/team");
  await mgr.waitForSelector(`#dashboard-awaiting tr[data-visit='${id}'] [data-review-state=resubmitted]`, { timeout: 30_000 });
  await mgr.click(`#dashboard-awaiting tr[data-visit='${id}'] a`);
  await mgr.waitForSelector("#decision-form");
  check((await mgr.textContent("#review-sections")).includes("Sam and Ali"), "the manager reads the record as submitted again");
  await mgr.check("#decision-signOff");
  await mgr.fill("#decision-comment", "A clear record; the child's views are well captured.");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("text=Record signed off");
  await mgr.waitForSelector("[data-review-state=signedOff]");
  pass("the manager signed off the record submitted again");

  // The sign-off reaches the worker's device too; the amendment is made offline.
  await waitForState("signedOff");
  await workerContext.setOffline(true);
  await sw.waitForFunction(() => !navigator.onLine);
  await go(sw, `#/visit/${id}`);
  await sw.waitForSelector("#review-banner[data-review-state=signedOff]");
  const banner = await sw.textContent("#review-banner");
  check(banner.includes(`Signed off by ${manager}`) && banner.includes("well captured"), `the worker sees the sign-off: ${banner}`);
  await axeCheck(sw, "visit, signed off");
  await go(sw, `#/visit/${id}/observations`);
  await sw.waitForSelector("#amend-form");
  await axeCheck(sw, "why change a signed-off record");
  await sw.click("#amend-form button[type=submit]");
  await sw.waitForSelector("#error-summary");
  await axeCheck(sw, "why change a signed-off record, no reason");
  const reason = "The carer told me later that the bike was a birthday present.";
  await sw.fill("#amend-reason", reason);
  await sw.click("#amend-form button[type=submit]");
  await sw.waitForSelector("#observations");
  await sw.fill("#observations", "Relaxed with the carers; showed me the bike he got for his birthday.");
  await go(sw, `#/visit/${id}/check`);
  await sw.waitForSelector("[data-action=submit-visit]");
  check((await sw.textContent("main")).includes("Submit the amended record"), "the amended record is submitted again");
  await axeCheck(sw, "check your answers, amended");
  await sw.click("[data-action=submit-visit]");
  await sw.waitForSelector("h1:text('Record submitted')");
  check((await sw.evaluate((id) => window.__doorstep.visit(id).review, id)).needsSubmit === false, "submitted again");
  pass("offline, the worker gave a reason, amended and submitted again");
  await workerContext.setOffline(false);
  await waitSynced(sw);

  await go(mgr, "#/team");
  await mgr.waitForSelector(`#dashboard-awaiting tr[data-visit='${id}'] [data-review-state=amendedAfterSignOff]`, { timeout: 30_000 });
  await mgr.click(`#dashboard-awaiting tr[data-visit='${id}'] a`);
  await mgr.waitForSelector("#signed-version");
  check((await mgr.textContent("#signed-version h2")) === "Amended after sign-off", "the review says amended after sign-off");
  const differences = await mgr.textContent("#differences");
  check(differences.includes("showed me the new bike") && differences.includes("got for his birthday"), `the difference, before and after: ${differences}`);
  check((await mgr.textContent("#signed-version details")).includes("showed me the new bike"), "the signed version is kept");
  check((await mgr.textContent("#review-history")).includes(reason), "the amendment's reason is in the history");
  await axeCheck(mgr, "review, amended after sign-off");
  pass("the manager sees the record amended after sign-off, the difference and the signed version");

  // The worker changes the record while the manager reads it: the decision is refused.
  await go(sw, `#/visit/${id}/analysis`);
  await sw.waitForSelector("#analysis");
  await sw.fill("#analysis", "Placement is stable and meeting needs. His birthday was celebrated well.");
  await waitSynced(sw);
  await mgr.check("#decision-signOff");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForFunction(() => document.getElementById("error-summary")?.textContent.includes("This record changed since you opened it"), null, { timeout: 30_000 });
  check((await mgr.textContent("#review-sections")).includes("birthday was celebrated"), "the review reloaded with the latest version");
  await axeCheck(mgr, "review, changed since opened");
  await mgr.check("#decision-signOff");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("text=Record signed off");
  pass("a decision on a version that changed is refused; the page reloads; the latest version is signed off");
  await managerContext.close();
  await workerContext.close();
  result.visitId = id;
  result.words = words;
  result.reason = reason;
}

// A worker newly allocated to a child opens the handover summary: the previous worker's
// visits and the child's words, synced to this device, also offline.
async function handover() {
  const words = process.env.DOORSTEP_WORDS;
  const previous = process.env.DOORSTEP_PREVIOUS;
  const context = await launch("new-worker");
  let page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  await page.waitForFunction(({ ref, words }) => {
    const today = new Date().toISOString().slice(0, 10);
    return window.__doorstep.handover(ref, today)?.words.some((w) => w.words === words);
  }, { ref: childRef, words }, { timeout: 30_000 });
  await page.click(`a[href='#/child/${childRef}']`);
  await page.click("text=Handover summary");
  await page.waitForSelector("#handover-visits");
  const read = async () => ({
    visits: await page.textContent("#handover-visits"),
    words: await page.textContent("#handover-words"),
    actions: await page.textContent("#handover-actions"),
    placement: await page.textContent("#handover-placement"),
  });
  let text = await read();
  check(text.visits.includes(previous), "the chronology names the previous worker");
  check(text.words.includes(words), "the child's words are there, verbatim");
  check(text.actions.includes("Overdue"), "an open action past its due date is marked overdue");
  check(text.placement.includes("Test Carer"), "the current placement is shown");
  await axeCheck(page, "handover summary");
  pass("the new worker sees the previous worker's visits and the child's words");

  await context.setOffline(true);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  await page.waitForSelector("#handover-words");
  text = await read();
  check(text.words.includes(words), "offline, the handover summary is there from the device");
  pass("the handover summary opens offline");
  await context.close();
}

// The dashboard opens offline, after a reload and a browser restart, from its last synced
// state, sealed on the device.
async function dashboardOffline() {
  let context = await launch("manager-offline");
  let page = await open(context);
  await signInByKeyboard(page, manager, "Team dashboard");
  await page.waitForSelector(`#dashboard-children tr[data-child='${childRef}']`, { timeout: 30_000 });
  await page.waitForSelector("[data-dashboard-state=fresh]");
  const rows = await rowCount(page);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10_000 });
  const name = await page.textContent(`#dashboard-children tr[data-child='${childRef}'] a`);
  // Give the sealed write a moment, then look for the dashboard's contents in IndexedDB.
  await page.waitForFunction(() => window.__doorstep.dashboard() !== null);
  const plaintext = await idbPlaintext(page, [name, "lastQualifyingVisit", "awaitingSignOff"]);
  check(plaintext.found.length === 0, `IndexedDB holds the dashboard in plaintext: ${plaintext.found.join(", ")}`);
  pass("dashboard fetched online and sealed on the device", { rows });

  await context.setOffline(true);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  await page.waitForSelector("[data-dashboard-state=offline]", { timeout: 20_000 });
  check((await rowCount(page)) === rows, "offline, the dashboard shows every child");
  check((await page.textContent("main")).includes("as of"), "offline, the dashboard says when it is from");
  check(!(await page.textContent("#sync-status")).startsWith("Online"), "the sync state does not say online");
  await axeCheck(page, "team dashboard, offline");
  const csv = await downloadCsv(page);
  check(csv.includes(`"${childRef}"`), "the CSV downloads offline");
  pass("offline reload: the dashboard as last synced, with its time; CSV offline");

  await context.close();
  context = await launch("manager-offline", { offline: true });
  page = await open(context);
  await unlock(page);
  await page.waitForSelector("[data-dashboard-state=offline]", { timeout: 20_000 });
  check((await rowCount(page)) === rows, "after a browser restart offline, the dashboard is there");
  pass("browser restarted offline: the dashboard opens");
  await context.close();
}

// The team manager's dashboard shows a break-glass access at once (DOORSTEP_BREAK_GLASS_CHILD,
// opened by someone else with DOORSTEP_BREAK_GLASS_REASON), while the restricted child
// itself stays off the children table.
async function breakGlassDashboard() {
  const restricted = process.env.DOORSTEP_BREAK_GLASS_CHILD;
  const reason = process.env.DOORSTEP_BREAK_GLASS_REASON;
  const context = await launch("manager-break-glass");
  const page = await open(context);
  await signInByKeyboard(page, manager, "Team dashboard");
  await page.waitForSelector("[data-dashboard-state=fresh]", { timeout: 30_000 });
  const row = `#dashboard-break-glass tr[data-break-glass='${restricted}']`;
  await page.waitForSelector(row, { timeout: 10_000 });
  const text = await page.textContent(row);
  check(text.includes(reason), `the row gives the reason: ${text}`);
  check(text.includes("sw-north-2") && text.includes("Open"), `the row says who and that it is open: ${text}`);
  check((await page.locator("#dashboard-break-glass-alert").count()) === 1, "a notice says a record is open by break-glass");
  check((await page.locator(`#dashboard-children tr[data-child='${restricted}']`).count()) === 0, "the restricted child is not on the children table");
  await axeCheck(page, "team dashboard with break-glass");
  pass("the dashboard shows the break-glass: who, why, from, until");
  await context.close();
}

// How many records IndexedDB holds, leaving out the keys in `except`.
async function idbCount(page, except = []) {
  return page.evaluate(async (except) => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open("doorstep");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let count = 0;
    for (const name of db.objectStoreNames) {
      count += await new Promise((resolve) => {
        const request = db.transaction(name).objectStore(name).getAllKeys();
        request.onsuccess = () => resolve(request.result.filter((key) => !except.includes(key)).length);
      });
    }
    db.close();
    return count;
  }, except);
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


// ---------- issue 15: one scenario per bug found in an hour of real use ----------
// Each would fail on the code before issue 15; each passes after. They use only the
// app's screens and `window.__doorstep` calls that existed before, so that they can be
// run against the earlier build too.

const shots = process.env.DOORSTEP_SHOTS;
async function shot(page, name) {
  if (!shots) return;
  const size = page.viewportSize();
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
  await page.setViewportSize(size);
  result.screenshots = [...(result.screenshots ?? []), `${name}.png`];
}

// Starts a visit on `page` for the child and answers what `answers` says through the data
// core's edit calls (the same ones the form makes). Answers the record's document id.
async function startVisit(page, answers = {}) {
  return page.evaluate(({ childRef, answers }) => {
    const device = window.__doorstep;
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const id = device.createVisit(childRef, answers.date ?? today);
    const edit = (op) => device.editVisit(id, op);
    const choice = (field, value) => edit({ op: "choice", field, value });
    if (answers.complete) {
      choice("visitKind", "statutory");
      choice("location", "placement");
      choice("announced", "no");
      edit({ op: "text", field: "purpose", value: "Statutory visit" });
      choice("childSeen", "yes");
      choice("seenAlone", "yes");
      choice("bedroomSeen", "yes");
      edit({ op: "text", field: "observations", value: "Settled and chatty." });
      const v = edit({ op: "addVoice" });
      edit({ op: "itemText", list: "voice", index: v, field: "words", value: "I like it here" });
      edit({ op: "text", field: "analysis", value: "Placement meets needs." });
    }
    for (const [field, value] of answers.choices ?? []) choice(field, value);
    return id;
  }, { childRef, answers });
}


// The server offers a new visit to the worker's other online devices at once (issue 15
// item 8), so the other device receives it without asking. Should a push be lost (a
// socket the loaded machine cut and reopened in between), coming back online fetches
// the caseload again: the fallback goes offline and online once and waits again. Each
// wait is generous: the two Chromiums share the machine with the server and the tests.
async function fetchOnOther(context, page, id) {
  const arrived = (timeout) => page.waitForFunction((id) => { try { const v = window.__doorstep.visit(id); return !v.loading && Boolean(v.visitId); } catch { return false; } }, id, { timeout }).then(() => true).catch(() => false);
  if (await arrived(20_000)) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    await context.setOffline(true);
    await page.waitForFunction(() => !navigator.onLine);
    await context.setOffline(false);
    await page.waitForFunction(() => navigator.onLine);
    if (await arrived(20_000)) return;
  }
  check(false, `the other device never received the record ${id}`);
}

// Two devices of the same worker, both signed in, the first showing the caseload.
async function twoDevices() {
  const a = await launch("device-a");
  const b = await launch("device-b");
  const pageA = await open(a);
  const pageB = await open(b);
  await signInByKeyboard(pageA);
  await signInByKeyboard(pageB);
  await waitForChild(pageA);
  return { a, b, pageA, pageB };
}

// Two devices of the same worker holding the same new visit, both online.
async function twoDevicesWithVisit(answers = {}) {
  const { a, b, pageA, pageB } = await twoDevices();
  const id = await startVisit(pageA, answers);
  await waitSynced(pageA);
  // B asks for the caseload again (the server now lists the visit).
  await fetchOnOther(b, pageB, id);
  return { a, b, pageA, pageB, id };
}

// Both devices back online, until each shows a conflict on `field`.
async function reconnect(a, b, pageA, pageB, id, field) {
  await a.setOffline(false);
  await b.setOffline(false);
  for (const page of [pageA, pageB]) {
    await page.waitForFunction(({ id, field }) => {
      const v = window.__doorstep.visit(id);
      return v.conflicts.some((c) => c.field === field);
    }, { id, field }, { timeout: 30_000 });
  }
}

// Bug: both devices answered "Child seen: Yes" offline and the record asked the worker to
// choose between "Yes" and "Yes".
async function identicalAnswers() {
  const { a, b, pageA, pageB, id } = await twoDevicesWithVisit();
  await a.setOffline(true);
  await b.setOffline(true);
  for (const page of [pageA, pageB]) {
    await go(page, `#/visit/${id}/seen`);
    await page.check("#childSeen-yes");
  }
  await a.setOffline(false);
  await b.setOffline(false);
  for (const page of [pageA, pageB]) await waitSynced(page);
  // Let each device receive the other's change.
  await pageA.waitForTimeout(3000);
  for (const page of [pageA, pageB]) {
    const conflicts = await page.evaluate((id) => window.__doorstep.visit(id).conflicts, id);
    check(conflicts.length === 0, `the same answer on two devices is no conflict: ${JSON.stringify(conflicts)}`);
    await go(page, `#/visit/${id}`);
    await page.waitForSelector(".task-list");
    check((await page.locator("[data-conflict]").count()) === 0, "no conflict box for the same answer");
  }
  pass("the same answer given on two devices offline is not a conflict");
  await a.close();
  await b.close();
}

// Bug: a record with an open conflict could be submitted; the manager's review showed one
// answer with no sign of dispute and the caseload said "Up to date"; the conflict box did
// not say which device or when; an open section page gave no warning.
async function openConflict() {
  const { a, b, pageA, pageB, id } = await twoDevicesWithVisit({ complete: true });
  await a.setOffline(true);
  await b.setOffline(true);
  await go(pageA, `#/visit/${id}/welfare`);
  await go(pageB, `#/visit/${id}/welfare`);
  await pageA.check("#welfareSafeguarded-yes");
  await pageB.check("#welfareSafeguarded-no");
  // A stays on the welfare section while the other device's answer arrives.
  await reconnect(a, b, pageA, pageB, id, "welfareSafeguarded");
  await pageA.waitForSelector("[data-conflict=welfareSafeguarded]", { timeout: 10_000 });
  pass("the open section page warns of the conflict at once, without being reopened");
  const box = await pageA.textContent("[data-conflict=welfareSafeguarded]");
  check(/on another device/.test(box) && /on this device/.test(box), `each side says which device: ${box}`);
  check(/Chosen by (you|sw-north-1)/.test(box), `each side says who: ${box}`);
  await axeCheck(pageA, "conflict, with who chose each side");
  await shot(pageA, "conflict");
  pass("each side of the conflict says who, which device and when");

  await go(pageA, `#/visit/${id}/check`);
  await pageA.waitForSelector("h1:text('Check your answers')");
  await pageA.click("[data-action=submit-visit]");
  await pageA.waitForSelector("#error-summary", { timeout: 10_000 });
  const summary = await pageA.textContent("#error-summary");
  check(/two devices gave different answers/i.test(summary), `the error summary names the conflict: ${summary}`);
  const link = await pageA.getAttribute("#error-summary a", "href");
  check(link === `#/visit/${id}/welfare`, `the error summary links to the conflict: ${link}`);
  const status = await pageA.evaluate((id) => window.__doorstep.visit(id).status, id);
  check(status !== "submitted", "a record with an open conflict is not submitted");
  pass("submission is refused while the conflict is open, the error summary links to it");

  await go(pageA, "#/caseload");
  await pageA.waitForSelector(`main a[href='#/child/${childRef}']`);
  const row = await pageA.evaluate((ref) => document.querySelector(`main a[href='#/child/${ref}']`).closest("tr").textContent, childRef);
  check(/needs? a decision/i.test(row) && !/Up to date/.test(row), `the caseload flags it: ${row}`);
  await go(pageA, `#/child/${childRef}`);
  await pageA.waitForSelector("h2:text('Visits')");
  check(/needs? a decision/i.test(await pageA.textContent("main")), "the child's page flags it");
  pass("the caseload and the child's page say the record needs a decision");

  if (manager) {
    const m = await launch("manager");
    const mgr = await open(m);
    await signInByKeyboard(mgr, manager, "Team dashboard");
    await mgr.waitForSelector(`#dashboard-children tr[data-child='${childRef}']`, { timeout: 30_000 });
    const dashboardRow = await mgr.textContent(`#dashboard-children tr[data-child='${childRef}']`);
    check(/needs a decision/i.test(dashboardRow), `the dashboard flags it: ${dashboardRow}`);
    await go(mgr, `#/review/${id}`);
    await mgr.waitForSelector("#review-sections", { timeout: 30_000 });
    const review = await mgr.textContent("main");
    check(/needs a decision/i.test(review) && /Yes/.test(review) && /No/.test(review), "the review shows both answers");
    await axeCheck(mgr, "review with a conflict");
    pass("the dashboard and the review say the record needs a decision, with both answers");
    await m.close();
  }
  await a.close();
  await b.close();
  result.visitId = id;
}

// Bug: after resolving "Seen alone" to Yes, the other device's reason for not being seen
// alone stayed in the record (and the review showed both).
async function dependentAnswers() {
  const { a, b, pageA, pageB, id } = await twoDevicesWithVisit({ choices: [["childSeen", "yes"]] });
  await a.setOffline(true);
  await b.setOffline(true);
  await go(pageA, `#/visit/${id}/seen`);
  await go(pageB, `#/visit/${id}/seen`);
  await pageA.check("#seenAlone-yes");
  await pageB.check("#seenAlone-no");
  await pageB.waitForSelector("#notAloneReason-refused");
  await pageB.check("#notAloneReason-refused");
  await pageB.fill("#not-alone-detail", "Wanted the carer to stay");
  await reconnect(a, b, pageA, pageB, id, "seenAlone");
  await go(pageA, `#/visit/${id}`);
  await pageA.waitForSelector("[data-conflict=seenAlone]");
  const choice = await pageA.evaluate(() => [...document.querySelectorAll("[data-conflict=seenAlone] label")].findIndex((l) => l.textContent === "Yes"));
  await pageA.check(`#resolve-seenAlone-${choice}`);
  await pageA.click("[data-conflict=seenAlone] button[type=submit]");
  for (const page of [pageA, pageB]) {
    await page.waitForFunction((id) => {
      const v = window.__doorstep.visit(id);
      return v.conflicts.length === 0 && v.seenAlone === true;
    }, id, { timeout: 30_000 });
    const v = await page.evaluate((id) => window.__doorstep.visit(id), id);
    check(v.notAloneReason === null && v.notAloneDetail === "", `the reason went with "seen alone: yes": ${v.notAloneReason} ${v.notAloneDetail}`);
    await go(page, `#/visit/${id}/check`);
    await page.waitForSelector("h1:text('Check your answers')");
    check(!(await page.textContent("main")).includes("Why the child was not seen alone"), "check your answers shows no reason for not being seen alone");
  }
  pass("the reason for not being seen alone goes when seen alone becomes yes, on both devices");
  await a.close();
  await b.close();
}

// Bug: after unlocking (reload, Lock or the timeout) on a section page the app showed
// "This record is still loading" and never recovered.
async function unlockReturns() {
  const context = await launch("unlock");
  let page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const id = await startVisit(page);
  await go(page, `#/visit/${id}/observations`);
  await page.waitForSelector("#observations");
  await page.fill("#observations", "Typed before the tablet locked");
  await page.focus("#observations");
  // The Lock button (the 10-minute timeout calls the same lock).
  await page.click("[data-action=lock]");
  await unlock(page);
  await page.waitForSelector("#observations", { timeout: 20_000 });
  check((await page.inputValue("#observations")) === "Typed before the tablet locked", "the text is there after unlocking");
  check(!(await page.textContent("main")).includes("still loading"), "no 'still loading' after unlocking");
  check(await page.evaluate(() => document.activeElement?.id === "observations"), "the worker is back in the field they were in");
  pass("Lock then unlock: back on the same section, in the same field");
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  await page.waitForSelector("#observations", { timeout: 20_000 });
  check((await page.inputValue("#observations")) === "Typed before the tablet locked", "the text is there after a reload");
  check(page.url().endsWith(`#/visit/${id}/observations`), "still on the same section after a reload");
  pass("reload then unlock: back on the same section");
  await context.close();
}

// Bug: "Add the action" with an empty form added an empty action that could never be
// completed or removed; text typed in "What will be done" was lost on Continue; nothing
// (person, voice entry, action, a draft started in error) could be removed.
async function actions() {
  acceptDialogs = true;
  const context = await launch("actions");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const id = await startVisit(page);
  await go(page, `#/visit/${id}/actions`);
  await page.waitForSelector("#add-action-form");
  await page.click("#add-action-form button[type=submit]");
  await page.waitForSelector("#error-summary", { timeout: 10_000 });
  check((await page.evaluate((id) => window.__doorstep.visit(id).actions.length, id)) === 0, "an empty action is not added");
  await axeCheck(page, "actions, an incomplete new action");
  pass("an empty action is refused with an error summary");

  await page.fill("#action-description", "Ask school about the maths club");
  await page.click("a[data-continue]:text('Continue')");
  await go(page, `#/visit/${id}/actions`);
  await page.waitForSelector("#action-description");
  check((await page.inputValue("#action-description")) === "Ask school about the maths club", "what was typed survives Continue");
  await page.click("[data-action=lock]");
  await unlock(page);
  await page.waitForSelector("#action-description", { timeout: 20_000 });
  check((await page.inputValue("#action-description")) === "Ask school about the maths club", "what was typed survives a lock");
  pass("a new action being written survives Continue and a lock");

  await page.check("#ownerType-carer");
  await page.fill("#action-owner", "Sam Carer");
  await page.fill("#action-due-day", "15");
  await page.fill("#action-due-month", "1");
  await page.fill("#action-due-year", "2027");
  await page.click("#add-action-form button[type=submit]");
  await page.waitForSelector("#action-0-description");
  await page.check("#action-0-ownerType-worker");
  await page.fill("#action-0-due-day", "20");
  await page.check("#action-0-status-done");
  await page.waitForFunction((id) => {
    const a = window.__doorstep.visit(id).actions[0];
    return a.ownerType === "worker" && a.dueDate === "2027-01-20" && a.status === "done";
  }, id, { timeout: 10_000 });
  pass("an added action's owner, due date and status can be changed");

  await page.click("[data-action=remove-entry][data-list=actions]");
  await page.waitForFunction((id) => window.__doorstep.visit(id).actions.length === 0, id, { timeout: 10_000 });
  await go(page, `#/visit/${id}/people`);
  await page.click("[data-action=add-person]");
  await page.fill("#person-0-name", "Sam Carer");
  await page.click("[data-action=remove-entry][data-list=personsPresent]");
  await page.waitForFunction((id) => window.__doorstep.visit(id).personsPresent.length === 0, id, { timeout: 10_000 });
  await go(page, `#/visit/${id}/voice`);
  await page.click("[data-action=add-voice]");
  await page.fill("#voice-0-words", "I said the wrong thing");
  await page.click("[data-action=remove-entry][data-list=voice]");
  await page.waitForFunction((id) => window.__doorstep.visit(id).voice.length === 0, id, { timeout: 10_000 });
  pass("an action, a person present and an entry of the child's voice can be removed");

  await go(page, `#/visit/${id}`);
  await page.click("#discard-link");
  await page.waitForSelector("#discard-form");
  await axeCheck(page, "discard a draft");
  await page.fill("#discard-reason", "Started for the wrong child");
  await page.click("#discard-form button[type=submit]");
  await page.waitForSelector("#discarded", { timeout: 10_000 });
  check((await page.textContent("#discarded")).includes("Started for the wrong child"), "the reason is shown");
  pass("a draft started in error is discarded with a reason");
  await context.close();
}

// Bug: check your answers left out the voice topics, the 0-10 scale (and its question),
// "announced" and the bedroom detail; a visit submitted with no kind and no place.
async function checkAnswers() {
  const context = await launch("answers");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const id = await startVisit(page, { complete: true, choices: [["welfareSafeguarded", "yes"], ["announced", "yes"]] });
  // The kind and place are cleared the way a worker who never answered them would have.
  await page.evaluate((id) => {
    window.__doorstep.editVisit(id, { op: "text", field: "bedroomDetail", value: "Posters up, warm and tidy" });
  }, id);
  await go(page, `#/visit/${id}/voice`);
  await page.waitForSelector("#voice-0-words");
  await page.check("#voice-0-topic-school");
  await page.selectOption("#voice-0-scale", "7");
  if (await page.locator("#voice-0-scale-question").count()) await page.fill("#voice-0-scale-question", "How happy are you at school?");
  await go(page, `#/visit/${id}/check`);
  await page.waitForSelector("h1:text('Check your answers')");
  const answers = await page.textContent("main");
  check(answers.includes("School"), "check your answers shows the topics");
  check(/7 out of 10/.test(answers) && answers.includes("How happy are you at school?"), "it shows the scale and its question");
  check(/visit announced to the carer/i.test(answers), "it shows whether the visit was announced");
  check(answers.includes("Posters up, warm and tidy"), "it shows the bedroom detail");
  await axeCheck(page, "check your answers, everything shown");
  pass("check your answers shows every answer recorded");
  result.visitId = id;
  await context.close();
}

// Bug: a visit without a kind or a place could be submitted.
async function kindAndPlace() {
  const context = await launch("kind");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const id = await page.evaluate(({ childRef }) => {
    const device = window.__doorstep;
    const d = new Date();
    const id = device.createVisit(childRef, `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`);
    const edit = (op) => device.editVisit(id, op);
    edit({ op: "text", field: "purpose", value: "Statutory visit" });
    edit({ op: "choice", field: "childSeen", value: "yes" });
    edit({ op: "choice", field: "seenAlone", value: "yes" });
    edit({ op: "choice", field: "bedroomSeen", value: "yes" });
    edit({ op: "text", field: "observations", value: "Settled." });
    const v = edit({ op: "addVoice" });
    edit({ op: "itemText", list: "voice", index: v, field: "words", value: "Fine" });
    edit({ op: "text", field: "analysis", value: "Fine." });
    edit({ op: "choice", field: "welfareSafeguarded", value: "yes" });
    return id;
  }, { childRef });
  await go(page, `#/visit/${id}/check`);
  await page.waitForSelector("[data-action=submit-visit]");
  await page.click("[data-action=submit-visit]");
  await page.waitForSelector("#error-summary", { timeout: 10_000 });
  const summary = await page.textContent("#error-summary");
  check(summary.includes("Select the kind of visit") && summary.includes("Select where you saw the child"), `the kind and place are required: ${summary}`);
  check((await page.evaluate((id) => window.__doorstep.visit(id).status, id)) !== "submitted", "not submitted");
  pass("a visit without its kind and place is not submitted");
  await context.close();
}

// Bug: the caseload said "Next visit due: Not calculated yet" for every child; dates read
// 2026-06-23; SSDA903 codes appeared raw (U4, C2); no screen showed the child's age.
async function timescales() {
  const context = await launch("timescales");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  // The child's row, found by its link (as a build from before the issue shows it too).
  const rowText = () => page.evaluate((ref) => document.querySelector(`main a[href='#/child/${ref}']`)?.closest("tr")?.textContent ?? "", childRef);
  await page.waitForFunction((ref) => (document.querySelector(`main a[href='#/child/${ref}']`)?.closest("tr")?.textContent ?? "").includes("January 2025"), childRef, { timeout: 20_000 }).catch(() => {});
  const row = await rowText();
  check(!row.includes("Not calculated"), `the caseload shows when the next visit is due: ${row}`);
  check(row.includes("17 January 2025") && /Overdue/.test(row), `the due date as people read it, and its status: ${row}`);
  check(/\d+ years old/.test(row), "the child's age");
  await axeCheck(page, "caseload with due dates");
  await shot(page, "caseload-due-dates");
  await page.click(`a[href='#/child/${childRef}']`);
  await page.waitForSelector("h2:text('Visits')");
  const child = await page.textContent("main");
  check(child.includes("C2: Full care order"), "the legal status with its meaning");
  check(child.includes("U1: Foster placement with relatives or friends"), "the placement type with its meaning");
  check(child.includes("10 January 2025") && !child.includes("2025-01-10"), "dates as people read them");
  check(/\d+ years old/.test(child), "the child's age on the child's page");
  await axeCheck(page, "child page with timescales");
  pass("the worker's caseload and child page show the timescales, dates, codes and age");
  const due = await page.evaluate((ref) => {
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    return window.__doorstep.caseload(today).children.find((c) => c.childRef === ref)?.schedule?.nextDue ?? null;
  }, childRef);
  if (manager) {
    const m = await launch("manager");
    const mgr = await open(m);
    await signInByKeyboard(mgr, manager, "Team dashboard");
    await mgr.waitForSelector(`#dashboard-children tr[data-child='${childRef}']`, { timeout: 30_000 });
    const dashboardDue = await mgr.evaluate((ref) => window.__doorstep.dashboard().dashboard.children.find((c) => c.childRef === ref)?.nextDue, childRef);
    check(due === dashboardDue, `the device's due date equals the dashboard's: ${due} and ${dashboardDue}`);
    pass("the device and the dashboard agree on the next visit due");
    await m.close();
  }
  await context.close();
}

// A worker's visit saved to the server, and the team manager signed in on another device.
async function visitForTheManager() {
  const w = await launch("worker");
  const sw = await open(w);
  await signInByKeyboard(sw);
  await waitForChild(sw);
  const id = await recordVisit(sw, "I like my new bike");
  await waitSynced(sw);
  const m = await launch("manager");
  const mgr = await open(m);
  await signInByKeyboard(mgr, manager, "Team dashboard");
  return { w, sw, m, mgr, id };
}

// Bug: after a return every section read "By Team manager"; the worker's caseload moved
// the last visit back while the dashboard kept it; a never-submitted draft counted as the
// last qualifying visit and nothing showed its write-up outstanding.
async function afterReturn() {
  const { w, sw, m, mgr, id } = await visitForTheManager();
  await go(mgr, `#/review/${id}`);
  await mgr.waitForSelector("#decision-form", { timeout: 30_000 });
  await mgr.check("#decision-return");
  await mgr.fill("#decision-comment", "Add the school's view");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("text=Record returned for amendment");
  const observations = await mgr.textContent("#review-sections [data-field=observations]");
  check(observations.includes(user) && !observations.includes(manager), `a return does not change who wrote a section: ${observations}`);
  // The same for a record the server did not receive from a device (stored by an
  // administrator, as the demo council's are): the return must not take its place.
  const stored = process.env.DOORSTEP_STORED_VISIT;
  if (stored) {
    await go(mgr, `#/review/${stored}`);
    await mgr.waitForSelector("#decision-form", { timeout: 30_000 });
    await mgr.check("#decision-return");
    await mgr.fill("#decision-comment", "Add the school's view");
    await mgr.click("#decision-form button[type=submit]");
    await mgr.waitForSelector("text=Record returned for amendment");
    const storedSection = await mgr.textContent("#review-sections [data-field=observations]");
    check(storedSection.includes(user) && !storedSection.includes(manager) && !storedSection.includes("not known"), `a return does not change who wrote a stored record's section: ${storedSection}`);
  }
  pass("after a return each section still names the worker who wrote it");

  await sw.waitForFunction((id) => { try { return window.__doorstep.visit(id).review?.state === "returned"; } catch { return false; } }, id, { timeout: 30_000 });
  await go(mgr, "#/team");
  await mgr.click("[data-action=refresh-dashboard]").catch(() => {});
  await mgr.waitForFunction(() => window.__doorstep.dashboard() !== null, null, { timeout: 30_000 });
  await mgr.waitForTimeout(1500);
  const dashboardLast = await mgr.evaluate((ref) => window.__doorstep.dashboard().dashboard.children.find((c) => c.childRef === ref)?.lastQualifyingVisit, childRef);
  await go(sw, "#/caseload");
  await sw.waitForSelector(`main a[href='#/child/${childRef}']`);
  const workerRow = await sw.evaluate((ref) => document.querySelector(`main a[href='#/child/${ref}']`).closest("tr").textContent, childRef);
  check(dashboardLast && workerRow.includes(longDateOf(dashboardLast)), `the worker's caseload keeps the last visit the dashboard shows (${dashboardLast}): ${workerRow}`);
  pass("after the return the worker's caseload and the dashboard show the same last visit");

  // A visit recorded (date, kind, child seen) but not written up: counts, and its
  // write-up is outstanding on the dashboard.
  const draft = await startVisit(sw, { choices: [["visitKind", "statutory"], ["childSeen", "yes"], ["location", "placement"]] });
  await waitSynced(sw);
  await go(mgr, "#/caseload");
  await go(mgr, "#/team");
  await mgr.waitForSelector("#dashboard-write-ups", { timeout: 30_000 });
  const outstanding = await mgr.textContent("#dashboard-write-ups");
  check(/\d+ days?/.test(outstanding), `the write-up is outstanding, with its days: ${outstanding}`);
  pass("a visit not yet written up shows as outstanding, with days");
  result.visitId = id;
  result.draftId = draft;
  await w.close();
  await m.close();
}
const longDateOf = (iso) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  return m ? `${Number(m[3])} ${months[Number(m[2]) - 1]} ${m[1]}` : iso;
};

// Bug: sign-out offline wiped the device but left the session cookie working; the page after
// the wipe said "You can still unlock with your PIN"; seven wrong PINs: no lockout.
async function signOutAndPin() {
  acceptDialogs = true;
  const context = await launch("sign-out");
  let page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const cookie = (await context.cookies()).find((c) => c.name === "doorstep_session");
  check(cookie, "the browser holds the session cookie");
  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  await page.click("[data-action=sign-out]");
  await page.waitForSelector("#sign-in-form", { timeout: 20_000 });
  const words = `${await page.textContent("#sync-status")} ${await page.textContent("main")}`;
  check(!/unlock with your PIN/i.test(words), `after the wipe nothing says it can be unlocked: ${words}`);
  pass("after an offline sign-out the words are true");
  await context.setOffline(false);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  // The app tells the server at its first contact; give it a moment.
  let status = 0;
  for (let i = 0; i < 50; i++) {
    const answer = await fetch(`${url}/api/caseload`, { headers: { cookie: `doorstep_session=${cookie.value}` } });
    status = answer.status;
    if (status === 401) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  check(status === 401, `the old session cookie stops working after an offline sign-out: ${status}`);
  pass("the offline sign-out revoked the session at the next contact");

  await signInByKeyboard(page);
  await waitForChild(page);
  await page.click("[data-action=lock]");
  await page.waitForSelector("#unlock-form");
  for (let i = 1; i <= 5; i++) {
    await page.fill("#pin", `wrong-${i}`);
    await page.click("#unlock-form button[type=submit]");
    await page.waitForSelector("#error-summary");
  }
  const told = await page.textContent("#error-summary");
  check(/wait/i.test(told), `after 5 wrong PINs the worker is told to wait: ${told}`);
  await page.fill("#pin", PIN);
  await page.click("#unlock-form button[type=submit]");
  await page.waitForSelector("#error-summary");
  check(await page.isVisible("#unlock-form"), "even the right PIN waits until the time is up");
  await axeCheck(page, "unlock, too many wrong PINs");
  pass("wrong PINs: the device waits after 5, and says how many tries are left");
  await context.close();
}

// Bug: a second device of the worker said "Every record is saved to the server" while it
// had not received a visit made on the first. The delivery time is measured (the server's
// push is the lead's part); what the status claims is checked.
async function secondDevice() {
  const { a, b, pageA, pageB } = await twoDevices();
  await waitForChild(pageB);
  await waitSynced(pageB);
  const started = Date.now();
  const id = await startVisit(pageA, { complete: true });
  await waitSynced(pageA);
  const status = await pageB.textContent("#sync-status");
  check(!status.includes("Every record is saved to the server"), `the second device does not claim every record is on it: ${status}`);
  const arrived = await pageB.waitForFunction((id) => { try { const v = window.__doorstep.visit(id); return Boolean(v.visitId); } catch { return false; } }, id, { timeout: 25_000 }).then(() => Date.now() - started).catch(() => null);
  result.secondDeviceMs = arrived;
  pass("the second device's status claims only what is true", { ms: arrived });
  await a.close();
  await b.close();
}

// Bug: a child reallocated while the worker was offline stranded their notes: "Child not
// found", "Sending 2 records…" forever; the revoked-device warning vanished on reload.
async function reallocation() {
  const admin = process.env.DOORSTEP_ADMIN;
  const dataDir = process.env.DOORSTEP_DATA_DIR;
  const context = await launch("reallocated");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const first = await startVisit(page, { complete: true });
  await waitSynced(page);
  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  await page.evaluate((id) => {
    const v = window.__doorstep.visit(id);
    window.__doorstep.editVisit(id, { op: "itemText", list: "voice", index: 0, field: "words", value: `${v.voice[0].words}. I want to stay at my school.` });
  }, first);
  const second = await startVisit(page, { complete: true });
  execFileSync(admin, ["admin", "--data-dir", dataDir, "deallocate", childRef, user]);
  execFileSync(admin, ["admin", "--data-dir", dataDir, "allocate", childRef, "sw-north-2"]);
  await context.setOffline(false);
  // Back online: the caseload is fetched again and the records tried.
  await page.waitForFunction(() => document.getElementById("sync-status")?.dataset.connected === "true", null, { timeout: 30_000 });
  await page.waitForTimeout(4000);
  await go(page, `#/child/${childRef}`);
  await page.waitForSelector("main h1");
  const childText = await page.textContent("main");
  check(!childText.includes("Child not found"), `the child's page still shows the records: ${childText.slice(0, 200)}`);
  const status = await page.textContent("#sync-status");
  const state = await page.evaluate(() => window.__doorstep.syncState());
  result.afterReallocation = { status, state };
  check(!/Sending \d+ records?/.test(status) || state.unsent === 0, `refused records are not shown as being sent: ${status}`);
  pass("after a reallocation the child's records stay visible and are never 'sending' forever", { status });

  // Within the reallocation grace, everything above reached the server. Words typed
  // offline now are unsent when the device, back online, learns it was revoked.
  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  await page.evaluate((id) => {
    const v = window.__doorstep.visit(id);
    window.__doorstep.editVisit(id, { op: "text", field: "analysis", value: `${v.analysis ?? ""} Typed after the last contact.` });
  }, second);
  const offlineState = await page.evaluate(() => window.__doorstep.syncState());
  check(offlineState.unsent >= 1, `the words typed offline are unsent: ${JSON.stringify(offlineState)}`);
  const list = execFileSync(admin, ["admin", "--data-dir", dataDir, "device", "list", user]).toString();
  for (const line of list.trim().split("\n")) {
    const [deviceId, deviceState] = line.split("\t");
    if (deviceState === "active") execFileSync(admin, ["admin", "--data-dir", dataDir, "device", "revoke", deviceId]);
  }
  await context.setOffline(false);
  await page.waitForSelector("#sign-in-form", { timeout: 30_000 });
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  const after = await page.textContent("main");
  check(/revoked/i.test(after) && /records? that had not reached the server/.test(after), `after a reload the worker still reads what the revocation wiped: ${after.slice(0, 300)}`);
  pass("the revoked device's worker is told how many unsent records were wiped, also after a reload");
  result.visitIds = [first, second];
  await context.close();
}

// Bug: the manager's screens: no headline counts, the sign-off queue last without how
// long each record waited, three lines of provenance and internal ids per section, the
// "What changed" table squeezed at tablet width.
async function managerScreens() {
  const { w, sw, m, mgr, id } = await visitForTheManager();
  await mgr.waitForSelector(`#dashboard-awaiting tr[data-visit='${id}']`, { timeout: 30_000 });
  const order = await mgr.evaluate(() => {
    const headline = document.getElementById("dashboard-headline");
    const queue = document.getElementById("dashboard-awaiting");
    const children = document.getElementById("dashboard-children");
    return { headline: Boolean(headline), queueBeforeChildren: Boolean(queue && children && (queue.compareDocumentPosition(children) & Node.DOCUMENT_POSITION_FOLLOWING)) };
  });
  check(order.headline, "the dashboard starts with headline counts");
  check(order.queueBeforeChildren, "the sign-off queue comes before the children table");
  check(/Waiting|Submitted today/.test(await mgr.textContent(`#dashboard-awaiting tr[data-visit='${id}']`)), "the queue says how long each record has waited");
  await axeCheck(mgr, "dashboard with headline counts");
  await shot(mgr, "dashboard-headline");
  pass("headline counts first, the sign-off queue before the children, with waiting times");

  await mgr.click(`#dashboard-awaiting tr[data-visit='${id}'] a`);
  await mgr.waitForSelector("#decision-form");
  const reviewText = await mgr.textContent("#review-sections");
  check(!/Visit reference|Child reference|Worker reference/.test(reviewText), "no internal ids in the review");
  const lines = await mgr.evaluate(() => [...document.querySelectorAll("#review-sections [data-field] dd:last-child")].map((dd) => dd.querySelectorAll("br").length));
  check(lines.every((n) => n === 0), `provenance is one line per section: ${lines.join(",")}`);
  pass("the review's provenance is compact and shows no internal ids");
  await mgr.check("#decision-signOff");
  await mgr.click("#decision-form button[type=submit]");
  await mgr.waitForSelector("text=Record signed off");
  await sw.waitForFunction((id) => { try { return window.__doorstep.visit(id).review?.state === "signedOff"; } catch { return false; } }, id, { timeout: 30_000 });
  await go(sw, `#/visit/${id}/observations`);
  await sw.waitForSelector("#amend-form");
  await sw.fill("#amend-reason", "The carer corrected a detail.");
  await sw.click("#amend-form button[type=submit]");
  await sw.waitForSelector("#observations");
  await sw.fill("#observations", "Relaxed with the carers; showed me the bike he got for his birthday.");
  await go(sw, `#/visit/${id}/check`);
  await sw.waitForSelector("[data-action=submit-visit]");
  await sw.click("[data-action=submit-visit]");
  await sw.waitForSelector("h1:text('Record submitted')");
  await waitSynced(sw);
  await go(mgr, "#/team");
  await mgr.waitForSelector(`#dashboard-awaiting tr[data-visit='${id}'] [data-review-state=amendedAfterSignOff]`, { timeout: 30_000 });
  await mgr.click(`#dashboard-awaiting tr[data-visit='${id}'] a`);
  await mgr.waitForSelector("#signed-version");
  await mgr.setViewportSize({ width: 768, height: 1024 });
  const narrowest = await mgr.evaluate(() => {
    const cells = [...document.querySelectorAll("#differences [data-field] dd, #differences .difference__side")];
    return Math.min(...cells.map((c) => c.getBoundingClientRect().width));
  });
  check(narrowest >= 150, `at tablet width every side of a difference is readable: ${narrowest}px`);
  await axeCheck(mgr, "review differences at tablet width");
  pass("the differences read well at tablet width", { narrowest });
  await w.close();
  await m.close();
}

// With a council policy of a wait after 2 wrong PINs and a wipe after 4 (1-second waits):
// the worker is told each time, and the wipe says what was lost. A device that has not
// reached the server warns from 7 days before the 30 and wipes itself when opened after.
async function pinWipeAndSilence() {
  const context = await launch("pin-wipe");
  let page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  await startVisit(page, { complete: true });
  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  await startVisit(page, { complete: true });
  await page.click("[data-action=lock]");
  await page.waitForSelector("#unlock-form");
  const tryPin = async (pin) => {
    await page.fill("#pin", pin);
    await page.click("#unlock-form button[type=submit]");
    await page.waitForSelector("#error-summary, #sign-in-form", { timeout: 20_000 });
    return page.textContent("main");
  };
  check(/2 more wrong PINs? you will have to wait|After 1 more wrong PIN/.test(await tryPin("wrong-1")), "the first wrong PIN says what comes next");
  check(/Wait 1 second/.test(await tryPin("wrong-2")), "the second makes the device wait");
  await page.waitForTimeout(1200);
  await tryPin("wrong-3");
  await page.waitForTimeout(1200);
  const wiped = await tryPin("wrong-4");
  await page.waitForSelector("#sign-in-form", { timeout: 20_000 });
  const notice = await page.textContent("#wipe-notice");
  check(/Too many wrong PINs/.test(notice) && /2 records that had not reached the server/.test(notice), `the wipe says what was lost: ${notice} (${wiped.slice(0, 100)})`);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("#wipe-notice", { timeout: 20_000 });
  await axeCheck(page, "sign in, after a wipe");
  pass("after too many wrong PINs the device wipes and says how many unsent records went, also after a reload");

  await context.setOffline(false);
  await page.click("[data-action=dismiss-notice]");
  await signInByKeyboard(page);
  await waitForChild(page);
  await page.click("[data-action=lock]");
  await page.waitForSelector("#unlock-form");
  const setLastContact = (daysAgo) => page.evaluate(async (daysAgo) => {
    const db = await new Promise((resolve, reject) => { const r = indexedDB.open("doorstep"); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    const store = db.transaction("vault", "readwrite").objectStore("vault");
    const guard = await new Promise((resolve) => { const r = store.get("guard"); r.onsuccess = () => resolve(r.result); });
    guard.lastContact = Date.now() - daysAgo * 86_400_000;
    await new Promise((resolve) => { const r = db.transaction("vault", "readwrite").objectStore("vault").put(guard, "guard"); r.onsuccess = resolve; });
    db.close();
  }, daysAgo);
  await context.setOffline(true);
  await setLastContact(25);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("#contact-warning", { timeout: 20_000 });
  check(/within 5 days/.test(await page.textContent("#contact-warning")), "the worker is warned before the device wipes itself");
  await setLastContact(31);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("#wipe-notice", { timeout: 20_000 });
  check(/had not reached the server for too long/.test(await page.textContent("#wipe-notice")), "after the days allowed without contact the device wiped itself when opened");
  pass("a device out of contact too long warns, then wipes itself when opened");
  await context.close();
}

// ---------- issue 15: a randomised day of one worker on two devices, and their manager ----------
// DOORSTEP_SEEDS: a seed or a range "A-B"; DOORSTEP_STEPS: steps per seed (default 40).
// Random typing, choosing, adding and removing, lock and unlock, reloads, going offline
// and online on either device, submissions and the manager's decisions, all through
// `window.__doorstep` (the calls the screens make). After every step: nothing typed is
// lost; every conflict is between different answers that both devices gave; the sync
// state tells the truth; at each sync point both devices hold the server's version, and
// the device's timescales equal the dashboard's. Submission is refused exactly when a
// conflict or a problem is open. Typing sends what the field showed (`base`), as the
// screens do, so words that reach a device between reading a field and writing it are kept.

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHOICE_FIELDS = {
  visitKind: ["statutory", "requested", "other"], location: ["placement", "school", "virtual"], announced: ["yes", "no"],
  childSeen: ["yes", "no"], seenAlone: ["yes", "no"], bedroomSeen: ["yes", "no", "notApplicable"], welfareSafeguarded: ["yes", "no"],
  madeBy: ["socialWorker", "personalAdviser"],
};
const TEXT_FIELDS = ["purpose", "observations", "analysis"];
const todayIso = () => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`; };

async function day() {
  const [from, to] = (process.env.DOORSTEP_SEEDS ?? "1").split("-").map(Number);
  const steps = Number(process.env.DOORSTEP_STEPS ?? "40");
  const contexts = { A: await launch("day-a"), B: await launch("day-b"), M: await launch("day-manager") };
  const pages = { A: await open(contexts.A), B: await open(contexts.B), M: await open(contexts.M) };
  result.console = [];
  for (const [d, page] of Object.entries(pages)) {
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") result.console.push(`${d}: ${m.text()}`); });
    page.on("pageerror", (e) => result.console.push(`${d} pageerror: ${e.message}`));
  }
  await signInByKeyboard(pages.A);
  await signInByKeyboard(pages.B);
  await signInByKeyboard(pages.M, manager, "Team dashboard");
  await waitForChild(pages.A);
  await waitForChild(pages.B);
  const offline = { A: false, B: false };
  const seeds = [];
  // How often each thing happened over the seeds (what the invariants were checked against).
  result.stats = {};
  for (let seed = from; seed <= (to || from); seed++) {
    const started = Date.now();
    const log = [];
    try {
      await daySeed(seed, steps, contexts, pages, offline, log);
    } catch (error) {
      result.failedSeed = seed;
      result.log = log;
      throw error;
    }
    seeds.push({ seed, ms: Date.now() - started });
  }
  result.seeds = seeds.length;
  result.msPerSeed = Math.round(seeds.reduce((sum, s) => sum + s.ms, 0) / Math.max(1, seeds.length));
  for (const c of Object.values(contexts)) await c.close();
}

const dv = (page, id) => page.evaluate(({ id, today }) => { try { return window.__doorstep.visit(id, today); } catch (e) { return { error: String(e) }; } }, { id, today: todayIso() });
const devEdit = (page, id, op) => page.evaluate(({ id, op }) => { try { return { ok: true, value: window.__doorstep.editVisit(id, op) ?? null }; } catch (e) { return { ok: false, error: e.message ?? String(e) }; } }, { id, op });
const sameHeads = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

async function daySeed(seed, steps, contexts, pages, offline, log) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const child = seed % 2 === 0 ? childRef : childRef.replace(/\d+$/, (n) => String(Number(n) + 1));
  // Both devices online to start: a fresh visit, on both.
  for (const d of ["A", "B"]) if (offline[d]) { await contexts[d].setOffline(false); offline[d] = false; }
  const id = await pages.A.evaluate(({ child, today }) => window.__doorstep.createVisit(child, today), { child, today: todayIso() });
  await waitSynced(pages.A);
  await fetchOnOther(contexts.B, pages.B, id);
  // What each device typed (tokens per field), and which fields each set to what.
  const typed = { A: [], B: [] };
  // Every field each device (or the manager, for the status) has set in this seed.
  const setBy = { A: {}, B: {}, M: {} };
  let serial = 0;
  const token = (d) => `s${seed}${d}${++serial}`;
  const removedEntries = new Set();
  const kept = (d) => typed[d].filter((t) => !removedEntries.has(t.entry));

  const ensureAmendable = async (d) => {
    const v = await dv(pages[d], id);
    if (v.review?.amendmentRequired) {
      const r = await devEdit(pages[d], id, { op: "amend", reason: `Seed ${seed}: a correction` });
      check(r.ok, `amend on ${d}: ${r.error}`);
    }
  };

  const ops = [
    [10, "type", async (d) => {
      await ensureAmendable(d);
      const v = await dv(pages[d], id);
      const voice = v.voice.length && random() < 0.4 ? Math.floor(random() * v.voice.length) : null;
      const t = token(d);
      if (voice !== null) {
        const entry = v.voice[voice];
        const r = await devEdit(pages[d], id, { op: "itemText", list: "voice", index: voice, field: "words", base: entry.words, value: `${entry.words} ${t}` });
        check(r.ok, `typing on ${d}: ${r.error}`);
        typed[d].push({ token: t, entry: entry.entryId });
        log.push(`   ${t} into the child's words ${entry.entryId.slice(0, 8)}`);
      } else {
        const field = pick(TEXT_FIELDS);
        const r = await devEdit(pages[d], id, { op: "text", field, base: v[field], value: `${v[field]} ${t}` });
        check(r.ok, `typing on ${d}: ${r.error}`);
        typed[d].push({ token: t, field });
        log.push(`   ${t} into ${field}`);
      }
    }],
    [8, "choose", async (d) => {
      await ensureAmendable(d);
      const field = pick(Object.keys(CHOICE_FIELDS));
      const value = pick(CHOICE_FIELDS[field]);
      const r = await devEdit(pages[d], id, { op: "choice", field, value });
      check(r.ok, `choosing on ${d}: ${r.error}`);
      setBy[d][field] = value;
    }],
    [4, "fill in the rest", async (d) => {
      // Answers whatever a submission still needs, as a worker finishing a record does.
      await ensureAmendable(d);
      const v = await dv(pages[d], id);
      const answers = { visitKind: "statutory", location: "placement", childSeen: "yes", seenAlone: "yes", bedroomSeen: "yes", welfareSafeguarded: "yes" };
      for (const [field, value] of Object.entries(answers)) {
        if (v[field] === null || v[field] === undefined) {
          const r = await devEdit(pages[d], id, { op: "choice", field, value });
          check(r.ok, `answering ${field} on ${d}: ${r.error}`);
          setBy[d][field] = value;
        }
      }
      for (const field of TEXT_FIELDS) {
        if (!v[field].trim()) {
          const t = token(d);
          const r = await devEdit(pages[d], id, { op: "text", field, base: v[field], value: t });
          check(r.ok, `writing ${field} on ${d}: ${r.error}`);
          typed[d].push({ token: t, field });
        }
      }
      if (!v.voice.some((e) => e.words.trim())) {
        const added = await devEdit(pages[d], id, { op: "addVoice" });
        check(added.ok, `adding the child's words on ${d}: ${added.error}`);
        const entry = (await dv(pages[d], id)).voice[added.value];
        const t = token(d);
        const r = await devEdit(pages[d], id, { op: "itemText", list: "voice", index: added.value, field: "words", base: entry.words, value: t });
        check(r.ok, `the child's words on ${d}: ${r.error}`);
        typed[d].push({ token: t, entry: entry.entryId });
      }
      for (const [index, e] of v.voice.entries()) {
        if (e.scale !== null && !e.scaleQuestion.trim()) await devEdit(pages[d], id, { op: "itemText", list: "voice", index, field: "scaleQuestion", base: e.scaleQuestion, value: "How are you?" });
      }
    }],
    [4, "answer apart on both devices", async () => {
      // Both devices offline answer the same question, differently or (sometimes) alike.
      for (const who of ["A", "B"]) if (!offline[who]) { offline[who] = true; await contexts[who].setOffline(true); }
      for (const who of ["A", "B"]) await ensureAmendable(who);
      const field = pick(["welfareSafeguarded", "seenAlone", "bedroomSeen", "location", "announced"]);
      const values = CHOICE_FIELDS[field];
      const first = pick(values);
      const second = random() < 0.3 ? first : pick(values);
      for (const [who, value] of [["A", first], ["B", second]]) {
        const r = await devEdit(pages[who], id, { op: "choice", field, value });
        check(r.ok, `answering ${field} on ${who}: ${r.error}`);
        setBy[who][field] = value;
      }
      result.stats[first === second ? "answered alike apart" : "answered differently apart"] = (result.stats[first === second ? "answered alike apart" : "answered differently apart"] ?? 0) + 1;
    }],
    [3, "add voice", async (d) => {
      await ensureAmendable(d);
      const r = await devEdit(pages[d], id, { op: "addVoice" });
      check(r.ok, `adding a voice entry on ${d}: ${r.error}`);
    }],
    [2, "add person", async (d) => {
      await ensureAmendable(d);
      const r = await devEdit(pages[d], id, { op: "addPerson", name: token(d), role: "carer" });
      check(r.ok, `adding a person on ${d}: ${r.error}`);
    }],
    [2, "add action", async (d) => {
      await ensureAmendable(d);
      const complete = random() < 0.6;
      const r = await devEdit(pages[d], id, { op: "addAction", description: complete ? `Action ${token(d)}` : "", ownerType: "carer", ownerName: complete ? "Sam" : "", dueDate: complete ? "2027-02-01" : "" });
      check(r.ok === complete, `an action is added exactly when complete (${complete}): ${r.error}`);
    }],
    [2, "remove", async (d) => {
      await ensureAmendable(d);
      const v = await dv(pages[d], id);
      const lists = ["personsPresent", "voice", "actions"].filter((l) => v[l].length);
      if (!lists.length) return;
      const list = pick(lists);
      const index = Math.floor(random() * v[list].length);
      const entry = v[list][index];
      const entryId = entry.personId ?? entry.entryId ?? entry.actionId ?? "";
      const r = await devEdit(pages[d], id, { op: "remove", list, index, id: entryId });
      check(r.ok, `removing on ${d}: ${r.error}`);
      log.push(`   removed ${list} ${String(entryId).slice(0, 8)}`);
      // Words typed into this entry, here or (concurrently) on the other device, go with it:
      // a removal wins over concurrent typing (the words stay in the record's history).
      if (list === "voice") removedEntries.add(entryId);
    }],
    [4, "resolve", async (d) => {
      // A person chooses, for every answer in dispute on this device.
      for (let round = 0; round < 10; round++) {
        const v = await dv(pages[d], id);
        if (!v.conflicts.length) return;
        await ensureAmendable(d);
        const conflict = v.conflicts[0];
        const r = await devEdit(pages[d], id, { op: "resolve", field: conflict.field, choice: Math.floor(random() * conflict.candidates.length) });
        check(r.ok, `resolving on ${d}: ${r.error}`);
        result.stats["conflicts resolved"] = (result.stats["conflicts resolved"] ?? 0) + 1;
      }
    }],
    [4, "submit", async (d) => {
      await ensureAmendable(d);
      const v = await dv(pages[d], id);
      const r = await devEdit(pages[d], id, { op: "submit", today: todayIso() });
      if (r.ok) setBy[d].status = "submitted";
      const outcome = r.ok ? "submit accepted" : v.conflicts.length ? "submit refused: conflict" : "submit refused: problems";
      result.stats[outcome] = (result.stats[outcome] ?? 0) + 1;
      const open = v.problems.length > 0 || v.conflicts.length > 0;
      check(r.ok !== open, `submit is refused exactly when a conflict or problem is open (open: ${open}, ${JSON.stringify(v.problems.map((p) => p.field))}, refused: ${!r.ok})`);
      if (v.conflicts.length) check(!r.ok, "an open conflict always stops submission");
    }],
    [2, "lock and unlock", async (d) => {
      await pages[d].evaluate(() => window.__doorstep.lock());
      await pages[d].evaluate((pin) => window.__doorstep.unlock(pin), PIN);
      await pages[d].waitForFunction((id) => { try { return !window.__doorstep.visit(id).loading; } catch { return false; } }, id, { timeout: 20_000 });
    }],
    [1, "reload", async (d) => {
      await pages[d].reload({ waitUntil: "load" });
      await pages[d].waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      await pages[d].evaluate((pin) => window.__doorstep.unlock(pin), PIN);
      await pages[d].waitForFunction((id) => { try { return !window.__doorstep.visit(id).loading; } catch { return false; } }, id, { timeout: 20_000 });
    }],
    [4, "offline or online", async (d) => {
      offline[d] = !offline[d];
      await contexts[d].setOffline(offline[d]);
    }],
    [2, "manager decides", async () => {
      const review = await pages.M.evaluate((id) => window.__doorstep.review(id).catch((e) => ({ error: e.message })), id);
      if (review.error || !["submitted", "amendedAfterSignOff", "resubmitted"].includes(review.reviewState)) return;
      const decision = review.conflicts?.length || random() < 0.5 ? "return" : "signOff";
      if (decision === "return") setBy.M.status = "draft";
      result.stats[`manager: ${decision}`] = (result.stats[`manager: ${decision}`] ?? 0) + 1;
      await pages.M.evaluate(({ id, decision, heads }) => window.__doorstep.decide(id, decision, decision === "return" ? "Please add more" : "Fine", heads).catch((e) => ({ error: e.message })), { id, decision, heads: review.heads });
    }],
  ];
  const total = ops.reduce((sum, [w]) => sum + w, 0);
  const choose = () => { let r = random() * total; for (const op of ops) { r -= op[0]; if (r < 0) return op; } return ops[0]; };

  const invariants = async (label) => {
    for (const d of ["A", "B"]) {
      const v = await dv(pages[d], id);
      check(!v.error && !v.loading, `${d} reads the record (${label}): ${v.error}`);
      const text = [v.purpose, v.observations, v.analysis, ...v.voice.map((e) => e.words)].join(" ");
      const lost = kept(d).filter((t) => !text.includes(t.token));
      check(lost.length === 0, `nothing ${d} typed is lost (${label}): ${lost.map((t) => t.token).join(",")}`);
      if (v.conflicts.length) result.stats["steps with a conflict open"] = (result.stats["steps with a conflict open"] ?? 0) + 1;
      for (const c of v.conflicts) {
        check(new Set(c.candidates).size === c.candidates.length, `a conflict is between different answers (${label}): ${JSON.stringify(c)}`);
        const writers = ["A", "B", "M"].filter((who) => c.field in setBy[who]).length;
        check(writers >= 2, `a conflict only where two writers answered (${label}): ${c.field}`);
      }
      const state = await pages[d].evaluate(() => window.__doorstep.syncState());
      check(!state.allSaved || (state.connected && state.unsent === 0 && state.refused === 0), `${d}'s sync state is consistent (${label}): ${JSON.stringify(state)}`);
    }
  };

  const syncPoint = async (label) => {
    for (const d of ["A", "B"]) if (offline[d]) { await contexts[d].setOffline(false); offline[d] = false; }
    for (const d of ["A", "B"]) {
      const saved = await pages[d].waitForFunction(() => window.__doorstep.syncState().allSaved, null, { timeout: 30_000 }).then(() => true).catch(() => false);
      if (!saved) {
        const state = await pages[d].evaluate(() => window.__doorstep.syncState());
        const status = await pages[d].textContent("#sync-status");
        check(false, `${d} says every record is saved within 30 s of going online (${label}): ${JSON.stringify(state)} ${status}`);
      }
    }
    // Each device holds the other's changes: the same version.
    let a; let b;
    for (let i = 0; i < 100; i++) {
      a = await dv(pages.A, id); b = await dv(pages.B, id);
      if (sameHeads(a.heads, b.heads)) break;
      await pages.A.waitForTimeout(100);
    }
    check(sameHeads(a.heads, b.heads), `both devices hold the same version (${label})`);
    // "Every record is saved" is true: the server holds that version.
    const review = await pages.M.evaluate((id) => window.__doorstep.review(id), id);
    check(sameHeads(review.heads, a.heads), `the server holds what the devices say is saved (${label})`);
    for (const d of ["A", "B"]) {
      const text = [a.purpose, a.observations, a.analysis, ...a.voice.map((e) => e.words)].join(" ");
      const lost = kept(d).filter((t) => !text.includes(t.token));
      check(lost.length === 0, `after syncing nothing ${d} typed is lost (${label}): ${lost.map((t) => t.token).join(",")}`);
    }
    // The device's timescales for the child equal the dashboard's.
    await pages.M.evaluate(() => window.__doorstep.refreshDashboard());
    const row = await pages.M.evaluate((child) => window.__doorstep.dashboard().dashboard.children.find((c) => c.childRef === child), child);
    const mine = await pages.A.evaluate(({ child, today }) => window.__doorstep.caseload(today).children.find((c) => c.childRef === child)?.schedule, { child, today: todayIso() });
    check(mine && row, `both have the child's timescales (${label})`);
    check(mine.nextDue === row.nextDue && mine.rule === row.ruleId && mine.status === row.status && mine.lastQualifyingVisit === row.lastQualifyingVisit,
      `the device's timescales equal the dashboard's (${label}): ${JSON.stringify(mine)} ${JSON.stringify({ nextDue: row.nextDue, rule: row.ruleId, status: row.status, last: row.lastQualifyingVisit })}`);
  };

  for (let step = 1; step <= steps; step++) {
    const [, name, run] = choose();
    const d = random() < 0.5 ? "A" : "B";
    log.push(`${step}: ${name} on ${d}${offline[d] ? " (offline)" : ""}`);
    result.stats[name] = (result.stats[name] ?? 0) + 1;
    await run(d);
    await invariants(`seed ${seed}, step ${step}, ${name} on ${d}`);
    if (step % 10 === 0 || step === steps) await syncPoint(`seed ${seed}, step ${step}`);
  }
  pass(`seed ${seed}`, { steps });
}


// Issue 13: a record deleted after its retention leaves every device that held it. The
// device holds the child's records; offline, the administrator deletes the record; back
// online, the caseload's `erased` makes the device delete its sealed copies.
async function chunkKeys(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open("doorstep");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const keys = await new Promise((resolve) => {
      const request = db.transaction("chunks").objectStore("chunks").getAllKeys();
      request.onsuccess = () => resolve(request.result.map(String));
    });
    db.close();
    return keys;
  });
}

async function retentionErased() {
  const admin = process.env.DOORSTEP_ADMIN;
  const dataDir = process.env.DOORSTEP_DATA_DIR;
  const context = await launch("retention");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const id = await startVisit(page, { complete: true });
  await waitSynced(page);
  const before = await chunkKeys(page);
  check(before.some((key) => key.startsWith(`${id}/`)), "the visit is stored on the device");
  pass("the device holds the child's records", { chunks: before.length });

  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  execFileSync(admin, ["admin", "--data-dir", dataDir, "retention", "delete", childRef, "--reason", "retention period over"]);
  const tombstones = JSON.parse(execFileSync(admin, ["admin", "--data-dir", dataDir, "retention", "deletions"]).toString());
  const erased = tombstones[0].documents;
  check(erased.includes(id) && erased.length >= 2, `the tombstone names the visit and the child document: ${erased}`);
  check(before.some((key) => erased.some((doc) => doc !== id && key.startsWith(`${doc}/`))), "the child document is on the device too");

  await context.setOffline(false);
  let left = before;
  for (let i = 0; i < 60; i++) {
    left = (await chunkKeys(page)).filter((key) => erased.some((doc) => key.startsWith(`${doc}/`)));
    if (left.length === 0) break;
    await page.waitForTimeout(500);
  }
  check(left.length === 0, `the device still holds chunks of the deleted record: ${left}`);
  const others = (await chunkKeys(page)).length;
  check(others > 0, "the device keeps the other children's records");
  await go(page, "#/");
  await page.waitForTimeout(500);
  check(!(await page.textContent("main")).includes(childRef), "the caseload no longer lists the child");
  pass("back online: the device deleted its copies of the deleted record", { chunksLeft: others });

  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  const afterReload = (await chunkKeys(page)).filter((key) => erased.some((doc) => key.startsWith(`${doc}/`)));
  check(afterReload.length === 0, "nothing of it comes back after a reload");
  check(!(await page.textContent("main")).includes(childRef), "nor on the caseload after a reload");
  pass("after a reload the record is still gone");
  await context.close();
}

// Issue 13 part 3: a child restricted to others leaves the devices of those who may no
// longer see it. The team manager's device holds the team's records (the child's document
// and a visit); offline, the administrator marks the child restricted without naming the
// manager; back online, the caseload no longer lists it and the device deletes its sealed
// copies of the child's records, keeping the rest of the team's.
async function restrictedLeavesDevice() {
  const admin = process.env.DOORSTEP_ADMIN;
  const dataDir = process.env.DOORSTEP_DATA_DIR;
  const gone = process.env.DOORSTEP_GONE_DOCUMENTS.split(",");
  const kept = process.env.DOORSTEP_KEPT_DOCUMENT;
  const context = await launch("restricted-manager");
  const page = await open(context);
  await signInByKeyboard(page, manager, "Team dashboard");
  const holding = async (ids) => (await chunkKeys(page)).filter((key) => ids.some((doc) => key.startsWith(`${doc}/`)));
  let held = [];
  for (let i = 0; i < 60 && (held.length === 0 || !gone.every((doc) => held.some((key) => key.startsWith(`${doc}/`)))); i++) {
    await page.waitForTimeout(500);
    held = await holding(gone);
  }
  check(gone.every((doc) => held.some((key) => key.startsWith(`${doc}/`))), `the manager's device holds the child's records: ${held}`);
  check((await holding([kept])).length > 0, "and another child's record");
  pass("the manager's device holds the team's records", { chunks: held.length });

  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  execFileSync(admin, ["admin", "--data-dir", dataDir, "restricted", "mark", childRef, "--reason", "court order"]);
  await context.setOffline(false);
  let left = held;
  for (let i = 0; i < 60 && left.length > 0; i++) {
    await page.waitForTimeout(500);
    left = await holding(gone);
  }
  check(left.length === 0, `the device still holds the restricted child's records: ${left}`);
  check((await holding([kept])).length > 0, "the device keeps the other child's record");
  pass("back online: the device deleted its copies of the restricted child's records");

  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  await page.waitForTimeout(1000);
  check((await holding(gone)).length === 0, "nothing of it comes back after a reload");
  check((await holding([kept])).length > 0, "the other child's record is still there after a reload");
  pass("after a reload the restricted child's records are still gone");
  await context.close();
}

// Issue 13 part 4, the manager's side: correcting a misfiled record from the review
// screen. Nothing chosen gets the error summary; then the passage is removed with a reason
// and a confirmation, and the review opens on the new record, which says it was corrected.
async function managerCorrection() {
  const visit = process.env.DOORSTEP_VISIT;
  const context = await launch("manager-correction");
  const page = await open(context);
  await signInByKeyboard(page, manager, "Team dashboard");
  await go(page, `#/review/${visit}`);
  await page.waitForSelector("#correct-record");
  await page.click("#correct-record summary");
  await page.click("#correction-form button[type=submit]");
  await page.waitForSelector("#error-summary");
  const summary = await page.textContent("#error-summary");
  check(summary.includes("Select how this record is wrong") && summary.includes("Confirm the correction"), `error summary: ${summary}`);
  await axeCheck(page, "correction form with errors");
  pass("an empty correction is refused with an error summary");
  await page.check("#correct-expunge");
  await page.fill("#correct-passage", PASSAGE);
  await page.fill("#correct-reason", "Another family's details typed in error");
  await page.check("#correct-confirm");
  await page.click("#correction-form button[type=submit]");
  await page.waitForFunction((old) => location.hash.startsWith("#/review/") && !location.hash.includes(old), visit, { timeout: 20_000 });
  await page.waitForSelector("#review-sections", { timeout: 20_000 });
  const replacement = decodeURIComponent(await page.evaluate(() => location.hash.split("/")[2]));
  const sections = await page.textContent("#review-sections");
  check(!sections.includes("Acacia") && sections.includes("Seen at home."), `the new record: ${sections}`);
  check((await page.textContent("main")).includes("Content removed from every version"), "no notice of the correction");
  await axeCheck(page, "corrected review");
  await shot(page, "manager-correction");
  pass("the manager removed the passage", { replacement });
  result.replacement = replacement;
  await context.close();
}

// Issue 13 part 3: asking for break-glass access from the app. An empty form gets the
// error summary; a reason and a child of the team outside the caseload open it for
// reading, and the child is then on the device's caseload.
async function breakGlassForm() {
  const other = process.env.DOORSTEP_OTHER_CHILD;
  const context = await launch("break-glass-form");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  await page.click("#break-glass-link");
  await page.waitForSelector("#break-glass-form");
  await page.click("#break-glass-form button[type=submit]");
  await page.waitForSelector(".error-summary");
  const summary = await page.textContent(".error-summary");
  check(summary.includes("case reference") && summary.includes("why you need"), `error summary: ${summary}`);
  await axeCheck(page, "break-glass form with errors");
  pass("an empty request is refused with an error summary");
  await page.fill("#break-glass-child", "C-NOPE");
  await page.fill("#break-glass-reason", "Emergency out of hours: police called about the child");
  await page.click("#break-glass-form button[type=submit]");
  const absent = await page.waitForFunction(() => document.querySelector(".error-summary")?.textContent.includes("no child with reference"), null, { timeout: 20_000 }).then(() => true).catch(() => false);
  check(absent, "an unknown child is refused as absent");
  await page.fill("#break-glass-child", other);
  await page.click("#break-glass-form button[type=submit]");
  await page.waitForSelector("#break-glass-granted", { timeout: 20_000 });
  await axeCheck(page, "break-glass granted");
  await shot(page, "break-glass-granted");
  pass("the request is granted");
  await go(page, "#/caseload");
  await page.waitForFunction((other) => document.querySelector(`[data-child="${other}"]`), other, { timeout: 20_000 });
  pass("the child is on the caseload for now");
  await context.close();
}

// Issue 13 part 4: the passage the correction scenarios expunge, and their helpers.
const PASSAGE = "the Smith family at 12 Acacia Road";

async function apiSignIn(username) {
  const answer = await fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password, deviceLabel: "manager laptop" }),
  });
  check(answer.status === 201, `${username} cannot sign in: ${answer.status}`);
  return (await answer.json()).token;
}

async function holdsOnly(page, gone, kept) {
  const keys = await chunkKeys(page);
  return !keys.some((key) => key.startsWith(`${gone}/`)) && keys.some((key) => key.startsWith(`${kept}/`));
}


// Issue 13 part 4, `record_corrections.rs`: the expunge seen from the worker's two devices,
// checked through the device's own search of what it stores (`holdsText`, which opens
// every sealed record and chunk as the device does). A typed the passage and synced; B
// received it, went offline, typed after and inside it, added an action and answered the
// kind of visit. The manager expunges it. A reloads: the old document is gone, the new one
// has no passage, and A answers the kind of visit differently on it. B comes back: its
// typing and action are carried over, its answer (which now differs from A's) is set
// aside on the visit screen, the passage is on neither device, and a reload of B carries
// nothing over twice.
const holds = (page, needle) => page.evaluate((needle) => window.__doorstep.holdsText(needle), needle);
const reloadAndUnlock = async (page) => {
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
};
const loaded = (page, id) => page.waitForFunction((id) => { try { const v = window.__doorstep.visit(id); return v != null && !v.loading && Boolean(v.visitId); } catch { return false; } }, id, { timeout: 30_000 });
const count = (text, part) => text.split(part).length - 1;

async function correctionsExpunge() {
  const { a, b, pageA, pageB, id } = await twoDevicesWithVisit({ complete: true });
  await pageA.evaluate(({ id, text }) => window.__doorstep.editVisit(id, { op: "text", field: "observations", value: text }),
    { id, text: `Seen at home. Mentioned ${PASSAGE} by mistake.` });
  await waitSynced(pageA);
  await pageB.waitForFunction((id) => window.__doorstep.visit(id).observations?.includes("Acacia"), id, { timeout: 30_000 });
  for (const [name, page] of [["A", pageA], ["B", pageB]]) check(await holds(page, PASSAGE), `the search does not find the passage on device ${name}`);
  check(!(await holds(pageA, "Zanzibar")), "the search finds what is not there");
  pass("both devices hold the passage, and the search finds it");

  await b.setOffline(true);
  await pageB.waitForFunction(() => !navigator.onLine);
  await pageB.evaluate((id) => {
    const device = window.__doorstep;
    const typed = device.visit(id).observations.replace("Road", "Rd").replace("by mistake.", "by mistake. Child was cheerful.");
    device.editVisit(id, { op: "text", field: "observations", value: typed });
    device.editVisit(id, { op: "addAction", description: "Book the dentist", ownerType: "carer", ownerName: "Sam", dueDate: "2026-12-20" });
    device.editVisit(id, { op: "choice", field: "visitKind", value: "requested" });
  }, id);
  await pageB.waitForFunction(() => window.__doorstep.syncState().saving === 0, null, { timeout: 20_000 });
  check(await holds(pageB, "Acacia Rd"), "device B's offline typing is not stored");
  pass("device B typed after and inside the passage, added an action and answered the kind of visit offline");

  const token = await apiSignIn(manager);
  const answer = await fetch(`${url}/api/visits/${id}/expunge`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ passages: [PASSAGE], reason: "another family's details", confirm: true }),
  });
  const corrected = await answer.json();
  check(answer.status === 200, `the expunge was refused: ${answer.status} ${JSON.stringify(corrected)}`);
  const replacement = corrected.replacement;
  check(replacement && replacement !== id, `no new document: ${JSON.stringify(corrected)}`);
  pass("the manager expunged the passage", { replacement });

  // A reloads: the caseload names the new document and the old one's correction.
  await reloadAndUnlock(pageA);
  let replaced = false;
  for (let i = 0; i < 60 && !replaced; i++) {
    replaced = await holdsOnly(pageA, id, replacement);
    if (!replaced) await pageA.waitForTimeout(500);
  }
  check(replaced, "device A still holds the old document, or not the new one");
  await loaded(pageA, replacement);
  const onA = await pageA.evaluate((id) => window.__doorstep.visit(id).observations, replacement);
  check(!onA.includes("Acacia") && onA.includes("Seen at home."), `device A's new record: ${onA}`);
  await pageA.evaluate((id) => window.__doorstep.editVisit(id, { op: "choice", field: "visitKind", value: "other" }), replacement);
  await waitSynced(pageA);
  // As with the chunks above, what the device stores settles: wait for it (10 s) and say
  // where the passage still was if it never goes.
  for (const needle of [PASSAGE, "Acacia"]) {
    let held = true;
    for (let i = 0; i < 20 && held; i++) {
      held = await holds(pageA, needle);
      if (held) await pageA.waitForTimeout(500);
    }
    if (held) result.heldOnA = { needle, chunks: await chunkKeys(pageA), documents: await pageA.evaluate(() => window.__doorstep.syncState()) };
    check(!held, `device A still holds "${needle}"`);
  }
  pass("device A replaced the old document after a reload, and answered the kind of visit on the new one");

  await b.setOffline(false);
  replaced = false;
  for (let i = 0; i < 60 && !replaced; i++) {
    replaced = await holdsOnly(pageB, id, replacement);
    if (!replaced) await pageB.waitForTimeout(500);
  }
  check(replaced, "device B still holds the old document, or not the new one");
  await waitSynced(pageB);
  const onB = await pageB.evaluate((id) => window.__doorstep.visit(id), replacement);
  check(count(onB.observations, "Child was cheerful.") === 1, `B's own typing: ${onB.observations}`);
  for (const fragment of ["Acacia", "Smith", "Rd"]) check(!onB.observations.includes(fragment), `"${fragment}" came back: ${onB.observations}`);
  check(onB.actions.filter((action) => action.description === "Book the dentist").length === 1, `B's action: ${JSON.stringify(onB.actions)}`);
  check(onB.visitKind === "other", `A's answer was overwritten: ${onB.visitKind}`);
  check(onB.corrections.length === 1 && onB.corrections[0].kind === "expunged", "the record does not say it was corrected");
  for (const [name, page] of [["A", pageA], ["B", pageB]]) {
    for (const needle of [PASSAGE, "Acacia"]) check(!(await holds(page, needle)), `device ${name} holds "${needle}"`);
    const text = await idbPlaintext(page, ["Acacia", "Child was cheerful"]);
    check(text.found.length === 0, `device ${name} stores record text in the clear: ${text.found}`);
  }
  pass("device B carried its offline work over; the passage is on no device");

  await go(pageB, `#/visit/${replacement}`);
  await pageB.waitForSelector("#corrections");
  const notice = await pageB.textContent("#corrections");
  check(/Corrected on \d{1,2} [A-Z][a-z]+ \d{4} by .+: content removed from this record\. Reason: another family's details/.test(notice), `the correction notice: ${notice}`);
  await pageB.waitForSelector("#set-aside");
  const banner = await pageB.textContent("#set-aside");
  check(banner.includes("could not be merged") && banner.includes("Re-enter what is still right"), `the set-aside banner: ${banner}`);
  check(banner.includes("Kind of visit"), `B's answer set aside is not listed: ${banner}`);
  check(!banner.includes("Acacia"), `the banner shows the passage: ${banner}`);
  await axeCheck(pageB, "corrected visit with changes set aside");
  await shot(pageB, "corrected-visit-set-aside");
  // Dismissed with the keyboard alone.
  await pageB.focus("#dismiss-set-aside");
  await pageB.keyboard.press("Enter");
  await pageB.waitForSelector("#set-aside", { state: "detached", timeout: 10_000 });
  pass("the visit says it was corrected, lists B's answer set aside, and the list is dismissed by keyboard");

  // A reload carries nothing over twice, and the dismissed list stays dismissed.
  await reloadAndUnlock(pageB);
  await loaded(pageB, replacement);
  await waitSynced(pageB);
  await pageB.waitForTimeout(1000);
  const again = await pageB.evaluate((id) => window.__doorstep.visit(id), replacement);
  check(count(again.observations, "Child was cheerful.") === 1, `after a reload: ${again.observations}`);
  check(again.actions.filter((action) => action.description === "Book the dentist").length === 1, `after a reload: ${JSON.stringify(again.actions)}`);
  check(!(await chunkKeys(pageB)).some((key) => key.startsWith(`${id}/`)), "the old document came back after a reload");
  await go(pageB, `#/visit/${replacement}`);
  await pageB.waitForSelector("#corrections");
  check(!(await pageB.$("#set-aside")), "the dismissed changes came back");
  check(!(await holds(pageB, "Acacia")), "device B holds the passage after a reload");
  pass("after a reload nothing is carried over twice");
  result.old = id;
  result.replacement = replacement;
  // Checked last, so a failure here says only this: the answer set aside is the worker's
  // own, in its words.
  check(banner.includes("Your version: Requested"), `B's own answer is not listed as it was given: ${banner}`);
  await a.close();
  await b.close();
}

// Issue 13 part 4, `record_corrections.rs`: a visit recorded against the wrong child of
// the same worker is moved by the manager; after a refresh the device files it under the
// right child, the old child's page no longer lists it, and it says it was moved.
async function correctionsMove() {
  const other = process.env.DOORSTEP_OTHER_CHILD;
  const context = await launch("mover");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const id = await startVisit(page, { complete: true });
  await waitSynced(page);
  await go(page, `#/child/${childRef}`);
  await page.waitForSelector(`tr[data-visit="${id}"]`, { timeout: 20_000 });
  pass("the visit is listed under the child it was recorded against");

  const token = await apiSignIn(manager);
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const review = await (await fetch(`${url}/api/visits/${id}/review`, { headers })).json();
  const answer = await fetch(`${url}/api/visits/${id}/move`, {
    method: "POST",
    headers,
    body: JSON.stringify({ toChildRef: other, reason: "recorded against the wrong child", heads: review.heads, confirm: true }),
  });
  const moved = await answer.json();
  check(answer.status === 200, `the move was refused: ${answer.status} ${JSON.stringify(moved)}`);
  pass("the manager moved the visit", { moved });

  await reloadAndUnlock(page);
  await page.waitForFunction(({ id, other }) => { try { return window.__doorstep.visit(id).childId === other; } catch { return false; } }, { id, other }, { timeout: 30_000 });
  await go(page, `#/child/${other}`);
  await page.waitForSelector(`tr[data-visit="${id}"]`, { timeout: 20_000 });
  await go(page, `#/child/${childRef}`);
  await page.waitForFunction((ref) => document.querySelector("h1")?.textContent && !location.hash.includes("visit") && location.hash.endsWith(ref), childRef);
  await page.waitForTimeout(500);
  check(!(await page.$(`tr[data-visit="${id}"]`)), "the old child's page still lists the visit");
  pass("after a refresh the visit is under the right child only");
  await go(page, `#/visit/${id}`);
  await page.waitForSelector("#corrections");
  const notice = await page.textContent("#corrections");
  check(/Corrected on \d{1,2} [A-Z][a-z]+ \d{4} by .+: moved from another child's record\. Reason: recorded against the wrong child/.test(notice), `the correction notice: ${notice}`);
  await axeCheck(page, "moved visit");
  await waitSynced(page);
  pass("the visit says it was moved");
  result.document = id;
  await context.close();
}

// Bug (seen once in 200 seeds of the randomised day): locking and unlocking in quick
// succession let a storage result meant for the core of one unlock reach the core of the
// next, which numbers its tasks from 0 too: a record loaded as another's result, or as
// empty, sat at "Sending 1 record" for ever. Locks and unlocks racing each other (a double
// tap on Unlock, the lock timer firing mid-unlock) must leave every record whole and sent.
async function lockStorm() {
  const context = await launch("lock-storm");
  const page = await open(context);
  await signInByKeyboard(page);
  await waitForChild(page);
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push(await startVisit(page));
  const words = (i, round) => `Visit ${i}, round ${round}: what the child said in their own words`;
  const snapshot = () => page.evaluate((ids) => ids.map((id) => {
    const v = window.__doorstep.visit(id);
    return v ? v.observations ?? null : "missing";
  }), ids);
  for (let round = 0; round < 8; round++) {
    const outcome = await page.evaluate(async ({ ids, round, pin }) => {
      const device = window.__doorstep;
      ids.forEach((id, i) => device.editVisit(id, { op: "text", field: "observations", value: `Visit ${i}, round ${round}: what the child said in their own words` }));
      // Lock while the edits are being stored, unlock twice at once, lock mid-unlock, unlock.
      const settled = [];
      settled.push(device.lock());
      settled.push(device.unlock(pin), device.unlock(pin));
      await new Promise((r) => setTimeout(r, round * 3));
      settled.push(device.lock());
      await Promise.allSettled(settled);
      await device.unlock(pin);
      return device.status();
    }, { ids, round, pin: PIN });
    check(outcome === "unlocked", `round ${round}: unlocked at the end (${outcome})`);
    const expected = ids.map((_, i) => words(i, round));
    const loaded = await page.waitForFunction((ids) => ids.every((id) => { try { const v = window.__doorstep.visit(id); return v != null && !v.loading; } catch { return false; } }), ids, { timeout: 20_000 }).then(() => true).catch(() => false);
    check(loaded, `round ${round}: every record loads again after the lock storm`);
    const now = await snapshot();
    check(JSON.stringify(now) === JSON.stringify(expected), `round ${round}: every record holds its own words: ${JSON.stringify(now)}`);
  }
  const saved = await page.waitForFunction(() => window.__doorstep.syncState().allSaved, null, { timeout: 30_000 }).then(() => true).catch(() => false);
  check(saved, `every record reaches the server after the lock storm: ${JSON.stringify(await page.evaluate(() => window.__doorstep.syncState()))}`);
  pass("locks and unlocks racing each other leave every record whole, and all are sent");
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  await unlock(page);
  await page.waitForFunction((ids) => ids.every((id) => { try { const v = window.__doorstep.visit(id); return v != null && !v.loading; } catch { return false; } }), ids, { timeout: 20_000 });
  const afterReload = await snapshot();
  check(JSON.stringify(afterReload) === JSON.stringify(ids.map((_, i) => words(i, 7))), `after a reload every record still holds its words: ${JSON.stringify(afterReload)}`);
  pass("after a reload every record is whole");
  await context.close();
}

const scenario = process.argv[2];
const scenarios = {
  "offline-visit": offlineVisit, conflict, revoked, oversight, handover, "dashboard-offline": dashboardOffline, "break-glass-dashboard": breakGlassDashboard, "bench-open": benchOpen,
  "identical-answers": identicalAnswers, "open-conflict": openConflict, "dependent-answers": dependentAnswers,
  "unlock-returns": unlockReturns, actions, "check-answers": checkAnswers, "kind-and-place": kindAndPlace,
  timescales, "after-return": afterReturn, "sign-out-and-pin": signOutAndPin, "second-device": secondDevice,
  reallocation, "manager-screens": managerScreens, day, "pin-wipe-and-silence": pinWipeAndSilence,
  "retention-erased": retentionErased, "lock-storm": lockStorm, "break-glass-form": breakGlassForm, "manager-correction": managerCorrection,
  "restricted-leaves-device": restrictedLeavesDevice,
  "corrections-expunge": correctionsExpunge, "corrections-move": correctionsMove,
};
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await scenarios[scenario]();
  result.ok = true;
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(error.stack ?? String(error));
  if (openPages.length > 1) {
    result.otherPages = await Promise.all(openPages.filter((p) => p !== lastPage).map((p) => p.textContent("main").catch(() => null)));
  }
  if (lastPage) {
    result.mainText = await lastPage.textContent("main").catch(() => null);
    result.status = await lastPage.textContent("#sync-status").catch(() => null);
    await lastPage.screenshot({ path: join(profileRoot, "failure.png") }).catch(() => {});
  }
  console.error(JSON.stringify(result));
  process.exit(1);
}
