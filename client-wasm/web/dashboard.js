// For team managers: the team dashboard, its filters and the CSV export.
import { addDays, dateTime, esc, fieldset, longDate, reviewTag, show, statusTag, waited } from "/markup.js";
import { input } from "/signin.js";
import { label } from "/visit.js";
import { review } from "/review.js";
import { device, isManager, parseRoute, render } from "/app.js";

// ---------- team manager: dashboard ----------
// Filters are applied here, on the rows the server computed (statuses, due dates); the
// dashboard itself comes from the device, sealed, as last fetched.
export const dashboardFilters = { overdue: false, week: false, worker: "" };
export let dashboardFetch = { requested: false, loading: false, error: null, offline: false };
export function refreshDashboard() {
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

export function filteredChildren(dashboard) {
  const weekEnd = addDays(dashboard.asOf, 7);
  return dashboard.children.filter((c) => {
    if (dashboardFilters.worker && (c.worker ?? "") !== dashboardFilters.worker) return false;
    if (!dashboardFilters.overdue && !dashboardFilters.week) return true;
    return (dashboardFilters.overdue && c.status === "overdue")
      || (dashboardFilters.week && c.status !== "overdue" && c.nextDue !== null && c.nextDue <= weekEnd);
  });
}

export function dashboardResults(dashboard) {
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

export function dashboardPage() {
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
  const breakGlass = d.breakGlass ?? [];
  const open = breakGlass.filter((b) => b.active).length;
  show(`${header}
    ${open ? `<div class="warning" id="dashboard-break-glass-alert"><p class="body"><strong>${open === 1 ? "Someone is" : `${open} people are`} reading a record by break-glass.</strong> <a href="#dashboard-break-glass-heading">See who, when and why</a></p></div>` : ""}
    <p class="body">Visit timescales are calculated for ${esc(longDate(d.asOf))}.</p>
    <ul class="headline" id="dashboard-headline" aria-label="What needs you first">
      ${count(h.overdue, "overdue visits", "#dashboard-children-heading", "red")}
      ${count(h.dueThisWeek, "visits due this week", "#dashboard-children-heading", "yellow")}
      ${count(h.awaitingSignOff, "awaiting sign-off", "#dashboard-awaiting-heading", "blue")}
      ${count(h.writeUpsLate, "write-ups late", "#dashboard-write-ups-heading", "orange")}
      ${count(h.needsDecision, "need a decision", "#dashboard-awaiting-heading", "red")}
    </ul>
    ${online ? `<button type="button" class="button button--secondary" data-action="refresh-dashboard">Update now</button>` : ""}
    ${breakGlass.length === 0 ? "" : `<h2 id="dashboard-break-glass-heading">Break-glass access to your team's records</h2>
    <p class="body">Open now, and those of the last 30 days, newest first. Each was opened with the reason given and ends by itself.</p>
    <table class="table" id="dashboard-break-glass"><thead><tr><th scope="col">Case reference</th><th scope="col">Who</th><th scope="col">Why</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Status</th></tr></thead>
      <tbody>${breakGlass.map((b) => `<tr data-break-glass="${esc(b.childRef)}"><td>${esc(b.childRef)}</td><td>${esc(b.displayName)}<br><span class="hint">${esc(b.username)}</span></td><td>${esc(b.reason)}</td>
        <td>${esc(dateTime(b.grantedAt))}</td><td>${esc(dateTime(b.expiresAt))}</td><td>${b.active ? `<strong class="tag tag--red">Open</strong>` : `<strong class="tag tag--grey">Ended</strong>`}</td></tr>`).join("")}</tbody></table>`}
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
export function downloadCsv() {
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
