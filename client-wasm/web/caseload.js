// The caseload, a child's page and starting a new visit.
import { BASES, LEGAL_STATUS, PLACEMENT_TYPES, PROVIDERS } from "/labels.js";
import { ageText, coded, errorSummary, esc, fieldset, longDate, reviewTag, show, statusTag, syncTag } from "/markup.js";
import { input } from "/signin.js";
import { draft, label } from "/visit.js";
import { childOf, device, isManager } from "/app.js";
import { today } from "/clock.js";

// ---------- caseload and child ----------
// The timescale cell of a child: next visit due, the rule and its status.
export function dueCell(schedule) {
  if (!schedule) return `<span class="hint" data-due="pending">Working out from the records on this device…</span>`;
  if (!schedule.nextDue) return `<span data-due="none">${esc(schedule.reason ?? "No visit schedule")}</span>`;
  return `<span data-due="${esc(schedule.nextDue)}">${esc(longDate(schedule.nextDue))}</span> ${statusTag(schedule.status)}<br><span class="hint">${esc(schedule.rule ?? "")}: ${esc(schedule.reason ?? "")}</span>`;
}

// What is waiting on a child's records: decisions, refusals, records not sent.
export function recordsCell(child) {
  const refused = child.visits.filter((v) => v.sync === "refused").length;
  const waiting = child.visits.filter((v) => v.sync !== "server" && v.sync !== "refused").length;
  const tags = [];
  if (child.needsDecision) tags.push(`<strong class="tag tag--red" data-needs-decision>${child.needsDecision} need${child.needsDecision === 1 ? "s" : ""} a decision</strong>`);
  if (refused) tags.push(`<strong class="tag tag--red" data-refused>${refused} not accepted by the server</strong>`);
  if (waiting) tags.push(`<strong class="tag tag--orange">${waiting} not on the server yet</strong>`);
  return tags.length ? tags.join(" ") : `<strong class="tag tag--green">Up to date</strong>`;
}

export function caseloadPage() {
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
      <ul class="list" id="former-children">${former.map((c) => `<li><a href="#/child/${encodeURIComponent(c.childRef)}">${esc(c.profile?.name ?? c.childRef)}</a> ${recordsCell(c)}</li>`).join("")}</ul>` : ""}
    <p class="body"><a href="#/break-glass" id="break-glass-link">Ask to see another child's record (emergency access)</a></p>`,
  manager ? "Your team's children" : "My caseload");
}

// What happened to one record, in plain words, for the worker who made it.
export function recordFate(visit, child) {
  if (visit.sync === "refused") {
    return child?.former
      ? "The server did not accept this record: the child is no longer allocated to you. It is kept on this device. Tell your team manager, who can make sure what you recorded reaches the child's new worker."
      : "The server did not accept this record. It is kept on this device. Tell your team manager.";
  }
  if (visit.sync === "server") return child?.former ? "This record reached the server before the child was reallocated." : "";
  return "Saved on this device; it will be sent when there is signal.";
}

export function childPage(ref) {
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

export function dateInput(id, legend, value, errors = [], hint = "For example, 27 3 2026") {
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
export const readDate = (id) => {
  const get = (part) => (document.getElementById(`${id}-${part}`)?.value ?? "").trim();
  const [d, m, y] = [get("day"), get("month"), get("year")];
  if (!d && !m && !y) return "";
  return `${y.padStart(4, "0")}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`;
};

export function newVisitPage(ref, errors = []) {
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

// Break-glass (D6): reading a child one cannot otherwise see, for a short time, with a
// reason the child's manager sees at once. The server decides; this form only asks.
// What the form holds (typed text, errors, the answer), so a re-render (a sync notice)
// keeps it; cleared when the worker leaves the page.
let breakGlass = { errors: [], values: {}, granted: null };
export const resetBreakGlass = () => { breakGlass = { errors: [], values: {}, granted: null }; };

export function breakGlassPage(errors, values, granted = null) {
  if (errors !== undefined) breakGlass = { errors, values: values ?? {}, granted };
  ({ errors, values, granted } = breakGlass);
  if (granted) {
    return show(`
      <div class="panel" id="break-glass-granted"><h1 class="panel__title">You can read this record for now</h1>
        <p class="panel__body">${esc(granted.childRef)} until ${esc(new Date(granted.expiresAt).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }))}</p></div>
      <p class="body">Your reason is recorded and your manager has been told. You can read the record, not change it.</p>
      <p class="body"><a href="#/child/${encodeURIComponent(granted.childRef)}">Open ${esc(granted.childRef)}</a></p>
      <p class="body"><a href="#/caseload">Back to my caseload</a></p>`, "Access granted");
  }
  const reasonError = errors.find((e) => e.href === "#break-glass-reason");
  show(`
    <a class="back-link" href="#/caseload">Back</a>
    ${errorSummary(errors)}
    <h1>Ask to see another child's record</h1>
    <p class="body">Use this only when you must see a record you cannot otherwise open, for example in an emergency out of hours. You will be able to read it, not change it, for a short time. Your reason is recorded and shown to the child's team manager straight away.</p>
    <form id="break-glass-form" novalidate>
      ${input("break-glass-child", "Child's case reference", values.childRef ?? "", "text", "off", errors, "For example, C-N1")}
      <div class="form-group ${reasonError ? "form-group--error" : ""}">
        <label class="label" for="break-glass-reason">Why do you need to see this record?</label>
        ${reasonError ? `<p class="error-message" id="break-glass-reason-error"><span class="visually-hidden">Error:</span> ${esc(reasonError.message)}</p>` : ""}
        <textarea class="textarea ${reasonError ? "textarea--error" : ""}" id="break-glass-reason" name="reason" ${reasonError ? `aria-describedby="break-glass-reason-error"` : ""}>${esc(values.reason ?? "")}</textarea>
      </div>
      <button type="submit" class="button">Ask for access</button>
    </form>`, "Ask to see another child's record");
  document.getElementById("break-glass-form")?.addEventListener("input", (event) => {
    const key = event.target.id === "break-glass-child" ? "childRef" : "reason";
    breakGlass.values = { ...breakGlass.values, [key]: event.target.value };
  });
}
