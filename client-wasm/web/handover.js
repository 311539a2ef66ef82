// The handover summary of a child.
import { esc, longDate, printLink, reviewTag, show } from "/markup.js";
import { draft } from "/visit.js";
import { device } from "/app.js";
import { today } from "/clock.js";

// ---------- handover summary ----------
export function handoverPage(ref) {
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
