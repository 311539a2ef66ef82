// Doorstep's screens: the app's state, routing, input and start. Each screen is a module of
// its own (signin, caseload, visit, dashboard, review, handover, amend), sharing labels.js
// (where the visit's words, Rust's, are installed at start) and markup.js. The screens only
// render and forward input: every record, its encryption, storage and sync live in the wasm
// data core (client-wasm, `Device`).
// GOV.UK Design System patterns: error summary, date input, radios with reveal,
// task list, check your answers. No inline scripts or styles (the CSP forbids them).
import init, { Device, wording } from "/pkg/client_wasm.js";
import { nowMs, today } from "/clock.js";
import { sectionOf, useWording } from "/labels.js";
import { esc, focusErrorSummary, main, radios, show, syncTag } from "/markup.js";
import { input, signInPage, submitSignIn, submitUnlock, unlockPage } from "/signin.js";
import { breakGlassPage, caseloadPage, childPage, newVisitPage, readDate, resetBreakGlass } from "/caseload.js";
import { answer, checkAnswersPage, conflictBlock, discardPage, donePage, draft, draftKey, loadVisit, visitSectionPage, visitTasksPage } from "/visit.js";
import { dashboardFetch, dashboardFilters, dashboardPage, dashboardResults, downloadCsv, refreshDashboard } from "/dashboard.js";
import { review, reviewPage, submitCorrection, submitDecision } from "/review.js";
import { handoverPage } from "/handover.js";
import { amendPage } from "/amend.js";


export const statusBox = document.getElementById("sync-status");
export const accountNav = document.getElementById("account-nav");
export const updateBanner = document.getElementById("update-banner");
export const LOCK_AFTER_MS = 10 * 60 * 1000;

export let device = null;
export let refreshQueued = false;
export let renderedStatus = null;
// Records the worker tried to submit with problems: their sections then show inline errors.
export const triedToSubmit = new Set();
export let lockTimer = null;

// One child of the caseload (profile, placement, visit history, and with `schedule` the
// timescales, which cost a pass over the child's records), or null.
export const childOf = (ref, schedule = false) => device.caseload(schedule ? today() : null).children.find((c) => c.childRef === ref) ?? null;

// ---------- status bar, account menu ----------
export function renderStatus() {
  if (!device) return;
  const state = device.syncState();
  const status = device.status();
  let text;
  let kind;
  const records = (n) => `${n} record${n === 1 ? "" : "s"}`;
  if (status === "new") {
    text = state.online ? "Online. Sign in to use Doorstep on this device." : "Offline. Signing in needs signal; nothing is stored on this device.";
    kind = state.online ? "is-online" : "is-offline";
  } else if (status === "locked") {
    text = state.online ? "Online. Unlock to see and send your records." : "Offline. You can still unlock with your PIN.";
    kind = state.online ? "is-online" : "is-offline";
  } else if (state.connected) {
    if (state.allSaved) text = "Online. Every record on this device is saved to the server.";
    else if (state.unsent > 0) text = `Online. Sending ${records(state.unsent)} to the server…`;
    else if (state.saving > 0) text = "Online. Saving on this device…";
    else text = "Online.";
    kind = "is-online";
  } else {
    const since = state.offlineSince ? ` since ${new Date(state.offlineSince).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}` : "";
    const waiting = state.unsent === 0 ? "Everything is saved on this device." : `${records(state.unsent)} ${state.unsent === 1 ? "is" : "are"} saved on this device only and will be sent when there is signal.`;
    text = `${state.online ? "Connecting" : "Offline"}${since}. ${waiting}`;
    kind = "is-offline";
  }
  if (status === "unlocked" && state.refused > 0) {
    text += ` ${records(state.refused)} ${state.refused === 1 ? "was" : "were"} not accepted by the server and ${state.refused === 1 ? "is" : "are"} kept on this device: see your caseload.`;
    kind = "is-problem";
  }
  if (state.problem) {
    text += ` ${state.problem}`;
    kind = "is-problem";
  }
  const warning = status !== "new" ? device.guardState().contactDaysLeft : null;
  if (warning !== null) {
    text += ` This device has not reached the server for a long time: connect within ${warning} day${warning === 1 ? "" : "s"} or Doorstep will wipe it.`;
    kind = "is-problem";
  }
  statusBox.textContent = text;
  statusBox.className = `sync-status ${kind}`;
  statusBox.dataset.connected = String(state.connected);
  statusBox.dataset.unsent = String(state.unsent);
  statusBox.dataset.refused = String(state.refused);
  statusBox.dataset.allSaved = String(state.allSaved);
  accountNav.innerHTML = status === "unlocked"
    ? `<span>${esc(device.worker()?.displayName ?? "")}</span>
       <button type="button" class="link-button" data-action="lock">Lock</button>
       <button type="button" class="link-button" data-action="sign-out">Sign out</button>`
    : "";
}

