// Doorstep's screens. This script only renders and forwards input: every record, its
// encryption, storage and sync live in the wasm data core (client-wasm, `Device`).
// GOV.UK Design System patterns: error summary, date input, radios with reveal,
// task list, check your answers. No inline scripts or styles (the CSP forbids them).
import init, { Device } from "/pkg/client_wasm.js";

const main = document.getElementById("main");
const statusBox = document.getElementById("sync-status");
const accountNav = document.getElementById("account-nav");
const updateBanner = document.getElementById("update-banner");
const LOCK_AFTER_MS = 10 * 60 * 1000;

let device = null;
let refreshQueued = false;
let renderedStatus = null;
// Records the worker tried to submit with problems: their sections then show inline errors.
const triedToSubmit = new Set();
let lockTimer = null;

// One child of the caseload (profile, placement, visit history, and with `schedule` the
// timescales, which cost a pass over the child's records), or null.
const childOf = (ref, schedule = false) => device.caseload(schedule ? today() : null).children.find((c) => c.childRef === ref) ?? null;

// Today by the device's clock, YYYY-MM-DD.
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const SYNC_LABELS = {
  saving: ["Saving on this device…", "grey"],
  device: ["Saved on this device", "orange"],
  sending: ["Sending to the server…", "blue"],
  server: ["Saved to the server", "green"],
  refused: ["Not accepted by the server", "red"],
};
const syncTag = (sync) => {
  const [text, colour] = SYNC_LABELS[sync] ?? SYNC_LABELS.device;
  return `<strong class="tag tag--${colour}" data-sync-tag>${esc(text)}</strong>`;
};

const YES_NO = [["yes", "Yes"], ["no", "No"]];
const MADE_BY = [["socialWorker", "The child's social worker"], ["personalAdviser", "A personal adviser"]];
const CHOICES = {
  visitKind: [["statutory", "Statutory visit"], ["requested", "Requested by the child"], ["postComplaint", "After a complaint"], ["other", "Other"]],
  location: [["placement", "Where the child lives"], ["school", "School"], ["community", "Somewhere else in the community"], ["virtual", "Video call"]],
  announced: YES_NO,
  childSeen: YES_NO,
  seenAlone: YES_NO,
  notAloneReason: [["refused", "The child refused"], ["inappropriate", "It was not appropriate"], ["unable", "It was not possible"]],
  bedroomSeen: [["yes", "Yes"], ["no", "No"], ["notApplicable", "Does not apply"]],
  welfareSafeguarded: YES_NO,
  madeBy: MADE_BY,
};
const TOPICS = [["home", "Home"], ["school", "School"], ["familyTime", "Family time"], ["friends", "Friends"], ["health", "Health"], ["feelings", "Feelings"], ["safety", "Safety"], ["hopesPlans", "Hopes and plans"], ["mySocialWorker", "My social worker"]];
const OWNER_TYPES = [["worker", "Social worker"], ["carer", "Carer"], ["child", "The child"], ["otherAgency", "Another agency"]];
const ACTION_STATUSES = [["open", "Still to do"], ["done", "Done"], ["cancelled", "No longer needed"]];
// SSDA903 codes (DfE children looked after return) with what they mean.
const LEGAL_STATUS = {
  C1: "Interim care order", C2: "Full care order", D1: "Freeing order granted", E1: "Placement order granted",
  J1: "Remanded to local authority or youth detention accommodation", J2: "Placed in local authority accommodation under PACE 1984",
  J3: "Sentenced to a supervision order with a residence requirement", L1: "Under police protection, in local authority accommodation",
  L2: "Emergency protection order", L3: "Under a child assessment order, in local authority accommodation",
  V2: "Accommodated under section 20 (a single period)", V3: "Agreed series of short breaks (each episode recorded)",
  V4: "Agreed series of short breaks (the agreement recorded)",
};
const PLACEMENT_TYPES = {
  A3: "Placed for adoption with consent, with current foster carers", A4: "Placed for adoption with consent, not with current foster carers",
  A5: "Placed for adoption under a placement order, with current foster carers", A6: "Placed for adoption under a placement order, not with current foster carers",
  H5: "Semi-independent living accommodation", K1: "Secure children's home", K2: "Children's home",
  P1: "Placed with own parents or others with parental responsibility", P2: "Independent living", P3: "Residential employment",
  R1: "Residential care home", R2: "NHS or other health establishment", R3: "Family centre or mother and baby unit", R5: "Young offender institution",
  S1: "Residential school", T0: "Temporary move", T1: "Temporary: in hospital", T2: "Temporary: on holiday",
  T3: "Temporary: while the usual foster carers are on holiday", T4: "Temporary: 7 days or less",
  U1: "Foster placement with relatives or friends: long-term fostering", U2: "Foster placement with relatives or friends: fostering for adoption",
  U3: "Foster placement with relatives or friends", U4: "Foster placement with other foster carers: long-term fostering",
  U5: "Foster placement with other foster carers: fostering for adoption", U6: "Foster placement with other foster carers", Z1: "Other placement",
};
const PROVIDERS = { PR0: "Parents or others with parental responsibility", PR1: "The council's own provision", PR2: "Another local authority", PR3: "Other public provision", PR4: "Private provision", PR5: "Voluntary or third sector provision" };
const BASES = {
  standard: "Standard placement", reg19: "Placed with a parent before assessment (regulation 19)", reg24: "Connected person, temporarily approved (regulation 24)",
  icoWithParent: "Interim care order, living with a parent", careOrderWithParent: "Care order, living with a parent",
  otherLivingArrangements: "Other living arrangements", shortBreaks: "A series of short breaks (regulation 48)",
};
// A code with its meaning: "U4: Foster placement with other foster carers: long-term fostering".
const coded = (table, code) => (code ? (table[code] ? `${code}: ${table[code]}` : code) : null);
// Age in whole years on `on` (YYYY-MM-DD) of someone born on `born`, or null.
const ageOn = (born, on) => {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(born ?? ""); const t = /^(\d{4})-(\d{2})-(\d{2})$/.exec(on ?? "");
  if (!b || !t) return null;
  let years = Number(t[1]) - Number(b[1]);
  if (Number(t[2]) < Number(b[2]) || (Number(t[2]) === Number(b[2]) && Number(t[3]) < Number(b[3]))) years -= 1;
  return years >= 0 ? years : null;
};
const ageText = (born) => { const age = ageOn(born, today()); return age === null ? null : `${age} year${age === 1 ? "" : "s"} old`; };
const FIELD_NAMES = {
  visitDate: "Date of visit", visitKind: "Kind of visit", madeBy: "Visit made by", location: "Where", announced: "Announced",
  childSeen: "Child seen", seenAlone: "Seen alone", notAloneReason: "Why not seen alone",
  bedroomSeen: "Bedroom seen", welfareSafeguarded: "Welfare safeguarded", status: "Status",
};

