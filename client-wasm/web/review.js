// For team managers: reading a record with its provenance, and signing it off or returning it.
import { dateTime, errorSummary, esc, fieldset, longDate, radios, reviewTag, shortTime, show, textarea } from "/markup.js";
import { input } from "/signin.js";
import { label } from "/visit.js";
import { device, parseRoute, render } from "/app.js";

// ---------- team manager: review a record ----------
// Read from the server each time the page opens (a manager decides on the latest version).
export let review = { id: null, data: null, error: null, loading: false, errors: [], notice: null, values: {} };

export function loadReview(id, keep = {}) {
  review = { id, data: null, error: null, loading: true, errors: [], notice: null, values: {}, ...keep };
  device.review(id)
    .then((data) => { if (review.id === id) review.data = data; })
    .catch((error) => { if (review.id === id) review.error = error.message ?? String(error); })
    .finally(() => { if (review.id === id) { review.loading = false; if (parseRoute().page === "review") render(); } });
}

export const provenance = (s) => {
  if (!s.author && !s.deviceTime && !s.receivedAt) return "Who wrote this and when is not known";
  const parts = [s.author ?? "Author not known"];
  if (s.deviceTime) parts.push(`written ${shortTime(s.deviceTime)}`);
  if (s.receivedAt) parts.push(`received ${shortTime(s.receivedAt)}`);
  return parts.map(esc).join(" · ");
};
export const sectionRows = (sections, withMeta, conflicts = []) => sections.map((s) => {
  const conflict = conflicts.find((c) => c.field === s.field);
  const value = conflict
    ? `<strong class="tag tag--red">Needs a decision</strong> Two answers: ${conflict.candidates.map((c) => `${esc(c.value)} (${esc(c.by ?? "someone")}${c.at ? `, ${esc(shortTime(c.at))}` : ""})`).join(" or ")}`
    : esc(s.value || "Not answered");
  return `<div class="summary-list__row" data-field="${esc(s.field)}"><dt>${esc(s.label)}</dt><dd>${value}</dd>
  <dd>${withMeta ? `<span class="hint provenance">${provenance(s)}</span>` : ""}</dd></div>`;
}).join("");

export function reviewPage(id) {
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
      </form>` : `<p class="body" id="no-decision">${r.reviewState === "signedOff" ? "This record is signed off." : "This record has not been submitted for sign-off."}</p>`}
    ${correctionForm(r)}`, "Review");
}