// Re-render after changes from the data core, without disturbing what is being typed.
export function scheduleRefresh() {
  if (refreshQueued) return;
  refreshQueued = true;
  requestAnimationFrame(() => {
    refreshQueued = false;
    renderStatus();
    const route = parseRoute();
    // Locked, wiped (sign-out, revoked device) or unlocked elsewhere: show the right screen.
    if (device.status() !== renderedStatus) return render();
    if (renderedStatus !== "unlocked") return;
    // A record that was still loading (after an unlock or a reload) is shown once it is.
    if (main.querySelector("[data-loading-record]")) return render();
    if (route.page === "visit" && route.section && !["check", "done", "amend", "discard"].includes(route.section)) {
      refreshFormValues(route.id);
    } else if (!main.contains(document.activeElement) || document.activeElement === main || document.activeElement.tagName === "H1") {
      render();
    }
  });
}

// What each text field last showed of the record. A keystroke sends it as `base`, so words
// another device added since are kept rather than overwritten by the field's value.
export const shownText = new WeakMap();
export const shownBase = (el) => (shownText.has(el) ? shownText.get(el) : el.defaultValue);
export let composing = false;
document.addEventListener("compositionstart", () => { composing = true; });
document.addEventListener("compositionend", () => { composing = false; });

// Shows the record's text in a field; in the field being typed in, the caret stays with
// the words around it. Typing the record does not hold (a word being composed, an edit
// refused) is left as it is.
export function showText(el, text) {
  const focused = el === document.activeElement;
  if (focused && (composing || shownBase(el) !== el.value)) return;
  shownText.set(el, text);
  if (el.value === text) return;
  if (!focused) { el.value = text; return; }
  const old = el.value;
  const caret = el.selectionStart ?? old.length;
  let prefix = 0;
  while (prefix < old.length && prefix < text.length && old[prefix] === text[prefix]) prefix++;
  el.value = text;
  const at = caret <= prefix ? caret : Math.max(prefix, text.length - (old.length - caret));
  try { el.setSelectionRange(at, at); } catch { /* not a text input */ }
}

export function refreshFormValues(id) {
  let visit;
  try { visit = device.visit(id); } catch { return; }
  if (visit.loading) return;
  for (const el of main.querySelectorAll("[data-text]")) showText(el, visit[el.dataset.text] ?? "");
  for (const el of main.querySelectorAll("[data-item]")) {
    const [list, index, field] = el.dataset.item.split(":");
    showText(el, visit[list]?.[Number(index)]?.[field] ?? "");
  }
  for (const el of main.querySelectorAll("[data-sync-tag]")) el.outerHTML = syncTag(visit.sync);
  // A conflict that arrives while the section is open is shown at once.
  const box = document.getElementById("conflicts");
  if (box) {
    const shown = box.dataset.fields ?? "";
    const now = visit.conflicts.map((c) => c.field).join(",");
    if (shown !== now) {
      box.dataset.fields = now;
      box.innerHTML = conflictBlock(visit);
    }
  }
  // So do list entries added or removed on another device.
  const lists = main.querySelector("[data-lists]");
  if (lists && lists.dataset.lists !== listShape(visit)) render();
}

// The length of each list, to notice entries added or removed elsewhere.
export const listShape = (visit) => [visit.personsPresent.length, visit.voice.length, visit.actions.length].join(",");

// ---------- routing ----------
export function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  switch (parts[0]) {
    case "child": return parts[2] === "handover" ? { page: "handover", ref: parts[1] } : { page: "child", ref: parts[1] };
    case "new-visit": return { page: "new-visit", ref: parts[1] };
    case "visit": return { page: "visit", id: parts[1], section: parts[2] ?? null, next: parts[3] ?? null };
    case "team": return { page: "team" };
    case "review": return { page: "review", id: parts[1] };
    case "caseload": return { page: "caseload" };
    case "break-glass": return { page: "break-glass" };
    default: return { page: isManager() ? "team" : "caseload" };
  }
}

