// Markup helpers the screens share (escaping, GOV.UK form patterns, dates as people read them)
// and `show`, which puts a page in the main region.
import { MONTHS, REVIEW_STATES, STATUS_TAGS, SYNC_LABELS } from "/labels.js";
import { input } from "/signin.js";
import { label } from "/visit.js";
import { review } from "/review.js";
import { device } from "/app.js";
import { today } from "/clock.js";

export const main = document.getElementById("main");
export const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export const syncTag = (sync) => {
  const [text, colour] = SYNC_LABELS[sync] ?? SYNC_LABELS.device;
  return `<strong class="tag tag--${colour}" data-sync-tag>${esc(text)}</strong>`;
};

// A code with its meaning: "U4: Foster placement with other foster carers: long-term fostering".
export const coded = (table, code) => (code ? (table[code] ? `${code}: ${table[code]}` : code) : null);
// Age in whole years on `on` (YYYY-MM-DD) of someone born on `born`, or null.
export const ageOn = (born, on) => {
  const b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(born ?? ""); const t = /^(\d{4})-(\d{2})-(\d{2})$/.exec(on ?? "");
  if (!b || !t) return null;
  let years = Number(t[1]) - Number(b[1]);
  if (Number(t[2]) < Number(b[2]) || (Number(t[2]) === Number(b[2]) && Number(t[3]) < Number(b[3]))) years -= 1;
  return years >= 0 ? years : null;
};
export const ageText = (born) => { const age = ageOn(born, today()); return age === null ? null : `${age} year${age === 1 ? "" : "s"} old`; };
// ---------- helpers for markup ----------
export const radios = (name, options, value, { inline = false, reveal = {} } = {}) => `
  <div class="radios ${inline ? "radios--inline" : ""}">
    ${options.map(([code, label]) => `
      <div class="radios__item">
        <input type="radio" id="${esc(name)}-${esc(code)}" name="${esc(name)}" value="${esc(code)}" data-choice="${esc(name)}" ${value === code ? "checked" : ""}>
        <label for="${esc(name)}-${esc(code)}">${esc(label)}</label>
      </div>
      ${reveal[code] && value === code ? `<div class="radios__conditional">${reveal[code]}</div>` : ""}`).join("")}
  </div>`;
export const boolCode = (value) => (value === true ? "yes" : value === false ? "no" : null);
export const textarea = (id, label, value, bind, hint = "") => `
  <div class="form-group">
    <label class="label" for="${esc(id)}">${esc(label)}</label>
    ${hint ? `<div class="hint" id="${esc(id)}-hint">${esc(hint)}</div>` : ""}
    <textarea class="textarea" id="${esc(id)}" ${hint ? `aria-describedby="${esc(id)}-hint"` : ""} ${bind}>${esc(value)}</textarea>
  </div>`;
export const fieldset = (legend, body, hint = "") => `
  <div class="form-group"><fieldset ${hint ? `aria-describedby="${esc(legend.replace(/\W/g, ""))}-hint"` : ""}>
    <legend>${esc(legend)}</legend>
    ${hint ? `<div class="hint" id="${esc(legend.replace(/\W/g, ""))}-hint">${esc(hint)}</div>` : ""}
    ${body}
  </fieldset></div>`;
export const errorSummary = (errors) => errors.length === 0 ? "" : `
  <div class="error-summary" role="alert" tabindex="-1" id="error-summary" aria-labelledby="error-summary-title">
    <h2 id="error-summary-title">There is a problem</h2>
    <ul>${errors.map((e) => `<li><a href="${esc(e.href)}">${esc(e.message)}</a></li>`).join("")}</ul>
  </div>`;
export const focusErrorSummary = () => document.getElementById("error-summary")?.focus();

export function show(html, title) {
  main.innerHTML = html;
  document.title = `${title} – Doorstep`;
  const heading = main.querySelector("h1");
  if (heading) heading.setAttribute("tabindex", "-1");
  (main.querySelector("#error-summary") ?? heading ?? main).focus({ preventScroll: false });
}

export const statusTag = (status) => {
  const [text, colour] = STATUS_TAGS[status] ?? [status, "grey"];
  return `<strong class="tag tag--${colour}">${esc(text)}</strong>`;
};
export const reviewTag = (state) => {
  const [text, colour] = REVIEW_STATES[state] ?? REVIEW_STATES.draft;
  return `<strong class="tag tag--${colour}" data-review-state="${esc(state)}">${esc(text)}</strong>`;
};
export const dateTime = (ms) => (ms ? new Date(ms).toLocaleString("en-GB", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" }) : "not known");
// A YYYY-MM-DD date as people read it ("3 March 2026"); anything else as it is.
export const longDate = (iso) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : iso;
};
export const dateOnly = (ms) => new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
export const addDays = (iso, days) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

// How long a record has waited, in words.
export const waited = (days) => (days === null || days === undefined ? "Waiting time not known" : days === 0 ? "Submitted today" : `Waiting ${days} day${days === 1 ? "" : "s"}`);

// Who wrote each section and when, on one line: "sw-north-1 · 3 March 2026, 14:05 on the
// device · received 14:07".
export const shortTime = (ms) => new Date(ms).toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

// Printing (issue 13): the server renders the record as printable HTML. The page opens in a
// new tab (signed in by the session cookie), where the browser's print (or "Save as PDF")
// prints it. It needs the server, so offline the link says so.
export function printLink(href, label) {
  return navigator.onLine
    ? `<p><a class="button button--secondary" href="${esc(href)}" target="_blank" rel="noopener" data-action="print" draggable="false">${esc(label)} (opens a printable page)</a></p>`
    : `<p class="hint">${esc(label)}: available when this device is online.</p>`;
}