// Correcting a misfiled record (issue 13): move it to the right child of the team, or
// remove words that must not be in it (another family's details) from every version.
function correctionForm(r) {
  const v = review.values;
  const error = (field) => review.errors.find((e) => e.href === `#${field}`);
  const others = device.caseload(null).children.map((c) => c.childRef).filter((ref) => ref !== r.childRef);
  const kindError = error("correct-move");
  const group = (id, labelText, body) => {
    const e = error(id);
    return `<div class="form-group ${e ? "form-group--error" : ""}"><label class="label" for="${id}">${esc(labelText)}</label>
      ${e ? `<p class="error-message" id="${id}-error"><span class="visually-hidden">Error:</span> ${esc(e.message)}</p>` : ""}${body(e)}</div>`;
  };
  return `<details class="details" id="correct-record" ${v.correcting ? "open" : ""}><summary>Correct a misfiled record</summary>
    <form id="correction-form" novalidate>
      ${fieldsetWithError("How is this record wrong?", `<div class="radios">
        <div class="radios__item"><input type="radio" id="correct-move" name="kind" value="move" ${v.kind === "move" ? "checked" : ""}><label for="correct-move">It was recorded against the wrong child</label></div>
        <div class="radios__item"><input type="radio" id="correct-expunge" name="kind" value="expunge" ${v.kind === "expunge" ? "checked" : ""}><label for="correct-expunge">It holds words that must not be in it (for example another family's details)</label></div></div>`, kindError)}
      ${group("correct-child", "The child it belongs to (move)", (e) => `<select class="select" id="correct-child" name="child" ${e ? `aria-describedby="correct-child-error"` : ""}><option value="">Choose a child</option>${others.map((ref) => `<option value="${esc(ref)}" ${v.child === ref ? "selected" : ""}>${esc(ref)}</option>`).join("")}</select>`)}
      ${group("correct-passage", "The exact words to remove from every version (remove content)", (e) => `<div class="hint">Copy them exactly as they read. They are removed from the record, its history, the server and every device; this cannot be undone.</div><textarea class="textarea" id="correct-passage" name="passage" ${e ? `aria-describedby="correct-passage-error"` : ""}>${esc(v.passage ?? "")}</textarea>`)}
      ${group("correct-reason", "Why are you correcting this record?", (e) => `<div class="hint">Do not repeat the words you are removing.</div><textarea class="textarea" id="correct-reason" name="reason" ${e ? `aria-describedby="correct-reason-error"` : ""}>${esc(v.reason ?? "")}</textarea>`)}
      <div class="form-group ${error("correct-confirm") ? "form-group--error" : ""}">
        ${error("correct-confirm") ? `<p class="error-message" id="correct-confirm-error"><span class="visually-hidden">Error:</span> ${esc(error("correct-confirm").message)}</p>` : ""}
        <div class="checkboxes__item"><input type="checkbox" id="correct-confirm" name="confirm" value="yes" ${error("correct-confirm") ? `aria-describedby="correct-confirm-error"` : ""}><label for="correct-confirm">I have checked this correction; it cannot be undone</label></div></div>
      <button type="submit" class="button button--warning">Correct the record</button>
    </form></details>`;
}

export async function submitCorrection(form) {
  const data = new FormData(form);
  const values = { correcting: true, kind: data.get("kind"), child: data.get("child") ?? "", passage: (data.get("passage") ?? "").trim(), reason: (data.get("reason") ?? "").trim() };
  const errors = [];
  if (!values.kind) errors.push({ href: "#correct-move", message: "Select how this record is wrong" });
  if (values.kind === "move" && !values.child) errors.push({ href: "#correct-child", message: "Choose the child the record belongs to" });
  if (values.kind === "expunge" && !values.passage) errors.push({ href: "#correct-passage", message: "Enter the exact words to remove" });
  if (!values.reason) errors.push({ href: "#correct-reason", message: "Enter why you are correcting this record" });
  if (!data.get("confirm")) errors.push({ href: "#correct-confirm", message: "Confirm the correction: it cannot be undone" });
  review.values = values;
  review.errors = errors;
  review.notice = null;
  if (errors.length) return render();
  form.querySelector("button[type=submit]").disabled = true;
  try {
    const target = values.kind === "move" ? values.child : values.passage;
    const done = await device.correctVisit(review.id, values.kind, target, values.reason, review.data.heads);
    const notice = values.kind === "move" ? `Record moved to ${done.childRef}` : "Content removed from every version of the record";
    if (done.replacement && done.replacement !== review.id) {
      // The record now has a new id. Not a hash change, which would fetch it again
      // without the notice.
      history.replaceState(null, "", `#/review/${encodeURIComponent(done.replacement)}`);
      return loadReview(done.replacement, { notice });
    }
    return loadReview(review.id, { notice });
  } catch (error) {
    review.errors = [{ href: "#correct-move", message: error.message ?? String(error) }];
  }
  render();
}

export function fieldsetWithError(legend, body, error) {
  return `<div class="form-group ${error ? "form-group--error" : ""}"><fieldset ${error ? `aria-describedby="decision-error"` : ""}>
    <legend>${esc(legend)}</legend>
    ${error ? `<p class="error-message" id="decision-error"><span class="visually-hidden">Error:</span> ${esc(error.message)}</p>` : ""}
    ${body}</fieldset></div>`;
}

export async function submitDecision(form) {
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