const SECTIONS = [
  ["details", "Visit details and purpose"],
  ["people", "Who was present"],
  ["seen", "Seen, and seen alone"],
  ["bedroom", "Bedroom"],
  ["observations", "What I saw"],
  ["voice", "The child's voice"],
  ["analysis", "Analysis"],
  ["actions", "Actions"],
  ["welfare", "Welfare safeguarded"],
];
const sectionOf = (field) => {
  const key = field.split(/[.[]/)[0];
  return {
    visitDate: "details", visitKind: "details", madeBy: "details", location: "details", announced: "details", purpose: "details",
    personsPresent: "people", childSeen: "seen", seenAlone: "seen", notAloneReason: "seen", notAloneDetail: "seen",
    bedroomSeen: "bedroom", bedroomDetail: "bedroom", observations: "observations", voice: "voice",
    analysis: "analysis", actions: "actions", welfareSafeguarded: "welfare",
  }[key] ?? "details";
};

// ---------- helpers for markup ----------
const radios = (name, options, value, { inline = false, reveal = {} } = {}) => `
  <div class="radios ${inline ? "radios--inline" : ""}">
    ${options.map(([code, label]) => `
      <div class="radios__item">
        <input type="radio" id="${esc(name)}-${esc(code)}" name="${esc(name)}" value="${esc(code)}" data-choice="${esc(name)}" ${value === code ? "checked" : ""}>
        <label for="${esc(name)}-${esc(code)}">${esc(label)}</label>
      </div>
      ${reveal[code] && value === code ? `<div class="radios__conditional">${reveal[code]}</div>` : ""}`).join("")}
  </div>`;
const boolCode = (value) => (value === true ? "yes" : value === false ? "no" : null);
const textarea = (id, label, value, bind, hint = "") => `
  <div class="form-group">
    <label class="label" for="${esc(id)}">${esc(label)}</label>
    ${hint ? `<div class="hint" id="${esc(id)}-hint">${esc(hint)}</div>` : ""}
    <textarea class="textarea" id="${esc(id)}" ${hint ? `aria-describedby="${esc(id)}-hint"` : ""} ${bind}>${esc(value)}</textarea>
  </div>`;
const fieldset = (legend, body, hint = "") => `
  <div class="form-group"><fieldset ${hint ? `aria-describedby="${esc(legend.replace(/\W/g, ""))}-hint"` : ""}>
    <legend>${esc(legend)}</legend>
    ${hint ? `<div class="hint" id="${esc(legend.replace(/\W/g, ""))}-hint">${esc(hint)}</div>` : ""}
    ${body}
  </fieldset></div>`;
const errorSummary = (errors) => errors.length === 0 ? "" : `
  <div class="error-summary" role="alert" tabindex="-1" id="error-summary" aria-labelledby="error-summary-title">
    <h2 id="error-summary-title">There is a problem</h2>
    <ul>${errors.map((e) => `<li><a href="${esc(e.href)}">${esc(e.message)}</a></li>`).join("")}</ul>
  </div>`;
const focusErrorSummary = () => document.getElementById("error-summary")?.focus();

function show(html, title) {
  main.innerHTML = html;
  document.title = `${title} – Doorstep`;
  const heading = main.querySelector("h1");
  if (heading) heading.setAttribute("tabindex", "-1");
  (main.querySelector("#error-summary") ?? heading ?? main).focus({ preventScroll: false });
}

// ---------- status bar, account menu ----------
function renderStatus() {
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
function scheduleRefresh() {
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
const shownText = new WeakMap();
const shownBase = (el) => (shownText.has(el) ? shownText.get(el) : el.defaultValue);
let composing = false;
document.addEventListener("compositionstart", () => { composing = true; });
document.addEventListener("compositionend", () => { composing = false; });

// Shows the record's text in a field; in the field being typed in, the caret stays with
// the words around it. Typing the record does not hold (a word being composed, an edit
// refused) is left as it is.
function showText(el, text) {
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

function refreshFormValues(id) {
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
const listShape = (visit) => [visit.personsPresent.length, visit.voice.length, visit.actions.length].join(",");

// ---------- routing ----------
function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  switch (parts[0]) {
    case "child": return parts[2] === "handover" ? { page: "handover", ref: parts[1] } : { page: "child", ref: parts[1] };
    case "new-visit": return { page: "new-visit", ref: parts[1] };
    case "visit": return { page: "visit", id: parts[1], section: parts[2] ?? null, next: parts[3] ?? null };
    case "team": return { page: "team" };
    case "review": return { page: "review", id: parts[1] };
    case "caseload": return { page: "caseload" };
    default: return { page: isManager() ? "team" : "caseload" };
  }
}

const isManager = () => device?.worker()?.role === "team-manager";

// Where the worker was (the field in focus and how far down the page), kept across a
// lock, a reload or a restart so that unlocking returns them there. Only an element id
// and a scroll offset: nothing about a child.
const WHERE_KEY = "doorstep-where";
// The last field focused on the page shown (the Lock button takes the focus when pressed).
let lastFocusId = null;
main.addEventListener("focusin", (event) => { if (event.target.id && event.target !== main) lastFocusId = event.target.id; });
window.addEventListener("hashchange", () => { lastFocusId = null; });
function rememberWhere() {
  const where = { hash: location.hash, focus: lastFocusId, scroll: window.scrollY };
  try { sessionStorage.setItem(WHERE_KEY, JSON.stringify(where)); } catch { /* private mode */ }
}
function restoreWhere() {
  let where = null;
  try { where = JSON.parse(sessionStorage.getItem(WHERE_KEY) ?? "null"); } catch { where = null; }
  if (!where || where.hash !== location.hash) return;
  try { sessionStorage.removeItem(WHERE_KEY); } catch { /* private mode */ }
  const el = where.focus ? document.getElementById(where.focus) : null;
  if (el) el.focus({ preventScroll: true });
  window.scrollTo(0, where.scroll ?? 0);
}

function render() {
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

function renderRoute(route) {
  if (route.page === "child") return childPage(route.ref);
  if (route.page === "handover") return handoverPage(route.ref);
  if (route.page === "new-visit") return newVisitPage(route.ref);
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
function loadingPage() {
  show(`<h1>Opening the record…</h1><p class="body" data-loading-record>Your records are being opened on this device. This takes a moment after unlocking.</p>`, "Opening the record");
}

// ---------- sign in, unlock ----------
// What the worker is told after the device wiped itself, in true words.
function noticeBlock() {
  const notice = device.guardState().notice;
  if (!notice) return "";
  const lost = notice.unsent > 0
    ? ` ${notice.unsent} record${notice.unsent === 1 ? "" : "s"} that had not reached the server ${notice.unsent === 1 ? "was" : "were"} wiped with ${notice.unsent === 1 ? "it" : "them"} and cannot be recovered from this device.`
    : " Every record on it had reached the server, so nothing was lost.";
  const what = {
    signedOut: "You signed out, so Doorstep wiped every record from this device.",
    revoked: "This device was revoked by an administrator, so Doorstep wiped every record from it.",
    pinWipe: "Too many wrong PINs were entered, so Doorstep wiped every record from this device.",
    offlineWipe: "This device had not reached the server for too long, so Doorstep wiped every record from it.",
  }[notice.kind] ?? "Doorstep wiped every record from this device.";
  return `<div class="notification notification--important" id="wipe-notice" data-notice="${esc(notice.kind)}" role="region" aria-labelledby="wipe-notice-title">
    <h2 id="wipe-notice-title">Records wiped from this device</h2>
    <p class="body">${esc(what)}${esc(lost)} Nothing is stored on this device now: there is no PIN to unlock.</p>
    <button type="button" class="button button--secondary" data-action="dismiss-notice">I understand</button>
  </div>`;
}

function signInPage(errors = [], values = {}) {
  show(`
    ${errorSummary(errors)}
    ${noticeBlock()}
    <h1>Sign in to Doorstep</h1>
    <p class="body">Sign in once while you have signal. You will choose a PIN that unlocks Doorstep on this device, with or without signal.</p>
    <form id="sign-in-form" novalidate>
      ${input("username", "Username", values.username, "text", "username", errors)}
      ${input("password", "Password", "", "password", "current-password", errors)}
      ${input("pin", "Choose a PIN for this device", "", "password", "new-password", errors, "At least 6 characters. You will need it to unlock Doorstep.")}
      ${input("pin-confirm", "Enter the PIN again", "", "password", "new-password", errors)}
      <button type="submit" class="button">Sign in</button>
    </form>`, "Sign in");
}

function input(id, label, value, type, autocomplete, errors, hint = "") {
  const error = errors.find((e) => e.href === `#${id}`);
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return `<div class="form-group ${error ? "form-group--error" : ""}">
    <label class="label" for="${id}">${esc(label)}</label>
    ${hint ? `<div class="hint" id="${id}-hint">${esc(hint)}</div>` : ""}
    ${error ? `<p class="error-message" id="${id}-error"><span class="visually-hidden">Error:</span> ${esc(error.message)}</p>` : ""}
    <input class="input input--width-10 ${error ? "input--error" : ""}" id="${id}" name="${id}" type="${type}" autocomplete="${autocomplete}" spellcheck="false" value="${esc(value ?? "")}" ${describedBy ? `aria-describedby="${describedBy}"` : ""}>
  </div>`;
}

async function submitSignIn(form) {
  const values = Object.fromEntries(new FormData(form));
  const errors = [];
  if (!values.username) errors.push({ href: "#username", message: "Enter your username" });
  if (!values.password) errors.push({ href: "#password", message: "Enter your password" });
  if ((values.pin ?? "").length < 6) errors.push({ href: "#pin", message: "Your PIN must be at least 6 characters" });
  else if (values.pin !== values["pin-confirm"]) errors.push({ href: "#pin-confirm", message: "The PINs do not match" });
  if (errors.length) return signInPage(errors, values);
  form.querySelector("button").disabled = true;
  try {
    await device.signIn(values.username, values.password, values.pin);
    location.hash = "#/";
    render();
  } catch (error) {
    signInPage([{ href: "#username", message: error.message ?? String(error) }], values);
  }
}

function unlockPage(errors = []) {
  rememberWhereIfLocked();
  const guard = device.guardState();
  const pins = guard.pin;
  const warning = guard.contactDaysLeft;
  const tries = pins.failures > 0
    ? `<p class="body" id="pin-tries">${pins.beforeWait > 0 ? `After ${pins.beforeWait} more wrong PIN${pins.beforeWait === 1 ? "" : "s"} you will have to wait before trying again. ` : "You have to wait after each wrong PIN now. "}After ${pins.beforeWipe} more wrong PIN${pins.beforeWipe === 1 ? "" : "s"}, Doorstep wipes every record from this device.</p>`
    : "";
  show(`
    ${errorSummary(errors)}
    <h1>Unlock Doorstep</h1>
    ${warning !== null ? `<div class="warning" id="contact-warning"><p class="body">This device has not reached the server for a long time. Connect to the server within ${warning} day${warning === 1 ? "" : "s"}, or Doorstep will wipe every record from it the next time it opens.</p></div>` : ""}
    <p class="body">Your records on this device are locked. Enter your PIN to unlock them. This works without signal.</p>
    ${tries}
    <form id="unlock-form" novalidate>
      ${input("pin", "PIN", "", "password", "current-password", errors)}
      <button type="submit" class="button">Unlock</button>
    </form>
    <h2>Not you, or forgotten your PIN?</h2>
    <p class="body">Signing out wipes every record from this device. Records not yet sent to the server will be lost.</p>
    <button type="button" class="button button--warning" data-action="sign-out">Sign out and wipe this device</button>`, "Unlock");
}

// The route is in the address; the focus and scroll were saved when the app locked.
function rememberWhereIfLocked() {
  if (location.hash && !sessionStorage.getItem(WHERE_KEY)) {
    try { sessionStorage.setItem(WHERE_KEY, JSON.stringify({ hash: location.hash, focus: null, scroll: 0 })); } catch { /* private mode */ }
  }
}

async function submitUnlock(form) {
  const pin = new FormData(form).get("pin") ?? "";
  if (!pin) return unlockPage([{ href: "#pin", message: "Enter your PIN" }]);
  form.querySelector("button").disabled = true;
  try {
    await device.unlock(pin);
    render();
  } catch (error) {
    // Too many wrong PINs wipe the device: then the sign-in page says so.
    if (device.status() === "new") return render();
    unlockPage([{ href: "#pin", message: error.message ?? String(error) }]);
  }
}

// ---------- caseload and child ----------
// The timescale cell of a child: next visit due, the rule and its status.
function dueCell(schedule) {
  if (!schedule) return `<span class="hint" data-due="pending">Working out from the records on this device…</span>`;
  if (!schedule.nextDue) return `<span data-due="none">${esc(schedule.reason ?? "No visit schedule")}</span>`;
  return `<span data-due="${esc(schedule.nextDue)}">${esc(longDate(schedule.nextDue))}</span> ${statusTag(schedule.status)}<br><span class="hint">${esc(schedule.rule ?? "")}: ${esc(schedule.reason ?? "")}</span>`;
}

// What is waiting on a child's records: decisions, refusals, records not sent.
function recordsCell(child) {
  const refused = child.visits.filter((v) => v.sync === "refused").length;
  const waiting = child.visits.filter((v) => v.sync !== "server" && v.sync !== "refused").length;
  const tags = [];
  if (child.needsDecision) tags.push(`<strong class="tag tag--red" data-needs-decision>${child.needsDecision} need${child.needsDecision === 1 ? "s" : ""} a decision</strong>`);
  if (refused) tags.push(`<strong class="tag tag--red" data-refused>${refused} not accepted by the server</strong>`);
  if (waiting) tags.push(`<strong class="tag tag--orange">${waiting} not on the server yet</strong>`);
  return tags.length ? tags.join(" ") : `<strong class="tag tag--green">Up to date</strong>`;
}

function caseloadPage() {
  const all = device.caseload(today()).children;
  const children = all.filter((c) => !c.former);
  const former = all.filter((c) => c.former);
  const row = (child) => {
    const name = child.profile?.name ?? child.childRef;
    const placement = child.profile?.placement;
    const age = ageText(child.profile?.dateOfBirth);
    return `<tr data-child="${esc(child.childRef)}">
      <td><a href="#/child/${encodeURIComponent(child.childRef)}">${esc(name)}</a><br><span class="hint">${esc(child.childRef)}${age ? `, ${esc(age)}` : ""}</span></td>
      <td>${placement ? `${esc(placement.carerName ?? "")}<br><span class="hint">${esc(coded(PLACEMENT_TYPES, placement.placementType) ?? "")}</span>` : "Not recorded"}</td>
      <td>${esc(longDate(child.schedule?.lastQualifyingVisit) ?? (child.schedule ? "None recorded" : "…"))}</td>
      <td>${dueCell(child.schedule)}</td>
      <td>${recordsCell(child)}</td>
    </tr>`;
  };
  const manager = isManager();
  show(`
    ${manager ? `<a class="back-link" href="#/team">Back to the team dashboard</a>` : ""}
    <h1>${manager ? "Your team's children" : "My caseload"}</h1>
    ${children.length === 0
      ? `<p class="body">No children on this device yet. They appear here once Doorstep has fetched your caseload while online.</p>`
      : `<table class="table" id="caseload"><caption class="caption">${children.length} children. Timescales for ${esc(longDate(today()))}, worked out on this device.</caption>
          <thead><tr><th scope="col">Child</th><th scope="col">Placement</th><th scope="col">Last visit that counts</th><th scope="col">Next visit due</th><th scope="col">Records</th></tr></thead>
          <tbody>${children.map(row).join("")}</tbody></table>`}
    ${former.length ? `<h2 id="former">No longer on your caseload</h2>
      <p class="body">These children have been allocated to someone else while this device held records about them that had not reached the server. The records are kept on this device; each says below what happened to it.</p>
      <ul class="list" id="former-children">${former.map((c) => `<li><a href="#/child/${encodeURIComponent(c.childRef)}">${esc(c.profile?.name ?? c.childRef)}</a> ${recordsCell(c)}</li>`).join("")}</ul>` : ""}`,
  manager ? "Your team's children" : "My caseload");
}

// What happened to one record, in plain words, for the worker who made it.
function recordFate(visit, child) {
  if (visit.sync === "refused") {
    return child?.former
      ? "The server did not accept this record: the child is no longer allocated to you. It is kept on this device. Tell your team manager, who can make sure what you recorded reaches the child's new worker."
      : "The server did not accept this record. It is kept on this device. Tell your team manager.";
  }
  if (visit.sync === "server") return child?.former ? "This record reached the server before the child was reallocated." : "";
  return "Saved on this device; it will be sent when there is signal.";
}

function childPage(ref) {
  const child = childOf(ref, true);
  if (!child) return show(`<h1>Child not found</h1><p class="body">${esc(ref)} is not on your caseload on this device.</p><p><a href="#/caseload">Back to my caseload</a></p>`, "Not found");
  const p = child.profile;
  const placement = p?.placement;
  const me = device.worker()?.username;
  const row = (k, v) => `<div class="summary-list__row"><dt>${esc(k)}</dt><dd>${esc(v ?? "Not recorded")}</dd><dd></dd></div>`;
  const visits = child.visits.map((v) => {
    const fate = recordFate(v, child);
    return `<tr data-visit="${esc(v.documentId)}">
      <td><a href="#/visit/${encodeURIComponent(v.documentId)}">${esc(longDate(v.visitDate) ?? "No date")}</a></td>
      <td>${v.discarded ? `<strong class="tag tag--grey">Discarded</strong>` : reviewTag(v.reviewState ?? (v.status === "submitted" ? "submitted" : "draft"))}${v.conflicts ? ` <strong class="tag tag--red" data-needs-decision>Needs a decision</strong>` : ""}${me && v.workerId !== me ? ` <strong class="tag tag--blue" data-previous-worker>Recorded by ${esc(v.workerId)}</strong>` : ""}</td>
      <td>${syncTag(v.sync)}${fate ? `<br><span class="hint" data-fate>${esc(fate)}</span>` : ""}</td></tr>`;
  }).join("");
  const words = child.visits.flatMap((v) => v.childWords.map((w) => ({ date: v.visitDate, words: w }))).slice(0, 3);
  const schedule = child.schedule;
  show(`
    <a class="back-link" href="#/caseload">Back to ${isManager() ? "the team's children" : "my caseload"}</a>
    <span class="caption">${esc(child.childRef)}${ageText(p?.dateOfBirth) ? ` · ${esc(ageText(p?.dateOfBirth))}` : ""}</span>
    <h1>${esc(p?.name ?? child.childRef)}</h1>
    ${child.former ? `<div class="warning" id="former-child"><p class="body">${esc(p?.name ?? child.childRef)} is no longer allocated to you. This device keeps the records you made that had not reached the server; each says below what happened to it.</p></div>` : ""}
    ${child.needsDecision ? `<div class="warning" id="needs-decision"><p class="body">${child.needsDecision} record${child.needsDecision === 1 ? " needs" : "s need"} a decision: two devices gave different answers. Open ${child.needsDecision === 1 ? "it" : "them"} to choose.</p></div>` : ""}
    ${isManager() || child.former ? "" : `<a class="button" href="#/new-visit/${encodeURIComponent(ref)}" role="button" draggable="false">Record a visit</a>`}
    <a class="button button--secondary" href="#/child/${encodeURIComponent(ref)}/handover" role="button" draggable="false">Handover summary</a>
    <h2>Visit timescales</h2>
    <dl class="summary-list" id="timescales">
      ${row("Next visit due", schedule ? (schedule.nextDue ? `${longDate(schedule.nextDue)} (${{ overdue: "overdue", dueSoon: "due soon", met: "on track", upcoming: "on track", noSchedule: "no schedule" }[schedule.status] ?? schedule.status})` : "Not scheduled") : "Working out…")}
      ${row("Rule", schedule?.rule ? `${schedule.rule}: ${schedule.reason ?? ""}` : schedule?.reason)}
      ${row("Last visit that counts", longDate(schedule?.lastQualifyingVisit) ?? "None recorded")}
    </dl>
    <h2>What a new worker needs to know</h2>
    <p class="body">${esc(p?.summary || "Nothing written yet.")}</p>
    ${words.length ? `<h3>In ${esc(p?.name ?? "the child")}'s words</h3>${words.map((w) => `<div class="inset"><p class="words">“${esc(w.words)}”</p><p class="hint">${esc(longDate(w.date))}</p></div>`).join("")}` : ""}
    <h2>Profile</h2>
    <dl class="summary-list" id="profile">
      ${row("Legal name", p?.legalName)}${row("Date of birth", p?.dateOfBirth ? `${longDate(p.dateOfBirth)}${ageText(p.dateOfBirth) ? ` (${ageText(p.dateOfBirth)})` : ""}` : null)}${row("First language", p?.firstLanguage)}
      ${row("Communication needs", p?.communicationNeeds || null)}${row("Legal status", coded(LEGAL_STATUS, p?.legalStatus))}
    </dl>
    <h2>Placement</h2>
    <dl class="summary-list" id="placement">
      ${row("Carer or home", placement?.carerName)}${row("Placement type", coded(PLACEMENT_TYPES, placement?.placementType))}${row("Provider", coded(PROVIDERS, placement?.provider))}
      ${row("Visits follow", BASES[placement?.statutoryBasis ?? ""] ?? placement?.statutoryBasis)}${row("Since", longDate(placement?.startDate))}${row("Postcode", placement?.postcode)}
    </dl>
    <h2>Visits</h2>
    ${visits ? `<table class="table"><thead><tr><th scope="col">Date</th><th scope="col">Record</th><th scope="col">Where it is saved</th></tr></thead><tbody>${visits}</tbody></table>` : `<p class="body">No visits on this device.</p>`}`,
  p?.name ?? ref);
}

function dateInput(id, legend, value, errors = [], hint = "For example, 27 3 2026") {
  const [y, m, d] = (value ?? "").split("-");
  const error = errors.find((e) => e.href === `#${id}-day`);
  return `<div class="form-group ${error ? "form-group--error" : ""}"><fieldset role="group" aria-describedby="${id}-hint${error ? ` ${id}-error` : ""}">
    <legend>${esc(legend)}</legend>
    <div class="hint" id="${id}-hint">${esc(hint)}</div>
    ${error ? `<p class="error-message" id="${id}-error">${esc(error.message)}</p>` : ""}
    <div class="date-input" data-date="${id}">
      <div><label class="label" for="${id}-day">Day</label><input class="input input--width-2" id="${id}-day" name="${id}-day" inputmode="numeric" value="${esc(d ? String(Number(d)) : "")}"></div>
      <div><label class="label" for="${id}-month">Month</label><input class="input input--width-2" id="${id}-month" name="${id}-month" inputmode="numeric" value="${esc(m ? String(Number(m)) : "")}"></div>
      <div><label class="label" for="${id}-year">Year</label><input class="input input--width-4" id="${id}-year" name="${id}-year" inputmode="numeric" value="${esc(y ?? "")}"></div>
    </div></fieldset></div>`;
}
const readDate = (id) => {
  const get = (part) => (document.getElementById(`${id}-${part}`)?.value ?? "").trim();
  const [d, m, y] = [get("day"), get("month"), get("year")];
  if (!d && !m && !y) return "";
  return `${y.padStart(4, "0")}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`;
};

function newVisitPage(ref, errors = []) {
  const child = childOf(ref);
  show(`
    <a class="back-link" href="#/child/${encodeURIComponent(ref)}">Back</a>
    ${errorSummary(errors)}
    <span class="caption">${esc(child?.profile?.name ?? ref)}</span>
    <h1>Record a visit</h1>
    <form id="new-visit-form" data-ref="${esc(ref)}" novalidate>
      ${dateInput("visit-date", "When was the visit?", today(), errors)}
      <button type="submit" class="button">Start the record</button>
    </form>`, "Record a visit");
}

// ---------- the visit record ----------
function loadVisit(id, today) {
  return device.visit(id, today);
}

// Who chose one side of a conflict, on which device and when.
const sideOrigin = (side) => {
  const who = side.by ? (side.by === device.worker()?.username ? "you" : side.by) : "someone";
  const where = side.thisDevice ? "on this device" : side.device ? `on another device (…${side.device.slice(-6)})` : "on another device";
  return `Chosen by ${who} ${where}${side.at ? `, ${dateTime(side.at)}` : ""}`;
};

function conflictBlock(visit) {
  if (!visit.conflicts.length) return "";
  return visit.conflicts.map((c) => `
    <div class="conflict" data-conflict="${esc(c.field)}" id="conflict-${esc(c.field)}" role="alert">
      <h2>Two different answers for “${esc(FIELD_NAMES[c.field] ?? c.field)}”</h2>
      <p class="body">This record was changed on two devices at the same time. Choose the right answer; the other will be replaced everywhere. The record cannot be submitted until you do.</p>
      <form class="resolve-form" data-field="${esc(c.field)}" novalidate>
        ${fieldset(`Which is right for “${FIELD_NAMES[c.field] ?? c.field}”?`, `<div class="radios">${c.sides.map((side, i) => `
          <div class="radios__item"><input type="radio" id="resolve-${esc(c.field)}-${i}" name="choice" value="${i}" aria-describedby="resolve-${esc(c.field)}-${i}-hint"><label for="resolve-${esc(c.field)}-${i}">${esc(label(c.field, answerCode(c.field, side.value)))}</label></div>
          <div class="hint conflict-origin" id="resolve-${esc(c.field)}-${i}-hint">${esc(sideOrigin(side))}</div>`).join("")}</div>`)}
        <button type="submit" class="button">Use this answer</button>
      </form>
    </div>`).join("");
}

// A conflict candidate's text as its choice code ("Yes" is "yes" for the yes/no questions).
const answerCode = (field, value) => (CHOICES[field] === YES_NO ? { Yes: "yes", No: "no" }[value] ?? value : value);

function sectionDone(visit, section) {
  switch (section) {
    case "details": return Boolean(visit.visitDate && visit.visitKind && visit.location && visit.purpose);
    case "people": return visit.personsPresent.length > 0;
    case "seen": return visit.childSeen !== null && (visit.childSeen === false || visit.seenAlone !== null);
    case "bedroom": return visit.bedroomSeen !== null;
    case "observations": return visit.observations.trim() !== "";
    case "voice": return visit.voice.some((v) => v.words.trim() || v.paraphrase.trim());
    case "analysis": return visit.analysis.trim() !== "";
    case "actions": return visit.actions.length > 0;
    case "welfare": return visit.welfareSafeguarded !== null;
    default: return false;
  }
}

function visitHeader(visit, back) {
  const child = childOf(visit.childId);
  const me = device.worker()?.username;
  return `<a class="back-link" href="${back}">Back</a>
    <span class="caption">${esc(child?.profile?.name ?? visit.childId)} · visit on ${esc(longDate(visit.visitDate) ?? "no date")} · ${syncTag(visit.sync)}${me && visit.workerId !== me ? ` · <strong class="tag tag--blue" data-previous-worker>Recorded by ${esc(visit.workerId)}</strong>` : ""}</span>
    ${visit.sync === "refused" ? `<div class="warning"><p class="body">${esc(recordFate(visit, child))}</p></div>` : ""}`;
}

function visitTasksPage(id) {
  const visit = loadVisit(id);
  if (visit.unreadable) return show(`<h1>This record cannot be read</h1><p class="body">${esc(visit.unreadable)}</p>`, "Problem");
  const mustAmend = visit.review?.amendmentRequired;
  const neverSubmitted = visit.status !== "submitted" && !visit.submittedAt && !visit.review?.decision;
  show(`
    ${visitHeader(visit, `#/child/${encodeURIComponent(visit.childId)}`)}
    <h1>Visit record</h1>
    ${visit.discarded ? `<div class="warning" id="discarded"><p class="body">This draft was discarded on ${esc(dateOnly(visit.discarded.at ?? Date.now()))}: ${esc(visit.discarded.reason)}. It is kept, but does not count as a visit.</p></div>` : ""}
    ${reviewBanner(visit)}
    ${isManager() ? `<p><a href="#/review/${encodeURIComponent(id)}">Review this record</a></p>` : ""}
    ${printLink(`/api/visits/${encodeURIComponent(id)}/print`, "Print this visit")}
    ${mustAmend && !isManager() ? `<a class="button button--secondary" href="#/visit/${encodeURIComponent(id)}/amend" role="button" draggable="false">Change this record</a>` : ""}
    <div id="conflicts" data-fields="${esc(visit.conflicts.map((c) => c.field).join(","))}">${conflictBlock(visit)}</div>
    <ol class="task-list">
      ${SECTIONS.map(([key, title]) => `<li><a href="#/visit/${encodeURIComponent(id)}/${key}">${esc(title)}</a>
        ${visit.conflicts.some((c) => sectionOf(c.field) === key) ? `<strong class="tag tag--red">Needs a decision</strong>` : sectionDone(visit, key) ? `<strong class="tag tag--green">Completed</strong>` : `<strong class="tag tag--grey">Not started</strong>`}</li>`).join("")}
    </ol>
    ${visit.discarded ? "" : `<a class="button" href="#/visit/${encodeURIComponent(id)}/check" role="button" draggable="false">Check your answers</a>`}
    ${neverSubmitted && !visit.discarded && !isManager() ? `<p><a href="#/visit/${encodeURIComponent(id)}/discard" id="discard-link">Discard this draft (started in error)</a></p>` : ""}`, "Visit record");
}

// The key under which a screen keeps input not yet part of the record.
const draftKey = (id, what) => `${id}:${what}`;
const draft = (id, what) => device.formDraft(draftKey(id, what)) ?? {};

function actionFields(a, i, errors) {
  return `<div class="action" id="action-${i}" data-action-id="${esc(a.actionId)}">
    <h2>Action ${i + 1}</h2>
    ${textarea(`action-${i}-description`, "What will be done", a.description, `data-item="actions:${i}:description"`)}
    ${fieldset("Who owns it?", radios(`action-${i}-ownerType`, OWNER_TYPES, a.ownerType).replaceAll(`data-choice="action-${i}-ownerType"`, `data-action-owner="${i}"`))}
    <div class="form-group"><label class="label" for="action-${i}-owner">Name of the owner</label><input class="input" id="action-${i}-owner" data-item="actions:${i}:ownerName" value="${esc(a.ownerName)}"></div>
    ${dateInput(`action-${i}-due`, "When is it due?", a.dueDate, errors).replace(`data-date="action-${i}-due"`, `data-date="action-${i}-due" data-action-due="${i}"`)}
    ${fieldset("Is it done?", radios(`action-${i}-status`, ACTION_STATUSES, a.status, { inline: true }).replaceAll(`data-choice="action-${i}-status"`, `data-action-status="${i}"`))}
    <button type="button" class="button button--warning" data-action="remove-entry" data-list="actions" data-index="${i}" data-id="${esc(a.actionId)}">Remove action ${i + 1}</button>
  </div>`;
}

function visitSectionPage(id, section, sectionErrors = []) {
  const visit = loadVisit(id);
  // A signed-off record changes only once the worker has said why.
  if (visit.review?.amendmentRequired) return amendPage(id, section);
  const title = SECTIONS.find(([key]) => key === section)?.[1] ?? "Visit";
  const next = SECTIONS[SECTIONS.findIndex(([key]) => key === section) + 1]?.[0];
  const nextHref = next ? `#/visit/${encodeURIComponent(id)}/${next}` : `#/visit/${encodeURIComponent(id)}/check`;
  let body = "";
  const problems = triedToSubmit.has(id)
    ? loadVisit(id, today()).problems.filter((p) => sectionOf(p.field) === section && !visit.conflicts.some((c) => c.field === p.field))
    : [];
  const inlineErrors = problems.length === 0 ? "" : `<div class="form-group form-group--error" id="section-errors">
    ${problems.map((p) => `<p class="error-message"><span class="visually-hidden">Error:</span> ${esc(p.message)}</p>`).join("")}</div>`;
  const choice = (field, legend, opts = {}) => fieldset(legend, radios(field, CHOICES[field], typeof visit[field] === "boolean" ? boolCode(visit[field]) : visit[field], opts), opts.hint);
  const remove = (list, i, id, what) => `<button type="button" class="button button--warning" data-action="remove-entry" data-list="${list}" data-index="${i}" data-id="${esc(id ?? "")}">Remove ${esc(what)}</button>`;
  switch (section) {
    case "details":
      body = dateInput("visit-date", "Date of the visit", visit.visitDate, [], "For example, 27 3 2026")
        + choice("visitKind", "Kind of visit")
        + choice("madeBy", "Who made the visit?", { hint: "Visits by a personal adviser count towards a care leaver's visits; a social worker's towards the placement's." })
        + choice("location", "Where did you see the child?")
        + choice("announced", "Did the carer know you were coming?", { inline: true })
        + textarea("purpose", "Purpose of the visit", visit.purpose, `data-text="purpose"`);
      break;
    case "people":
      body = `<h2>People present</h2>
        ${visit.personsPresent.map((p, i) => `<div class="person">
          <div class="form-group"><label class="label" for="person-${i}-name">Name</label><input class="input" id="person-${i}-name" data-item="personsPresent:${i}:name" value="${esc(p.name)}"></div>
          <div class="form-group"><label class="label" for="person-${i}-role">Role or relationship to the child</label><input class="input" id="person-${i}-role" data-item="personsPresent:${i}:role" value="${esc(p.role)}"></div>
          ${remove("personsPresent", i, p.personId, p.name ? p.name : `person ${i + 1}`)}
        </div>`).join("") || `<p class="body">Nobody added yet.</p>`}
        <button type="button" class="button button--secondary" data-action="add-person">Add a person</button>`;
      break;
    case "seen":
      body = choice("childSeen", "Did you see the child?", { inline: true })
        + fieldset("Did you see the child alone?", radios("seenAlone", CHOICES.seenAlone, boolCode(visit.seenAlone), {
          reveal: {
            no: fieldset("Why not?", radios("notAloneReason", CHOICES.notAloneReason, visit.notAloneReason))
              + textarea("not-alone-detail", "Tell us more about why", visit.notAloneDetail, `data-text="notAloneDetail"`),
          },
        }), "Children must be seen alone unless they refuse, it is not appropriate, or it is not possible.");
      break;
    case "bedroom":
      body = choice("bedroomSeen", "Did you see the child's bedroom?")
        + textarea("bedroom-detail", "What you saw, or why you did not see it", visit.bedroomDetail, `data-text="bedroomDetail"`);
      break;
    case "observations":
      body = textarea("observations", "What did you see?", visit.observations, `data-text="observations"`, "Say what you saw: the home, the child's presentation, how they and the carers were together.");
      break;
    case "voice":
      body = `<p class="body">Write the child's own words exactly as they said them. Keep your own summary separate.</p>
        ${visit.voice.map((v, i) => `<div class="voice-entry">
          <h2>What the child said (${i + 1})</h2>
          ${textarea(`voice-${i}-words`, "The child's words, exactly as said", v.words, `data-item="voice:${i}:words"`)}
          ${textarea(`voice-${i}-paraphrase`, "Your summary (optional)", v.paraphrase, `data-item="voice:${i}:paraphrase"`)}
          ${fieldset("What was it about?", `<div class="checkboxes">${TOPICS.map(([code, label]) => `
            <div class="checkboxes__item"><input type="checkbox" id="voice-${i}-topic-${code}" data-topic="${i}:${code}" ${v.topics.includes(code) ? "checked" : ""}><label for="voice-${i}-topic-${code}">${esc(label)}</label></div>`).join("")}</div>`, "Select all that apply")}
          <div class="form-group"><label class="label" for="voice-${i}-scale">Their answer on a scale of 0 to 10 (optional)</label>
            <select class="select input--width-4" id="voice-${i}-scale" data-scale="${i}"><option value="">Not asked</option>${[...Array(11).keys()].map((n) => `<option value="${n}" ${v.scale === n ? "selected" : ""}>${n}</option>`).join("")}</select></div>
          <div class="form-group"><label class="label" for="voice-${i}-scale-question">The question the scale answered</label>
            <div class="hint" id="voice-${i}-scale-question-hint">For example, “How safe do you feel at home, from 0 to 10?”</div>
            <input class="input" id="voice-${i}-scale-question" aria-describedby="voice-${i}-scale-question-hint" data-item="voice:${i}:scaleQuestion" value="${esc(v.scaleQuestion)}"></div>
          <div class="checkboxes__item"><input type="checkbox" id="voice-${i}-readback" data-readback="${i}" ${v.readBack ? "checked" : ""}><label for="voice-${i}-readback">I read this back to the child and they agreed it is what they said</label></div>
          ${remove("voice", i, v.entryId, `what the child said (${i + 1})`)}
        </div>`).join("")}
        <button type="button" class="button button--secondary" data-action="add-voice">Add something the child said</button>`;
      break;
    case "analysis":
      body = textarea("analysis", "Your analysis", visit.analysis, `data-text="analysis"`, "What does what you saw and heard mean for the child? Is the plan working?");
      break;
    case "actions": {
      const d = draft(id, "new-action");
      const error = (field) => sectionErrors.find((e) => e.href === `#action-${field}`);
      const group = (field, html) => `<div class="form-group ${error(field) ? "form-group--error" : ""}">${error(field) ? `<p class="error-message" id="action-${field}-error"><span class="visually-hidden">Error:</span> ${esc(error(field).message)}</p>` : ""}${html}</div>`;
      body = `${visit.actions.map((a, i) => actionFields(a, i, [])).join("") || `<p class="body">No actions yet.</p>`}
        <h2>Add an action</h2>
        <form id="add-action-form" data-visit="${esc(id)}" novalidate>
          ${group("description", `<label class="label" for="action-description">What will be done</label><textarea class="textarea" id="action-description" name="description">${esc(d.description ?? "")}</textarea>`)}
          ${fieldset("Who owns it?", radios("ownerType", OWNER_TYPES, d.ownerType ?? null).replaceAll('data-choice="ownerType"', ""))}
          ${group("owner", `<label class="label" for="action-owner">Name of the owner</label><input class="input" id="action-owner" name="ownerName" value="${esc(d.ownerName ?? "")}">`)}
          ${group("due-day", dateInput("action-due", "When is it due?", d.dueDate ?? ""))}
          <button type="submit" class="button button--secondary">Add the action</button>
        </form>`;
      break;
    }
    case "welfare":
      body = choice("welfareSafeguarded", "Is the child's welfare safeguarded and promoted by this placement?", { inline: true, hint: "If not, the case must be reviewed." });
      break;
    default:
      body = `<p class="body">Unknown section.</p>`;
  }
  const summaryErrors = [...sectionErrors, ...problems.map((p) => ({ href: "#section-errors", message: p.message }))];
  show(`
    ${visitHeader(visit, `#/visit/${encodeURIComponent(id)}`)}
    ${errorSummary(summaryErrors)}
    <div id="conflicts" data-fields="${esc(visit.conflicts.map((c) => c.field).join(","))}">${conflictBlock(visit)}</div>
    <h1>${esc(title)}</h1>
    ${inlineErrors}
    <div id="visit-form" data-visit="${esc(id)}" data-lists="${esc(listShape(visit))}">${body}</div>
    <p class="hint">Saved on this device as you type.</p>
    <a class="button" href="${nextHref}" role="button" draggable="false" data-continue>Continue</a>
    <a class="button button--secondary" href="#/visit/${encodeURIComponent(id)}" role="button" draggable="false" data-continue>Back to the record</a>`, title);
}

function answer(value) {
  if (value === true) return "Yes";
  if (value === false) return "No";
  if (value === null || value === undefined || value === "") return "Not answered";
  return String(value);
}
const label = (field, code) => CHOICES[field]?.find(([c]) => c === code)?.[1] ?? answer(code);
const topicNames = (codes) => codes.map((code) => TOPICS.find(([c]) => c === code)?.[1] ?? code).join(", ");

function checkAnswersPage(id, errors = []) {
  const visit = loadVisit(id);
  const mustAmend = visit.review?.amendmentRequired;
  const change = (section) => (mustAmend ? `#/visit/${encodeURIComponent(id)}/amend/${section}` : `#/visit/${encodeURIComponent(id)}/${section}`);
  const row = (k, v, section, field = "") => `<div class="summary-list__row" ${field ? `data-field="${esc(field)}"` : ""}><dt>${esc(k)}</dt><dd>${esc(v)}</dd>
    <dd><a href="${change(section)}">Change<span class="visually-hidden"> ${esc(k.toLowerCase())}</span></a></dd></div>`;
  const needsSubmit = visit.review ? visit.review.needsSubmit : visit.status !== "submitted";
  const amended = visit.review?.state === "amendedAfterSignOff";
  const voice = visit.voice.map((v, i) => row(`The child's words (${i + 1})`, [
    `“${v.words}”`,
    v.paraphrase ? `Your summary: ${v.paraphrase}` : "",
    v.topics.length ? `About: ${topicNames(v.topics)}` : "",
    v.scale !== null ? `Scale: ${v.scale} out of 10${v.scaleQuestion ? `, answering “${v.scaleQuestion}”` : " (the question is not recorded)"}` : "",
    `Read back to the child: ${v.readBack ? "Yes" : "No"}`,
  ].filter(Boolean).join("\n"), "voice", `voice[${i}]`)).join("") || row("The child's words", "None recorded", "voice", "voice");
  const actions = visit.actions.map((a, i) => [
    `${i + 1}. ${a.description || "(nothing written)"}`,
    `Owner: ${[label("ownerType", a.ownerType) === "Not answered" ? "" : OWNER_TYPES.find(([c]) => c === a.ownerType)?.[1], a.ownerName].filter(Boolean).join(", ") || "not set"}`,
    `Due: ${longDate(a.dueDate) ?? "not set"}`,
    `Status: ${ACTION_STATUSES.find(([c]) => c === a.status)?.[1] ?? "Still to do"}`,
  ].join("\n")).join("\n\n");
  show(`
    ${visitHeader(visit, `#/visit/${encodeURIComponent(id)}`)}
    ${errorSummary(errors)}
    <div id="conflicts" data-fields="${esc(visit.conflicts.map((c) => c.field).join(","))}">${conflictBlock(visit)}</div>
    <h1>Check your answers</h1>
    ${needsSubmit ? reviewBanner(visit) : ""}
    <dl class="summary-list" id="answers">
      ${row("Date of the visit", longDate(visit.visitDate) ?? "Not answered", "details", "visitDate")}
      ${row("Kind of visit", label("visitKind", visit.visitKind), "details", "visitKind")}
      ${row("Visit made by", label("madeBy", visit.madeBy), "details", "madeBy")}
      ${row("Where", label("location", visit.location), "details", "location")}
      ${row("Carer knew you were coming", answer(visit.announced), "details", "announced")}
      ${row("Purpose", answer(visit.purpose), "details", "purpose")}
      ${row("People present", visit.personsPresent.map((p) => (p.role ? `${p.name} (${p.role})` : p.name)).join("\n") || "Nobody added", "people", "personsPresent")}
      ${row("Child seen", answer(visit.childSeen), "seen", "childSeen")}
      ${visit.childSeen === false ? "" : row("Seen alone", answer(visit.seenAlone), "seen", "seenAlone")}
      ${visit.seenAlone === false ? row("Why not alone", `${label("notAloneReason", visit.notAloneReason)}${visit.notAloneDetail ? `\n${visit.notAloneDetail}` : ""}`, "seen", "notAloneReason") : ""}
      ${row("Bedroom seen", label("bedroomSeen", visit.bedroomSeen), "bedroom", "bedroomSeen")}
      ${row("About the bedroom", answer(visit.bedroomDetail), "bedroom", "bedroomDetail")}
      ${row("What I saw", answer(visit.observations), "observations", "observations")}
      ${voice}
      ${row("Analysis", answer(visit.analysis), "analysis", "analysis")}
      ${row("Actions", actions || "None", "actions", "actions")}
      ${row("Welfare safeguarded", answer(visit.welfareSafeguarded), "welfare", "welfareSafeguarded")}
    </dl>
    ${!needsSubmit ? reviewBanner(visit) || `<div class="inset">This record has been submitted.</div>` : visit.discarded ? `<div class="warning"><p class="body">This draft was discarded, so it cannot be submitted.</p></div>` : `
      <h2>${amended ? "Submit the amended record" : "Submit the record"}</h2>
      <p class="body">Submitting tells your manager the record is ready for sign-off. It is sent when there is signal.</p>
      <button type="button" class="button" data-action="submit-visit">${amended ? "Submit the amended record" : "Submit the record"}</button>`}`, "Check your answers");
}

// Discarding a draft started in error: the reason is kept, audited, and the visit never counts.
function discardPage(id, errors = []) {
  const visit = loadVisit(id);
  const error = errors[0];
  const saved = draft(id, "discard").reason ?? "";
  show(`
    ${visitHeader(visit, `#/visit/${encodeURIComponent(id)}`)}
    ${errorSummary(errors)}
    <form id="discard-form" data-visit="${esc(id)}" novalidate>
      <div class="form-group ${error ? "form-group--error" : ""}">
        <h1><label class="label label--heading" for="discard-reason">Why are you discarding this draft?</label></h1>
        <div class="hint" id="discard-reason-hint">For a record started in error (for example, for the wrong child). It is kept with your reason and shown to your manager, but never counts as a visit.</div>
        ${error ? `<p class="error-message" id="discard-reason-error"><span class="visually-hidden">Error:</span> ${esc(error.message)}</p>` : ""}
        <textarea class="textarea ${error ? "textarea--error" : ""}" id="discard-reason" name="reason" data-draft-key="discard" aria-describedby="discard-reason-hint${error ? " discard-reason-error" : ""}">${esc(saved)}</textarea>
      </div>
      <button type="submit" class="button button--warning">Discard the draft</button>
    </form>`, "Discard this draft");
}

function donePage(id) {
  const visit = loadVisit(id);
  show(`
    <div class="inset"><h1>Record submitted</h1>
    <p class="body">${visit.sync === "server" ? "It is saved to the server." : "It is saved on this device and will be sent to the server when there is signal."} ${syncTag(visit.sync)}</p></div>
    <p><a href="#/child/${encodeURIComponent(visit.childId)}">Back to the child's page</a></p>`, "Record submitted");
}

// ---------- team manager: dashboard ----------
// Filters are applied here, on the rows the server computed (statuses, due dates); the
// dashboard itself comes from the device, sealed, as last fetched.
const dashboardFilters = { overdue: false, week: false, worker: "" };
let dashboardFetch = { requested: false, loading: false, error: null, offline: false };
const STATUS_TAGS = {
  overdue: ["Overdue", "red"],
  dueSoon: ["Due soon", "yellow"],
  met: ["Met", "green"],
  upcoming: ["Upcoming", "grey"],
  noSchedule: ["No schedule", "grey"],
};
const statusTag = (status) => {
  const [text, colour] = STATUS_TAGS[status] ?? [status, "grey"];
  return `<strong class="tag tag--${colour}">${esc(text)}</strong>`;
};
const REVIEW_STATES = {
  draft: ["Draft", "grey"],
  submitted: ["Awaiting sign-off", "blue"],
  signedOff: ["Signed off", "green"],
  returned: ["Returned for amendment", "orange"],
  amendedAfterSignOff: ["Amended after sign-off", "orange"],
  resubmitted: ["Submitted again", "blue"],
};
const reviewTag = (state) => {
  const [text, colour] = REVIEW_STATES[state] ?? REVIEW_STATES.draft;
  return `<strong class="tag tag--${colour}" data-review-state="${esc(state)}">${esc(text)}</strong>`;
};
const dateTime = (ms) => (ms ? new Date(ms).toLocaleString("en-GB", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" }) : "not known");
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
// A YYYY-MM-DD date as people read it ("3 March 2026"); anything else as it is.
const longDate = (iso) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : iso;
};
const dateOnly = (ms) => new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
const addDays = (iso, days) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

function refreshDashboard() {
  // One fetch at a time: opening the screen twice while one is on its way waits for it.
  if (dashboardFetch.loading) {
    dashboardFetch.requested = true;
    return;
  }
  dashboardFetch = { requested: true, loading: navigator.onLine, error: null, offline: !navigator.onLine };
  if (!navigator.onLine) return;
  device.refreshDashboard()
    .then(() => { dashboardFetch.loading = false; })
    .catch((error) => {
      dashboardFetch.loading = false;
      // The browser may think it is online with no signal: then the server is unreachable.
      if (error.name === "OfflineError") dashboardFetch.offline = true;
      else dashboardFetch.error = error.message ?? String(error);
    })
    .finally(() => { if (parseRoute().page === "team") render(); });
}

function filteredChildren(dashboard) {
  const weekEnd = addDays(dashboard.asOf, 7);
  return dashboard.children.filter((c) => {
    if (dashboardFilters.worker && (c.worker ?? "") !== dashboardFilters.worker) return false;
    if (!dashboardFilters.overdue && !dashboardFilters.week) return true;
    return (dashboardFilters.overdue && c.status === "overdue")
      || (dashboardFilters.week && c.status !== "overdue" && c.nextDue !== null && c.nextDue <= weekEnd);
  });
}

function dashboardResults(dashboard) {
  const rows = filteredChildren(dashboard);
  return `<p class="body" id="dashboard-count" role="status">Showing ${rows.length} of ${dashboard.children.length} children</p>
    ${rows.length === 0 ? `<p class="body">No children match these filters.</p>` : `
    <table class="table" id="dashboard-children"><caption class="visually-hidden">Children, their last qualifying visit and when the next is due</caption>
      <thead><tr><th scope="col">Child</th><th scope="col">Worker</th><th scope="col">Last qualifying visit</th><th scope="col">Next visit due</th><th scope="col">Status</th></tr></thead>
      <tbody>${rows.map((c) => `<tr data-child="${esc(c.childRef)}">
        <td><a href="#/child/${encodeURIComponent(c.childRef)}">${esc(c.childName)}</a><br><span class="hint">${esc(c.childRef)}</span></td>
        <td>${esc(c.workerName ?? "Not allocated")}</td>
        <td>${esc(longDate(c.lastQualifyingVisit) ?? "None recorded")}</td>
        <td>${esc(longDate(c.nextDue) ?? "Not scheduled")}${c.ruleId ? `<br><span class="hint">${esc(c.ruleId)}</span>` : ""}</td>
        <td data-status="${esc(c.status)}">${statusTag(c.status)}${c.needsDecision ? ` <strong class="tag tag--red" data-needs-decision>Needs a decision</strong>` : ""}<br><span class="hint">${esc(c.reason)}</span></td></tr>`).join("")}</tbody>
    </table>`}`;
}

// How long a record has waited, in words.
const waited = (days) => (days === null || days === undefined ? "Waiting time not known" : days === 0 ? "Submitted today" : `Waiting ${days} day${days === 1 ? "" : "s"}`);

function dashboardPage() {
  if (!isManager()) return show(`<h1>Team dashboard</h1><p class="body">Only a team manager can see the team dashboard.</p><p><a href="#/caseload">Go to my caseload</a></p>`, "Team dashboard");
  if (!dashboardFetch.requested) refreshDashboard();
  const stored = device.dashboard();
  const online = navigator.onLine && !dashboardFetch.offline;
  const asOf = stored ? `as of ${dateTime(stored.fetchedAt)}` : "";
  let state;
  if (dashboardFetch.loading) state = `<p class="body" data-dashboard-state="loading">Updating the dashboard…${stored ? ` Showing it ${esc(asOf)} meanwhile.` : ""}</p>`;
  else if (!online) state = `<div class="inset" data-dashboard-state="offline"><p class="body">You are offline. ${stored ? `This is the dashboard ${esc(asOf)}, saved on this device.` : "The dashboard has not been saved on this device yet: open it once with signal."}</p></div>`;
  else if (dashboardFetch.error) state = `<div class="warning" data-dashboard-state="failed"><p class="body">The dashboard could not be updated: ${esc(dashboardFetch.error)}${stored ? ` Showing it ${esc(asOf)}.` : ""}</p></div>`;
  else state = `<p class="body" data-dashboard-state="fresh">Up to date, ${esc(asOf)}.</p>`;
  const header = `<span class="caption">${esc(stored?.dashboard.team ?? "Your team")}</span><h1>Team dashboard</h1>${state}`;
  if (!stored) return show(`${header}<p><a href="#/caseload">See the team's children</a></p>`, "Team dashboard");
  const d = stored.dashboard;
  const h = d.headline ?? {};
  const workers = d.workers.map((w) => `<option value="${esc(w.worker)}" ${dashboardFilters.worker === w.worker ? "selected" : ""}>${esc(w.workerName)}</option>`).join("");
  const count = (n, label, href, colour) => `<li class="headline__item headline__item--${colour}"><a href="${href}"><span class="headline__number" data-headline="${esc(label)}">${n ?? 0}</span> <span class="headline__label">${esc(label)}</span></a></li>`;
  const writeUps = d.writeUpsOutstanding ?? [];
  show(`${header}
    <p class="body">Visit timescales are calculated for ${esc(longDate(d.asOf))}.</p>
    <ul class="headline" id="dashboard-headline" aria-label="What needs you first">
      ${count(h.overdue, "overdue visits", "#dashboard-children-heading", "red")}
      ${count(h.dueThisWeek, "visits due this week", "#dashboard-children-heading", "yellow")}
      ${count(h.awaitingSignOff, "awaiting sign-off", "#dashboard-awaiting-heading", "blue")}
      ${count(h.writeUpsLate, "write-ups late", "#dashboard-write-ups-heading", "orange")}
      ${count(h.needsDecision, "need a decision", "#dashboard-awaiting-heading", "red")}
    </ul>
    ${online ? `<button type="button" class="button button--secondary" data-action="refresh-dashboard">Update now</button>` : ""}
    <h2 id="dashboard-awaiting-heading">Records awaiting sign-off, oldest first</h2>
    ${d.awaitingSignOff.length === 0 ? `<p class="body">No records are waiting for you.</p>` : `<table class="table" id="dashboard-awaiting"><thead><tr><th scope="col">Child</th><th scope="col">Visit</th><th scope="col">Waiting</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Review</span></th></tr></thead>
      <tbody>${d.awaitingSignOff.map((a) => `<tr data-visit="${esc(a.visitDocumentId)}"><td>${esc(a.childName)}<br><span class="hint">${esc(a.workerName)}</span></td>
        <td>${esc(longDate(a.visitDate) ?? "No date")}</td>
        <td data-waiting="${esc(a.waitingDays ?? "")}">${esc(waited(a.waitingDays))}</td>
        <td>${reviewTag(a.reviewState)}${a.late ? ` <strong class="tag tag--yellow">Recorded late</strong>` : ""}${a.openConflicts ? ` <strong class="tag tag--red" data-needs-decision>Needs a decision</strong>` : ""}${a.byPreviousWorker ? ` <strong class="tag tag--blue">Recorded by the previous worker</strong>` : ""}</td>
        <td><a href="#/review/${encodeURIComponent(a.visitDocumentId)}">Review<span class="visually-hidden"> the visit to ${esc(a.childName)} on ${esc(longDate(a.visitDate) ?? "")}</span></a></td></tr>`).join("")}</tbody></table>`}
    <h2 id="dashboard-write-ups-heading">Write-ups outstanding</h2>
    ${writeUps.length === 0 ? `<p class="body">Every visit recorded has been written up and submitted.</p>` : `<table class="table" id="dashboard-write-ups"><thead><tr><th scope="col">Child</th><th scope="col">Worker</th><th scope="col">Visit</th><th scope="col">Outstanding</th></tr></thead>
      <tbody>${writeUps.map((w) => `<tr data-visit="${esc(w.visitDocumentId)}"><td>${esc(w.childName)}</td><td>${esc(w.workerName)}</td><td>${esc(longDate(w.visitDate))}</td>
        <td data-days="${esc(w.daysSinceVisit)}">${esc(`${w.daysSinceVisit} day${w.daysSinceVisit === 1 ? "" : "s"}`)}${w.late ? ` <strong class="tag tag--red">Late</strong>` : ""}</td></tr>`).join("")}</tbody></table>`}
    <h2 id="dashboard-children-heading">Children</h2>
    <form id="dashboard-filters" novalidate>
      ${fieldset("Show only", `<div class="checkboxes">
        <div class="checkboxes__item"><input type="checkbox" id="filter-overdue" name="overdue" ${dashboardFilters.overdue ? "checked" : ""}><label for="filter-overdue">Overdue visits</label></div>
        <div class="checkboxes__item"><input type="checkbox" id="filter-week" name="week" ${dashboardFilters.week ? "checked" : ""}><label for="filter-week">Visits due in the next 7 days</label></div></div>`, "Select all that apply")}
      <div class="form-group"><label class="label" for="filter-worker">Worker</label>
        <select class="select input--width-20" id="filter-worker" name="worker"><option value="">All workers</option>${workers}</select></div>
    </form>
    <div id="dashboard-results">${dashboardResults(d)}</div>
    <button type="button" class="button button--secondary" data-action="download-csv">Download CSV of these children</button>
    <h2>Overdue visits by worker</h2>
    <table class="table" id="dashboard-workers"><thead><tr><th scope="col">Worker</th><th scope="col">Children</th><th scope="col">Overdue</th></tr></thead>
      <tbody>${d.workers.map((w) => `<tr><td>${esc(w.workerName)}</td><td>${w.children}</td><td>${w.overdue ? `<strong class="tag tag--red">${w.overdue} overdue</strong>` : "None"}</td></tr>`).join("")}</tbody></table>
    <h2>Actions past their due date</h2>
    ${d.overdueActions.length === 0 ? `<p class="body">No actions are past their due date.</p>` : `<table class="table" id="dashboard-actions"><thead><tr><th scope="col">Child</th><th scope="col">Action</th><th scope="col">Owner</th><th scope="col">Due</th></tr></thead>
      <tbody>${d.overdueActions.map((a) => `<tr><td><a href="#/child/${encodeURIComponent(a.childRef)}">${esc(a.childName)}</a></td><td>${esc(a.description)}</td><td>${esc(a.ownerName || "Not set")}</td><td>${esc(longDate(a.dueDate))} <strong class="tag tag--red">Overdue</strong></td></tr>`).join("")}</tbody></table>`}
    <p><a href="#/caseload">See all the team's children and their records</a></p>`, "Team dashboard");
}

// CSV of the children shown, made on the device from the stored dashboard (works offline).
function downloadCsv() {
  const stored = device.dashboard();
  if (!stored) return;
  const d = stored.dashboard;
  // Quote every cell; a leading = + - @ is neutralised so a spreadsheet does not run it.
  const cell = (value) => {
    const text = String(value ?? "");
    return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
  };
  const header = ["child_ref", "child_name", "worker", "worker_name", "placement_start", "last_qualifying_visit", "next_due", "rule", "status", "reason"];
  const lines = [header.map(cell).join(","), ...filteredChildren(d).map((c) => [c.childRef, c.childName, c.worker, c.workerName, c.placementStart, c.lastQualifyingVisit, c.nextDue, c.ruleId, c.status, c.reason].map(cell).join(","))];
  const url = URL.createObjectURL(new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `visits-${d.asOf}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------- team manager: review a record ----------
// Read from the server each time the page opens (a manager decides on the latest version).
let review = { id: null, data: null, error: null, loading: false, errors: [], notice: null, values: {} };

function loadReview(id, keep = {}) {
  review = { id, data: null, error: null, loading: true, errors: [], notice: null, values: {}, ...keep };
  device.review(id)
    .then((data) => { if (review.id === id) review.data = data; })
    .catch((error) => { if (review.id === id) review.error = error.message ?? String(error); })
    .finally(() => { if (review.id === id) { review.loading = false; if (parseRoute().page === "review") render(); } });
}

// Who wrote each section and when, on one line: "sw-north-1 · 3 March 2026, 14:05 on the
// device · received 14:07".
const shortTime = (ms) => new Date(ms).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const provenance = (s) => {
  if (!s.author && !s.deviceTime && !s.receivedAt) return "Who wrote this and when is not known";
  const parts = [s.author ?? "Author not known"];
  if (s.deviceTime) parts.push(`written ${shortTime(s.deviceTime)}`);
  if (s.receivedAt) parts.push(`received ${shortTime(s.receivedAt)}`);
  return parts.map(esc).join(" · ");
};
const sectionRows = (sections, withMeta, conflicts = []) => sections.map((s) => {
  const conflict = conflicts.find((c) => c.field === s.field);
  const value = conflict
    ? `<strong class="tag tag--red">Needs a decision</strong> Two answers: ${conflict.candidates.map((c) => `${esc(c.value)} (${esc(c.by ?? "someone")}${c.at ? `, ${esc(shortTime(c.at))}` : ""})`).join(" or ")}`
    : esc(s.value || "Not answered");
  return `<div class="summary-list__row" data-field="${esc(s.field)}"><dt>${esc(s.label)}</dt><dd>${value}</dd>
  <dd>${withMeta ? `<span class="hint provenance">${provenance(s)}</span>` : ""}</dd></div>`;
}).join("");

function reviewPage(id) {
  if (review.id !== id) loadReview(id);
  const back = `<a class="back-link" href="#/team">Back to the team dashboard</a>`;
  if (review.loading) return show(`${back}<h1>Review the visit record</h1><p class="body">Getting the latest version from the server…</p>`, "Review");
  if (review.error) {
    return show(`${back}<h1>Review the visit record</h1>
      <div class="warning"><p class="body" data-review-error>${esc(review.error)}</p></div>
      <p class="body">Records are reviewed on the server's latest version, so reviewing needs signal.</p>`, "Review");
  }
  const r = review.data;
  const decidable = ["submitted", "amendedAfterSignOff", "resubmitted"].includes(r.reviewState);
  const signed = r.signedVersion;
  const v = review.values;
  const error = (field) => review.errors.find((e) => e.href === `#${field}`);
  const commentError = error("decision-comment");
  const conflicts = r.conflicts ?? [];
  show(`${back}
    ${errorSummary(review.errors)}
    ${review.notice ? `<div class="notification notification--success" role="status"><h2>${esc(review.notice)}</h2></div>` : ""}
    <span class="caption">${esc(r.childName)} · visit on ${esc(longDate(r.visitDate) ?? "no date")} · by ${esc(r.workerName)}</span>
    <h1>Review the visit record</h1>
    <p class="body">${reviewTag(r.reviewState)}${r.late ? ` <strong class="tag tag--yellow">Recorded late</strong>` : ""}${r.recordedByPreviousWorker ? ` <strong class="tag tag--blue" data-previous-worker>Recorded by the previous worker</strong>` : ""}</p>
    ${conflicts.length ? `<div class="warning" id="review-conflicts"><h2>Needs a decision</h2><p class="body">Two devices gave different answers, and the worker has not yet chosen:</p><ul class="list">${conflicts.map((c) => `<li>${esc(c.label)}: ${c.candidates.map((side) => `${esc(side.value)} (${esc(side.by ?? "someone")}${side.device ? ` on device …${esc(side.device.slice(-6))}` : ""}${side.at ? `, ${esc(shortTime(side.at))}` : ""})`).join(" or ")}</li>`).join("")}</ul></div>` : ""}
    ${signed ? `<div class="inset" id="signed-version">
      <h2>${r.reviewState === "amendedAfterSignOff" ? "Amended after sign-off" : "Signed off"}</h2>
      <p class="body">Signed off by ${esc(signed.signedBy)} on ${esc(dateTime(signed.signedAt))}${signed.comment ? `: “${esc(signed.comment)}”` : ""}</p>
      ${r.differences.length ? `<h3>What changed since it was signed off</h3>
        <div id="differences">${r.differences.map((d) => `<div class="difference" data-field="${esc(d.field)}"><h4 class="difference__label">${esc(d.label)}</h4>
          <div class="difference__sides"><div class="difference__side"><p class="hint">When signed off</p><p class="difference__text">${esc(d.signed || "Not answered")}</p></div>
          <div class="difference__side"><p class="hint">Now</p><p class="difference__text">${esc(d.current || "Not answered")}</p></div></div></div>`).join("")}</div>` : ""}
      <details class="details"><summary>The version that was signed off</summary>
        <dl class="summary-list">${sectionRows(signed.sections.filter((s) => !["visitId", "childId", "workerId"].includes(s.field)), false)}</dl></details>
    </div>` : ""}
    <h2>The record now</h2>
    <dl class="summary-list" id="review-sections">${sectionRows(r.sections, true, conflicts)}</dl>
    ${r.history.length ? `<h2>History</h2><ul class="list" id="review-history">${r.history.map((h) => `<li>${esc({ signedOff: "Signed off", returned: "Returned for amendment", amendment: "Amended" }[h.kind] ?? h.kind)} by ${esc(h.by)} on ${esc(dateTime(h.at))}${h.text ? `: “${esc(h.text)}”` : ""}</li>`).join("")}</ul>` : ""}
    ${decidable ? `<h2>Your decision</h2>
      ${conflicts.length ? `<p class="body">You can return the record so the worker chooses the right answers; it cannot be signed off with answers in dispute.</p>` : ""}
      <form id="decision-form" novalidate>
        ${fieldsetWithError("Do you sign off this record?", `<div class="radios">
          ${conflicts.length ? "" : `<div class="radios__item"><input type="radio" id="decision-signOff" name="decision" value="signOff" ${v.decision === "signOff" ? "checked" : ""}><label for="decision-signOff">Sign off</label></div>`}
          <div class="radios__item"><input type="radio" id="decision-return" name="decision" value="return" ${v.decision === "return" ? "checked" : ""}><label for="decision-return">Return for amendment</label></div></div>`, error("decision-signOff"))}
        <div class="form-group ${commentError ? "form-group--error" : ""}">
          <label class="label" for="decision-comment">Comment</label>
          <div class="hint" id="decision-comment-hint">Required if you return the record: say what needs to change.</div>
          ${commentError ? `<p class="error-message" id="decision-comment-error"><span class="visually-hidden">Error:</span> ${esc(commentError.message)}</p>` : ""}
          <textarea class="textarea ${commentError ? "textarea--error" : ""}" id="decision-comment" name="comment" aria-describedby="decision-comment-hint${commentError ? " decision-comment-error" : ""}">${esc(v.comment ?? "")}</textarea>
        </div>
        <button type="submit" class="button">Save your decision</button>
      </form>` : `<p class="body" id="no-decision">${r.reviewState === "signedOff" ? "This record is signed off." : "This record has not been submitted for sign-off."}</p>`}`, "Review");
}

function fieldsetWithError(legend, body, error) {
  return `<div class="form-group ${error ? "form-group--error" : ""}"><fieldset ${error ? `aria-describedby="decision-error"` : ""}>
    <legend>${esc(legend)}</legend>
    ${error ? `<p class="error-message" id="decision-error"><span class="visually-hidden">Error:</span> ${esc(error.message)}</p>` : ""}
    ${body}</fieldset></div>`;
}

async function submitDecision(form) {
  const data = new FormData(form);
  const values = { decision: data.get("decision"), comment: (data.get("comment") ?? "").trim() };
  const errors = [];
  const firstChoice = `#${form.querySelector("input[name=decision]")?.id ?? "decision-return"}`;
  if (!values.decision) errors.push({ href: firstChoice, message: "Select sign off or return for amendment" });
  if (values.decision === "return" && !values.comment) errors.push({ href: "#decision-comment", message: "Say what needs to change before returning the record" });
  review.values = values;
  review.errors = errors;
  review.notice = null;
  if (errors.length) return render();
  form.querySelector("button[type=submit]").disabled = true;
  try {
    review.data = await device.decide(review.id, values.decision, values.comment, review.data.heads);
    review.values = {};
    review.notice = values.decision === "signOff" ? "Record signed off" : "Record returned for amendment";
  } catch (error) {
    if (error.name === "ChangedError") {
      // Someone changed the record since it was shown: show the latest version instead.
      return loadReview(review.id, { errors: [{ href: "#review-sections", message: "This record changed since you opened it. Check it again before you decide." }], values });
    }
    review.errors = [{ href: `#${form.querySelector("input[name=decision]")?.id ?? "decision-return"}`, message: error.message ?? String(error) }];
  }
  render();
}

// ---------- printing (issue 13): the server renders the record as printable HTML ----------
// The page opens in a new tab (signed in by the session cookie), where the browser's print
// (or "Save as PDF") prints it. It needs the server, so offline the link says so.
function printLink(href, label) {
  return navigator.onLine
    ? `<p><a class="button button--secondary" href="${esc(href)}" target="_blank" rel="noopener" data-action="print" draggable="false">${esc(label)} (opens a printable page)</a></p>`
    : `<p class="hint">${esc(label)}: available when this device is online.</p>`;
}

// ---------- handover summary ----------
function handoverPage(ref) {
  const h = device.handover(ref, today());
  if (!h) return show(`<h1>Child not found</h1><p class="body">${esc(ref)} is not on this device.</p><p><a href="#/">Back</a></p>`, "Not found");
  const p = h.profile;
  const name = p?.name ?? ref;
  const placement = p?.placement;
  const row = (k, v) => `<div class="summary-list__row"><dt>${esc(k)}</dt><dd>${esc(v ?? "Not recorded")}</dd><dd></dd></div>`;
  const yesNo = (v) => (v === true ? "Yes" : v === false ? "No" : "Not recorded");
  show(`
    <a class="back-link" href="#/child/${encodeURIComponent(ref)}">Back to ${esc(name)}'s page</a>
    <span class="caption">${esc(ref)}</span>
    <h1>Handover summary: ${esc(name)}</h1>
    <p class="body">Made on this device from the records it holds (${h.visits.length} visit${h.visits.length === 1 ? "" : "s"}).</p>
    ${printLink(`/api/children/${encodeURIComponent(ref)}/handover/print`, "Print the handover summary")}
    <h2>What a new worker needs to know</h2>
    <p class="body">${esc(p?.summary || "Nothing written yet.")}</p>
    <h2>Current placement</h2>
    <dl class="summary-list" id="handover-placement">
      ${row("Carer or home", placement?.carerName)}${row("Placement type", placement?.placementType)}${row("Since", longDate(placement?.startDate))}${row("Postcode", placement?.postcode)}
    </dl>
    <h2>Visits</h2>
    ${h.visits.length === 0 ? `<p class="body">No visits recorded.</p>` : `<table class="table" id="handover-visits"><caption class="visually-hidden">Visits, oldest first</caption>
      <thead><tr><th scope="col">Date</th><th scope="col">Worker</th><th scope="col">Seen</th><th scope="col">Seen alone</th><th scope="col">Purpose</th></tr></thead>
      <tbody>${h.visits.map((v) => `<tr><td><a href="#/visit/${encodeURIComponent(v.documentId)}">${esc(longDate(v.visitDate) ?? "No date")}</a><br>${reviewTag(v.reviewState ?? "draft")}</td>
        <td>${esc(v.workerId)}</td><td>${yesNo(v.childSeen)}</td><td>${yesNo(v.seenAlone)}</td><td>${esc(v.purpose || "Not recorded")}</td></tr>`).join("")}</tbody></table>`}
    <h2>In ${esc(name)}'s words</h2>
    ${h.words.length === 0 ? `<p class="body">No words recorded yet.</p>` : `<div id="handover-words">${h.words.map((w) => `<div class="inset"><p class="words">“${esc(w.words)}”</p><p class="hint">${esc(longDate(w.date) ?? "No date")}, recorded by ${esc(w.workerId)}</p></div>`).join("")}</div>`}
    <h2>Open actions</h2>
    ${h.openActions.length === 0 ? `<p class="body">No open actions.</p>` : `<table class="table" id="handover-actions"><thead><tr><th scope="col">Action</th><th scope="col">Owner</th><th scope="col">Due</th></tr></thead>
      <tbody>${h.openActions.map((a) => `<tr><td>${esc(a.description)}<br><span class="hint">From the visit on ${esc(longDate(a.visitDate) ?? "no date")}</span></td><td>${esc(a.ownerName || "Not set")}</td>
        <td>${esc(longDate(a.dueDate) ?? "No date")}${a.overdue ? ` <strong class="tag tag--red">Overdue</strong>` : ""}</td></tr>`).join("")}</tbody></table>`}`,
  `Handover: ${name}`);
}

// ---------- worker: where a record stands with the manager; amending a signed-off record ----------
function reviewBanner(visit) {
  const r = visit.review;
  if (!r || r.state === "draft") return "";
  const d = r.decision;
  let text;
  switch (r.state) {
    case "signedOff": text = `Signed off by ${d.by} on ${dateOnly(d.at)}${d.comment ? `: ${d.comment}` : ""}`; break;
    case "returned": text = `Returned for amendment by ${d.by} on ${dateOnly(d.at)}: ${d.comment}`; break;
    case "amendedAfterSignOff": text = `Amended after sign-off, awaiting sign-off${r.amendment ? `. Reason: ${r.amendment.reason}` : ""}`; break;
    case "resubmitted": text = "Changed and submitted again, awaiting sign-off"; break;
    default: text = "Submitted, awaiting sign-off";
  }
  return `<div class="inset" id="review-banner" data-review-state="${esc(r.state)}"><p class="body">${esc(text)}</p></div>`;
}

function amendPage(id, next, errors = []) {
  const visit = loadVisit(id);
  const error = errors[0];
  show(`
    ${visitHeader(visit, `#/visit/${encodeURIComponent(id)}`)}
    ${errorSummary(errors)}
    <form id="amend-form" data-visit="${esc(id)}" data-next="${esc(next ?? "")}" novalidate>
      <div class="form-group ${error ? "form-group--error" : ""}">
        <h1><label class="label label--heading" for="amend-reason">Why are you changing this signed-off record?</label></h1>
        <div class="hint" id="amend-reason-hint">Your manager sees this reason with what you change, and the signed-off version is kept.</div>
        ${error ? `<p class="error-message" id="amend-reason-error"><span class="visually-hidden">Error:</span> ${esc(error.message)}</p>` : ""}
        <textarea class="textarea ${error ? "textarea--error" : ""}" id="amend-reason" name="reason" aria-describedby="amend-reason-hint${error ? " amend-reason-error" : ""}"></textarea>
      </div>
      <button type="submit" class="button">Continue</button>
    </form>`, "Why are you changing this record?");
}

// ---------- input from the screens ----------
// Applies an edit; `null` if it was refused (the worker is told why).
function edit(id, op) {
  try {
    return device.editVisit(id, op);
  } catch (error) {
    alert(error.message ?? String(error));
    return null;
  }
}

// Keeps what is typed in a form that is not yet part of the record (a new action, the
// reason for discarding a draft), sealed on the device, so no button, lock or reload loses it.
function saveDraftFrom(form) {
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
function addDraftAction(id, { always = false } = {}) {
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
function resetLockTimer() {
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
async function registerServiceWorker() {
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

async function boot() {
  await init();
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
