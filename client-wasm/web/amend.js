// For workers: where a record stands with the manager, and why a signed-off record changes.
import { dateOnly, errorSummary, esc, show, textarea } from "/markup.js";
import { draft, label, loadVisit, visitHeader } from "/visit.js";
import { review } from "/review.js";

// ---------- worker: where a record stands with the manager; amending a signed-off record ----------
export function reviewBanner(visit) {
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

export function amendPage(id, next, errors = []) {
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