export const isManager = () => device?.worker()?.role === "team-manager";

// Where the worker was (the field in focus and how far down the page), kept across a
// lock, a reload or a restart so that unlocking returns them there. Only an element id
// and a scroll offset: nothing about a child.
export const WHERE_KEY = "doorstep-where";
// The last field focused on the page shown (the Lock button takes the focus when pressed).
export let lastFocusId = null;
main.addEventListener("focusin", (event) => { if (event.target.id && event.target !== main) lastFocusId = event.target.id; });
window.addEventListener("hashchange", () => {
  lastFocusId = null;
  if (parseRoute().page !== "break-glass") resetBreakGlass();
});
export function rememberWhere() {
  const where = { hash: location.hash, focus: lastFocusId, scroll: window.scrollY };
  try { sessionStorage.setItem(WHERE_KEY, JSON.stringify(where)); } catch { /* private mode */ }
}
export function restoreWhere() {
  let where = null;
  try { where = JSON.parse(sessionStorage.getItem(WHERE_KEY) ?? "null"); } catch { where = null; }
  if (!where || where.hash !== location.hash) return;
  try { sessionStorage.removeItem(WHERE_KEY); } catch { /* private mode */ }
  const el = where.focus ? document.getElementById(where.focus) : null;
  if (el) el.focus({ preventScroll: true });
  window.scrollTo(0, where.scroll ?? 0);
}

export function render() {
  const status = device.status();
  renderedStatus = status;
  renderStatus();
  if (status === "new") return signInPage();
  if (status === "locked") return unlockPage();
  const route = parseRoute();
  try {
    renderRoute(route);
  } catch (error) {
    show(`<h1>Sorry, there is a problem</h1><p class="body">${esc(error.message ?? error)}</p><p><a href="#/caseload">Go to my caseload</a></p>`, "Problem");
  }
  // Back where the worker was before a lock or a reload, once the page is really there.
  if (!main.querySelector("[data-loading-record]")) restoreWhere();
}

export function renderRoute(route) {
  if (route.page === "child") return childPage(route.ref);
  if (route.page === "handover") return handoverPage(route.ref);
  if (route.page === "new-visit") return newVisitPage(route.ref);
  if (route.page === "break-glass") return breakGlassPage();
  if (route.page === "team") return dashboardPage();
  if (route.page === "review") return reviewPage(route.id);
  if (route.page === "visit") {
    const visit = loadVisit(route.id);
    if (visit.loading) return loadingPage();
    if (!route.section) return visitTasksPage(route.id);
    if (route.section === "check") return checkAnswersPage(route.id);
    if (route.section === "done") return donePage(route.id);
    if (route.section === "amend") return amendPage(route.id, route.next);
    if (route.section === "discard") return discardPage(route.id);
    return visitSectionPage(route.id, route.section);
  }
  return caseloadPage();
}

// A record still loading after an unlock or a reload: shown as soon as it has loaded.
export function loadingPage() {
  show(`<h1>Opening the record…</h1><p class="body" data-loading-record>Your records are being opened on this device. This takes a moment after unlocking.</p>`, "Opening the record");
}

// ---------- input from the screens ----------
// Applies an edit; `null` if it was refused (the worker is told why).
export function edit(id, op) {
  try {
    return device.editVisit(id, op);
  } catch (error) {
    alert(error.message ?? String(error));
    return null;
  }
}

// Keeps what is typed in a form that is not yet part of the record (a new action, the
// reason for discarding a draft), sealed on the device, so no button, lock or reload loses it.
export function saveDraftFrom(form) {
  const id = form.dataset.visit;
  if (!id) return;
  if (form.id === "add-action-form") {
    const data = new FormData(form);
    device.setFormDraft(draftKey(id, "new-action"), {
      description: data.get("description") ?? "", ownerType: data.get("ownerType") ?? "",
      ownerName: data.get("ownerName") ?? "", dueDate: readDate("action-due"),
    });
  } else if (form.id === "discard-form") {
    device.setFormDraft(draftKey(id, "discard"), { reason: new FormData(form).get("reason") ?? "" });
  }
}

