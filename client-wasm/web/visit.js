// The visit record: task list, sections, conflicts, check your answers, discard, done.
import { ACTION_STATUSES, CHOICES, FIELD_NAMES, OWNER_TYPES, SECTIONS, TOPICS, isYesNo, sectionOf } from "/labels.js";
import { boolCode, dateOnly, dateTime, errorSummary, esc, fieldset, longDate, printLink, radios, show, syncTag, textarea } from "/markup.js";
import { input } from "/signin.js";
import { dateInput, recordFate } from "/caseload.js";
import { review } from "/review.js";
import { amendPage, reviewBanner } from "/amend.js";
import { childOf, device, isManager, listShape, triedToSubmit } from "/app.js";
import { today, nowMs } from "/clock.js";

// ---------- the visit record ----------
export function loadVisit(id, today) {
  return device.visit(id, today);
}

// Who chose one side of a conflict, on which device and when.
export const sideOrigin = (side) => {
  const who = side.by ? (side.by === device.worker()?.username ? "you" : side.by) : "someone";
  const where = side.thisDevice ? "on this device" : side.device ? `on another device (…${side.device.slice(-6)})` : "on another device";
  return `Chosen by ${who} ${where}${side.at ? `, ${dateTime(side.at)}` : ""}`;
};

export function conflictBlock(visit) {
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
export const answerCode = (field, value) => (isYesNo(field) ? CHOICES[field].find(([, words]) => words === value)?.[0] ?? value : value);

export function sectionDone(visit, section) {
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

export function visitHeader(visit, back) {
  const child = childOf(visit.childId);
  const me = device.worker()?.username;
  return `<a class="back-link" href="${back}">Back</a>
    <span class="caption">${esc(child?.profile?.name ?? visit.childId)} · visit on ${esc(longDate(visit.visitDate) ?? "no date")} · ${syncTag(visit.sync)}${me && visit.workerId !== me ? ` · <strong class="tag tag--blue" data-previous-worker>Recorded by ${esc(visit.workerId)}</strong>` : ""}</span>
    ${visit.sync === "refused" ? `<div class="warning"><p class="body">${esc(recordFate(visit, child))}</p></div>` : ""}`;
}

export function visitTasksPage(id) {
  const visit = loadVisit(id);
  if (visit.unreadable) return show(`<h1>This record cannot be read</h1><p class="body">${esc(visit.unreadable)}</p>`, "Problem");
  const mustAmend = visit.review?.amendmentRequired;
  const neverSubmitted = visit.status !== "submitted" && !visit.submittedAt && !visit.review?.decision;
  show(`
    ${visitHeader(visit, `#/child/${encodeURIComponent(visit.childId)}`)}
    <h1>Visit record</h1>
    ${visit.discarded ? `<div class="warning" id="discarded"><p class="body">This draft was discarded on ${esc(dateOnly(visit.discarded.at ?? nowMs()))}: ${esc(visit.discarded.reason)}. It is kept, but does not count as a visit.</p></div>` : ""}
    ${correctionNotice(visit)}
    ${setAsideBanner(id)}
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

// A manager's corrections of this record (moved to the right child, or content removed
// from every version), as later readers must see them.
function correctionNotice(visit) {
  if (!visit.corrections?.length) return "";
  return `<div class="inset" id="corrections">${visit.corrections.map((c) => `<p class="body">Corrected on ${esc(dateOnly(c.at))} by ${esc(c.byName)}: ${esc(c.what)}. Reason: ${esc(c.reason)}</p>`).join("")}</div>`;
}

// Changes made on this device before a correction that could not be merged into the
// corrected record: the worker re-enters what is still right, then dismisses them.
function setAsideBanner(id) {
  const items = device.formDraft(draftKey(id, "set-aside"));
  if (!Array.isArray(items) || items.length === 0) return "";
  const field = (path) => path.split(/[.[]/)[0];
  const label = (path) => FIELD_NAMES[field(path)] ?? path;
  // A coded answer in its words (the field's choices from `wording()`), text as typed.
  const words = (item) => CHOICES[field(item.path)]?.find(([code]) => code === item.yours)?.[1] ?? item.yours;
  const first = items[0];
  const when = first.at ? ` on ${esc(dateOnly(first.at))}` : "";
  const who = first.byName ? ` by ${esc(first.byName)}` : " by your manager";
  return `<div class="notification-banner" role="region" aria-labelledby="set-aside-title" id="set-aside">
    <h2 class="notification-banner__title" id="set-aside-title">Changes to check again</h2>
    <p class="body">This record was corrected${when}${who} while this device was offline. These changes you made could not be merged after the correction. Re-enter what is still right, then dismiss them.</p>
    <dl class="summary-list">${items.map((item) => `<div class="summary-list__row"><dt class="summary-list__key">${esc(label(item.path))}</dt><dd class="summary-list__value">Your version: ${esc(words(item) || "(removed)")}</dd></div>`).join("")}</dl>
    <button type="button" class="button button--secondary" data-action="dismiss-set-aside" data-id="${esc(id)}" id="dismiss-set-aside">Dismiss these changes</button>
  </div>`;
}

// The key under which a screen keeps input not yet part of the record.
export const draftKey = (id, what) => `${id}:${what}`;
export const draft = (id, what) => device.formDraft(draftKey(id, what)) ?? {};

export function actionFields(a, i, errors) {
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

export function visitSectionPage(id, section, sectionErrors = []) {
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
      body = dateInput("visit-date", FIELD_NAMES.visitDate, visit.visitDate, [], "For example, 27 3 2026")
        + choice("visitKind", FIELD_NAMES.visitKind)
        + choice("madeBy", "Who made the visit?", { hint: "Visits by a personal adviser count towards a care leaver's visits; a social worker's towards the placement's." })
        + choice("location", "Where did you see the child?")
        + choice("announced", "Did the carer know you were coming?", { inline: true })
        + textarea("purpose", FIELD_NAMES.purpose, visit.purpose, `data-text="purpose"`);
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

export function answer(value) {
  if (value === true) return "Yes";
  if (value === false) return "No";
  if (value === null || value === undefined || value === "") return "Not answered";
  return String(value);
}
export const label = (field, code) => CHOICES[field]?.find(([c]) => c === code)?.[1] ?? answer(code);
export const topicNames = (codes) => codes.map((code) => TOPICS.find(([c]) => c === code)?.[1] ?? code).join(", ");

export function checkAnswersPage(id, errors = []) {
  const visit = loadVisit(id);
  const mustAmend = visit.review?.amendmentRequired;
  const change = (section) => (mustAmend ? `#/visit/${encodeURIComponent(id)}/amend/${section}` : `#/visit/${encodeURIComponent(id)}/${section}`);
  const row = (k, v, section, field = "") => `<div class="summary-list__row" ${field ? `data-field="${esc(field)}"` : ""}><dt>${esc(k)}</dt><dd>${esc(v)}</dd>
    <dd><a href="${change(section)}">Change<span class="visually-hidden"> ${esc(k.toLowerCase())}</span></a></dd></div>`;
  const needsSubmit = visit.review ? visit.review.needsSubmit : visit.status !== "submitted";
  const amended = visit.review?.state === "amendedAfterSignOff";
  const voice = visit.voice.map((v, i) => row(`${FIELD_NAMES.voice} (${i + 1})`, [
    `“${v.words}”`,
    v.paraphrase ? `Your summary: ${v.paraphrase}` : "",
    v.topics.length ? `About: ${topicNames(v.topics)}` : "",
    v.scale !== null ? `Scale: ${v.scale} out of 10${v.scaleQuestion ? `, answering “${v.scaleQuestion}”` : " (the question is not recorded)"}` : "",
    `Read back to the child: ${v.readBack ? "Yes" : "No"}`,
  ].filter(Boolean).join("\n"), "voice", `voice[${i}]`)).join("") || row(FIELD_NAMES.voice, "None recorded", "voice", "voice");
  const actions = visit.actions.map((a, i) => [
    `${i + 1}. ${a.description || "(nothing written)"}`,
    `Owner: ${[label("ownerType", a.ownerType) === "Not answered" ? "" : OWNER_TYPES.find(([c]) => c === a.ownerType)?.[1], a.ownerName].filter(Boolean).join(", ") || "not set"}`,
    `Due: ${longDate(a.dueDate) ?? "not set"}`,
    `Status: ${(ACTION_STATUSES.find(([c]) => c === a.status) ?? ACTION_STATUSES[0])[1]}`,
  ].join("\n")).join("\n\n");
  show(`
    ${visitHeader(visit, `#/visit/${encodeURIComponent(id)}`)}
    ${errorSummary(errors)}
    <div id="conflicts" data-fields="${esc(visit.conflicts.map((c) => c.field).join(","))}">${conflictBlock(visit)}</div>
    <h1>Check your answers</h1>
    ${needsSubmit ? reviewBanner(visit) : ""}
    <dl class="summary-list" id="answers">
      ${row(FIELD_NAMES.visitDate, longDate(visit.visitDate) ?? "Not answered", "details", "visitDate")}
      ${row(FIELD_NAMES.visitKind, label("visitKind", visit.visitKind), "details", "visitKind")}
      ${row(FIELD_NAMES.madeBy, label("madeBy", visit.madeBy), "details", "madeBy")}
      ${row(FIELD_NAMES.location, label("location", visit.location), "details", "location")}
      ${row(FIELD_NAMES.announced, answer(visit.announced), "details", "announced")}
      ${row(FIELD_NAMES.purpose, answer(visit.purpose), "details", "purpose")}
      ${row(FIELD_NAMES.personsPresent, visit.personsPresent.map((p) => (p.role ? `${p.name} (${p.role})` : p.name)).join("\n") || "Nobody added", "people", "personsPresent")}
      ${row(FIELD_NAMES.childSeen, answer(visit.childSeen), "seen", "childSeen")}
      ${visit.childSeen === false ? "" : row(FIELD_NAMES.seenAlone, answer(visit.seenAlone), "seen", "seenAlone")}
      ${visit.seenAlone === false ? row(FIELD_NAMES.notAloneReason, `${label("notAloneReason", visit.notAloneReason)}${visit.notAloneDetail ? `\n${visit.notAloneDetail}` : ""}`, "seen", "notAloneReason") : ""}
      ${row(FIELD_NAMES.bedroomSeen, label("bedroomSeen", visit.bedroomSeen), "bedroom", "bedroomSeen")}
      ${row(FIELD_NAMES.bedroomDetail, answer(visit.bedroomDetail), "bedroom", "bedroomDetail")}
      ${row(FIELD_NAMES.observations, answer(visit.observations), "observations", "observations")}
      ${voice}
      ${row(FIELD_NAMES.analysis, answer(visit.analysis), "analysis", "analysis")}
      ${row(FIELD_NAMES.actions, actions || "None", "actions", "actions")}
      ${row(FIELD_NAMES.welfareSafeguarded, answer(visit.welfareSafeguarded), "welfare", "welfareSafeguarded")}
    </dl>
    ${!needsSubmit ? reviewBanner(visit) || `<div class="inset">This record has been submitted.</div>` : visit.discarded ? `<div class="warning"><p class="body">This draft was discarded, so it cannot be submitted.</p></div>` : `
      <h2>${amended ? "Submit the amended record" : "Submit the record"}</h2>
      <p class="body">Submitting tells your manager the record is ready for sign-off. It is sent when there is signal.</p>
      <button type="button" class="button" data-action="submit-visit">${amended ? "Submit the amended record" : "Submit the record"}</button>`}`, "Check your answers");
}

// Discarding a draft started in error: the reason is kept, audited, and the visit never counts.
export function discardPage(id, errors = []) {
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

export function donePage(id) {
  const visit = loadVisit(id);
  show(`
    <div class="inset"><h1>Record submitted</h1>
    <p class="body">${visit.sync === "server" ? "It is saved to the server." : "It is saved on this device and will be sent to the server when there is signal."} ${syncTag(visit.sync)}</p></div>
    <p><a href="#/child/${encodeURIComponent(visit.childId)}">Back to the child's page</a></p>`, "Record submitted");
}
