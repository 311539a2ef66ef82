// End-to-end tests of the social worker's PWA in Debian's headless Chromium (playwright-core).
// Run by tests/tests/pwa.rs against a real Doorstep server with a test council. Environment:
//   DOORSTEP_URL        http://127.0.0.1:PORT
//   DOORSTEP_USER       a social worker, DOORSTEP_PASSWORD its password
//   DOORSTEP_CHILD      a child reference on that worker's caseload
//   DOORSTEP_PROFILE    a scratch directory for browser profiles
//   CHROMIUM            the browser (default /usr/bin/chromium)
//   DOORSTEP_ADMIN, DOORSTEP_DATA_DIR   (revoked) the doorstep-server binary and data dir
//   DOORSTEP_MANAGER    (oversight, dashboard-offline) the child's team manager
// Usage: node pwa.mjs offline-visit | conflict | revoked | oversight | handover | dashboard-offline
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
async function open(context) {
  const page = context.pages()[0] ?? (await context.newPage());
  openPages.push(page);
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
  // Issue 15: the question a scale answered is recorded with it.
  await page.fill("#voice-0-scale-question", "How happy are you living here?");
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

async function waitSynced(page) {
  await page.waitForFunction(() => document.getElementById("sync-status")?.dataset.unsent === "0"
    && document.getElementById("sync-status")?.dataset.connected === "true", null, { timeout: 30_000 });
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

const scenario = process.argv[2];
const scenarios = { "offline-visit": offlineVisit, conflict, revoked, oversight, handover, "dashboard-offline": dashboardOffline, "bench-open": benchOpen };
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