// Adds the action being written if it is complete; otherwise shows what is missing.
// Answers whether it was added (or there was nothing to add).
export function addDraftAction(id, { always = false } = {}) {
  const d = draft(id, "new-action");
  const empty = !(d.description?.trim() || d.ownerName?.trim() || d.dueDate || d.ownerType);
  if (empty && !always) return true;
  const fields = { description: "description", ownerName: "owner", dueDate: "due-day" };
  const problems = Device.actionProblems(d.description ?? "", d.ownerName ?? "", d.dueDate ?? "");
  if (problems.length) {
    const errors = problems.map((p) => ({ href: `#action-${fields[p.field] ?? p.field}`, message: p.message }));
    visitSectionPage(id, "actions", errors);
    focusErrorSummary();
    return false;
  }
  if (edit(id, { op: "addAction", description: d.description, ownerType: d.ownerType ?? "", ownerName: d.ownerName, dueDate: d.dueDate }) === null) return false;
  device.setFormDraft(draftKey(id, "new-action"), null);
  return true;
}

main.addEventListener("input", (event) => {
  // What a manager has typed or chosen survives a re-render of the review.
  if (event.target.closest("#decision-form")) review.values[event.target.name] = event.target.value;
  const draftForm = event.target.closest("#add-action-form, #discard-form");
  if (draftForm) return saveDraftFrom(draftForm);
  const form = event.target.closest("#visit-form");
  if (!form) return;
  const id = form.dataset.visit;
  const el = event.target;
  if (el.dataset.text) {
    if (edit(id, { op: "text", field: el.dataset.text, base: shownBase(el), value: el.value }) !== null) shownText.set(el, el.value);
  } else if (el.dataset.item) {
    const [list, index, field] = el.dataset.item.split(":");
    if (edit(id, { op: "itemText", list, index: Number(index), field, base: shownBase(el), value: el.value }) !== null) shownText.set(el, el.value);
  } else if (el.closest("[data-date='visit-date']")) {
    edit(id, { op: "visitDate", value: readDate("visit-date") });
  } else if (el.closest("[data-action-due]")) {
    const index = Number(el.closest("[data-action-due]").dataset.actionDue);
    edit(id, { op: "actionDueDate", index, value: readDate(`action-${index}-due`) });
  }
});

main.addEventListener("change", (event) => {
  if (event.target.closest("#decision-form")) review.values[event.target.name] = event.target.value;
  const filters = event.target.closest("#dashboard-filters");
  if (filters) {
    dashboardFilters.overdue = filters.querySelector("#filter-overdue").checked;
    dashboardFilters.week = filters.querySelector("#filter-week").checked;
    dashboardFilters.worker = filters.querySelector("#filter-worker").value;
    // Only the results change, so focus stays on the filter just used.
    const stored = device.dashboard();
    if (stored) document.getElementById("dashboard-results").innerHTML = dashboardResults(stored.dashboard);
    return;
  }
  const draftForm = event.target.closest("#add-action-form, #discard-form");
  if (draftForm) return saveDraftFrom(draftForm);
  const form = event.target.closest("#visit-form");
  if (!form) return;
  const id = form.dataset.visit;
  const el = event.target;
  if (el.dataset.choice) {
    edit(id, { op: "choice", field: el.dataset.choice, value: el.value });
    // Radios with a reveal (and answers others depend on) re-render, keeping focus.
    if (el.dataset.choice === "seenAlone" || el.dataset.choice === "childSeen") {
      const focusId = el.id;
      render();
      document.getElementById(focusId)?.focus();
    }
  } else if (el.dataset.actionOwner) {
    edit(id, { op: "actionOwnerType", index: Number(el.dataset.actionOwner), value: el.value });
  } else if (el.dataset.actionStatus) {
    edit(id, { op: "actionStatus", index: Number(el.dataset.actionStatus), value: el.value });
  } else if (el.dataset.topic) {
    const [index, topic] = el.dataset.topic.split(":");
    edit(id, { op: "voiceTopic", index: Number(index), topic, on: el.checked });
  } else if (el.dataset.scale) {
    edit(id, { op: "voiceScale", index: Number(el.dataset.scale), value: el.value === "" ? null : Number(el.value) });
  } else if (el.dataset.readback) {
    edit(id, { op: "voiceReadBack", index: Number(el.dataset.readback), value: el.checked });
  }
});

main.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const route = parseRoute();
  if (form.id === "sign-in-form") return submitSignIn(form);
  if (form.id === "decision-form") return submitDecision(form);
  if (form.id === "correction-form") return submitCorrection(form);
  if (form.id === "dashboard-filters") return;
  if (form.id === "amend-form") {
    const reason = (new FormData(form).get("reason") ?? "").trim();
    const next = form.dataset.next;
    if (!reason) return amendPage(form.dataset.visit, next, [{ href: "#amend-reason", message: "Enter why you are changing this signed-off record" }]);
    if (edit(form.dataset.visit, { op: "amend", reason }) === null) return;
    // On to the section (or the record); the question may have been shown at that address.
    const target = `#/visit/${encodeURIComponent(form.dataset.visit)}${next ? `/${next}` : ""}`;
    if (location.hash === target) render();
    else location.hash = target;
    return;
  }
  if (form.id === "discard-form") {
    const id = form.dataset.visit;
    const reason = (new FormData(form).get("reason") ?? "").trim();
    if (!reason) return discardPage(id, [{ href: "#discard-reason", message: "Enter why you are discarding this draft" }]);
    if (edit(id, { op: "discard", reason }) === null) return;
    device.setFormDraft(draftKey(id, "discard"), null);
    location.hash = `#/visit/${encodeURIComponent(id)}`;
    return;
  }
  if (form.id === "unlock-form") return submitUnlock(form);
  if (form.id === "break-glass-form") {
    const values = { childRef: form.elements["break-glass-child"].value.trim(), reason: form.elements.reason.value.trim() };
    const errors = [];
    if (!values.childRef) errors.push({ href: "#break-glass-child", message: "Enter the child's case reference" });
    if (!values.reason) errors.push({ href: "#break-glass-reason", message: "Enter why you need to see this child's record" });
    if (errors.length) return breakGlassPage(errors, values);
    try {
      const granted = await device.breakGlass(values.childRef, values.reason);
      return breakGlassPage([], values, granted);
    } catch (error) {
      return breakGlassPage([{ href: "#break-glass-child", message: error.message ?? String(error) }], values);
    }
  }
  if (form.id === "new-visit-form") {
    const date = readDate("visit-date");
    try {
      const id = device.createVisit(form.dataset.ref, date);
      location.hash = `#/visit/${encodeURIComponent(id)}/details`;
    } catch (error) {
      newVisitPage(form.dataset.ref, [{ href: "#visit-date-day", message: error.message ?? String(error) }]);
    }
    return;
  }
  if (form.classList.contains("resolve-form")) {
    const choice = new FormData(form).get("choice");
    if (choice === null) return;
    edit(route.id, { op: "resolve", field: form.dataset.field, choice: Number(choice) });
    render();
    return;
  }
  if (form.id === "add-action-form") {
    saveDraftFrom(form);
    if (addDraftAction(route.id, { always: true })) {
      render();
      document.getElementById(`action-${loadVisit(route.id).actions.length - 1}-description`)?.focus();
    }
  }
});

document.addEventListener("click", async (event) => {
  // Leaving the actions page keeps what was typed in the new action: it is added if it is
  // complete; otherwise the page says what is missing.
  const leaving = event.target.closest("[data-continue]");
  if (leaving) {
    const route = parseRoute();
    if (route.page === "visit" && route.section === "actions" && !addDraftAction(route.id)) event.preventDefault();
    return;
  }
  const button = event.target.closest("[data-action]");
  if (!button) return;
  const route = parseRoute();
  switch (button.dataset.action) {
    case "lock":
      rememberWhere();
      await device.lock();
      render();
      break;
    case "sign-out": {
      const state = device.syncState();
      const waiting = state.unsent + state.refused;
      const warning = waiting > 0 ? `${waiting} record${waiting === 1 ? " has" : "s have"} not reached the server and will be lost. ` : "";
      if (!confirm(`${warning}Sign out and wipe every record from this device?`)) return;
      await device.signOut();
      location.hash = "#/";
      render();
      break;
    }
    case "dismiss-set-aside":
      await device.setFormDraft(`${button.dataset.id}:set-aside`, null);
      render();
      break;
    case "dismiss-notice":
      device.dismissNotice();
      render();
      break;
    case "add-person": {
      const index = edit(route.id, { op: "addPerson", name: "", role: "" });
      render();
      document.getElementById(`person-${index}-name`)?.focus();
      break;
    }
    case "add-voice": {
      const index = edit(route.id, { op: "addVoice" });
      render();
      document.getElementById(`voice-${index}-words`)?.focus();
      break;
    }
    case "remove-entry": {
      const { list, index, id } = button.dataset;
      const what = { personsPresent: "this person", voice: "what the child said", actions: "this action" }[list] ?? "this";
      if (!confirm(`Remove ${what} from the record? The record keeps a note of what was removed.`)) return;
      edit(route.id, { op: "remove", list, index: Number(index), id });
      render();
      main.querySelector("h1")?.focus();
      break;
    }
    case "submit-visit": {
      const visit = loadVisit(route.id, today());
      if (visit.problems.length) {
        triedToSubmit.add(route.id);
        const href = (p) => {
          const section = sectionOf(p.field);
          // An answer in dispute links to its conflict, on the section's page.
          return visit.conflicts.some((c) => c.field === p.field) ? `#/visit/${encodeURIComponent(route.id)}/${section}` : `#/visit/${encodeURIComponent(route.id)}/${section}`;
        };
        return checkAnswersPage(route.id, visit.problems.map((p) => ({ href: href(p), message: p.message })));
      }
      if (edit(route.id, { op: "submit", today: today() }) === null) return;
      location.hash = `#/visit/${encodeURIComponent(route.id)}/done`;
      break;
    }
    case "refresh-dashboard":
      refreshDashboard();
      render();
      break;
    case "download-csv":
      downloadCsv();
      break;
    case "reload-update":
      navigator.serviceWorker.getRegistration().then((reg) => reg?.waiting?.postMessage("skip-waiting"));
      break;
    default:
  }
});

// Lock after inactivity (the data key leaves memory; the PIN unlocks it again).
export function resetLockTimer() {
  clearTimeout(lockTimer);
  lockTimer = setTimeout(async () => {
    if (device?.status() === "unlocked") {
      rememberWhere();
      await device.lock();
      render();
    }
  }, LOCK_AFTER_MS);
}
["keydown", "pointerdown", "input"].forEach((type) => document.addEventListener(type, resetLockTimer, { passive: true }));

// ---------- service worker and updates ----------
export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    const offerUpdate = () => {
      if (!registration.waiting || !navigator.serviceWorker.controller) return;
      updateBanner.hidden = false;
      updateBanner.innerHTML = `<p class="body">A new version of Doorstep is available. Your records are saved, so it is safe to reload.</p>
        <button type="button" class="button" data-action="reload-update">Reload now</button>`;
    };
    offerUpdate();
    registration.addEventListener("updatefound", () => {
      registration.installing?.addEventListener("statechange", offerUpdate);
    });
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (reloading || updateBanner.hidden) return;
      reloading = true;
      location.reload();
    });
  } catch (error) {
    console.warn("service worker not registered", error);
  }
}

export async function boot() {
  await init();
  useWording(wording());
  device = await Device.open();
  window.__doorstep = device; // for the end-to-end tests and the console
  device.subscribe(scheduleRefresh);
  window.addEventListener("hashchange", () => {
    // Opening the dashboard or a review again fetches it again.
    dashboardFetch.requested = false;
    review.id = null;
    render();
  });
  window.addEventListener("online", () => {
    renderStatus();
    // Back online on the dashboard: fetch it again.
    if (device.status() === "unlocked" && parseRoute().page === "team") {
      refreshDashboard();
      render();
    }
  });
  window.addEventListener("offline", renderStatus);
  // A reload or a closed tab: remember the field and scroll, to come back there after unlocking.
  window.addEventListener("pagehide", () => { if (device.status() === "unlocked") rememberWhere(); });
  setInterval(renderStatus, 30_000);
  registerServiceWorker();
  resetLockTimer();
  render();
  document.body.dataset.ready = "true";
}

boot().catch((error) => {
  main.innerHTML = `<h1>Doorstep could not start</h1><p class="body">${esc(error.message ?? error)}</p>`;
});
