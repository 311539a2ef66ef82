//! What the screens show, as plain JavaScript objects built from the documents (the view
//! does no record logic).
//!
//! - [`visit_view`]: a visit record with its answers, its conflicts (both values, for a
//!   person to choose) and, on request, what stops it being submitted.
//! - [`child_view`]: a child's profile and placement.
//! - [`visit_summary`]: the line a visit gets in a child's history (and in the handover).
//! - [`review_view`]: where a visit stands with its manager, from the document itself
//!   (the oversight entries sync to the worker's device, so this works offline).
//! - [`handover`]: what a worker new to a child needs, from the synced documents.

use automerge::{Automerge, ReadDoc};
use shared::model::{
    self, Child, Coded, Visit, VisitStatus, change_origin, single_value_conflicts,
    submission_problems,
};
use wasm_bindgen::JsValue;

use crate::js::{self, Obj, array};
use crate::visit_form::candidate_text;

fn code<T: Coded>(value: Option<T>) -> Option<&'static str> {
    value.map(|v| v.code())
}

/// A visit record for the form and check-your-answers screens. Each side of a conflict
/// says who chose it (`by`), whether on this device (`thisDevice`: the change names
/// `device_id`) and when (`at`, ms); `problems` (with `today`) include open conflicts.
pub fn visit_view(
    doc: &Automerge,
    document_id: &str,
    today: Option<&str>,
    device_id: Option<&str>,
) -> Obj {
    let visit = match Visit::read(doc) {
        Ok(visit) => visit,
        Err(err) => {
            return Obj::new()
                .set("documentId", document_id)
                .set("unreadable", err.to_string());
        }
    };
    let conflicts = single_value_conflicts(doc).into_iter().map(|conflict| {
        let sides = conflict.candidates.iter().map(|c| {
            let origin = change_origin(doc, &c.op);
            let author = origin.as_ref().and_then(|o| o.author.as_ref());
            Obj::new()
                .set("value", candidate_text(&c.value))
                .set("by", author.map(|a| a.worker_id.as_str()))
                .set(
                    "thisDevice",
                    author.is_some_and(|a| Some(a.device.as_str()) == device_id),
                )
                .set(
                    "at",
                    origin
                        .as_ref()
                        .map(|o| o.device_time_s * 1000)
                        .filter(|at| *at > 0),
                )
        });
        Obj::new()
            .set("field", conflict.field.key())
            .set(
                "candidates",
                array(conflict.candidates.iter().map(|c| candidate_text(&c.value))),
            )
            .set("sides", array(sides))
    });
    let problems = today
        .map(|today| submission_problems(doc, today).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|p| Obj::new().set("field", p.field).set("message", p.message));
    let heads = doc
        .get_heads()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    let review = review_view(doc, &visit);
    Obj::new()
        .set("documentId", document_id)
        .set("visitId", visit.visit_id)
        .set("childId", visit.child_id)
        .set("workerId", visit.worker_id)
        .set("visitDate", visit.visit_date)
        .set("visitKind", code(visit.visit_kind))
        .set("location", code(visit.location))
        .set("announced", visit.announced)
        .set("purpose", visit.purpose)
        .set(
            "personsPresent",
            array(visit.persons_present.into_iter().map(|p| {
                Obj::new()
                    .set("personId", p.person_id)
                    .set("name", p.name)
                    .set("role", p.role)
            })),
        )
        .set("childSeen", visit.child_seen)
        .set("seenAlone", visit.seen_alone)
        .set("notAloneReason", code(visit.not_alone_reason))
        .set("notAloneDetail", visit.not_alone_detail)
        .set("bedroomSeen", code(visit.bedroom_seen))
        .set("bedroomDetail", visit.bedroom_detail)
        .set("observations", visit.observations)
        .set(
            "corrections",
            array(
                shared::model::correction::corrections(doc)
                    .into_iter()
                    .map(|c| {
                        let moved = matches!(
                            c.kind,
                            shared::model::correction::CorrectionKind::Moved { .. }
                        );
                        // The notice's words: "Corrected on {date} by {byName}: {what}.
                        // Reason: {reason}" (the screen writes the date in the device's
                        // locale).
                        let what = if moved {
                            "moved from another child's record"
                        } else {
                            "content removed from this record"
                        };
                        Obj::new()
                            .set("kind", if moved { "moved" } else { "expunged" })
                            .set("what", what)
                            .set("at", c.note.at.as_millis() as f64)
                            .set("byName", c.note.by_name)
                            .set("reason", c.note.reason)
                            .done()
                    }),
            ),
        )
        .set(
            "voice",
            array(visit.voice.into_iter().map(|v| {
                Obj::new()
                    .set("entryId", v.entry_id)
                    .set("words", v.words)
                    .set("paraphrase", v.paraphrase)
                    .set("topics", array(v.topics.iter().map(|t| t.code())))
                    .set("scale", v.scale)
                    .set("scaleQuestion", v.scale_question)
                    .set("readBack", v.read_back)
            })),
        )
        .set("analysis", visit.analysis)
        .set(
            "actions",
            array(visit.actions.into_iter().map(|a| {
                Obj::new()
                    .set("actionId", a.action_id)
                    .set("description", a.description)
                    .set("ownerType", code(a.owner_type))
                    .set("ownerName", a.owner_name)
                    .set("dueDate", a.due_date)
                    .set("status", code(a.status))
            })),
        )
        .set("welfareSafeguarded", visit.welfare_safeguarded)
        .set("status", code(visit.status))
        .set("madeBy", code(visit.made_by))
        .set(
            "discarded",
            visit.discarded.map(|d| {
                Obj::new()
                    .set("reason", d.reason)
                    .set("by", d.worker_id)
                    .set("at", d.at.map(|t| t.as_millis()))
            }),
        )
        .set("submittedAt", visit.submitted_at.map(|t| t.as_millis()))
        .set("createdAt", visit.created_at.map(|t| t.as_millis()))
        .set("heads", array(heads))
        .set("conflicts", array(conflicts))
        .set("problems", array(problems))
        .set("review", review)
}

impl js::ToJs for Obj {
    fn to_js(self) -> JsValue {
        self.done()
    }
}

/// Where a visit stands with its manager: `state` (a [`model::ReviewState`] code), the
/// latest `decision` (`decision`, `comment`, `by`, `at`), the latest `amendment`
/// (`reason`, `at`), `amendmentRequired` (a reason must be given before it changes) and
/// `needsSubmit` (a draft, returned, or amended since it was last submitted).
pub fn review_view(doc: &Automerge, visit: &Visit) -> Option<Obj> {
    let review = model::review(doc).ok()?;
    let amendment = review.amendments.last();
    let submitted_at = visit.submitted_at.map_or(0, |t| t.as_millis());
    let needs_submit = visit.status != Some(VisitStatus::Submitted)
        || amendment.is_some_and(|a| a.at.as_millis() >= submitted_at);
    Some(
        Obj::new()
            .set("state", review.state.code())
            .set(
                "decision",
                review.latest_decision.map(|d| {
                    Obj::new()
                        .set("decision", d.decision.code())
                        .set("comment", d.comment)
                        .set("by", d.manager_name)
                        .set("at", d.at.as_millis())
                }),
            )
            .set(
                "amendment",
                amendment.map(|a| {
                    Obj::new()
                        .set("reason", &a.reason)
                        .set("at", a.at.as_millis())
                }),
            )
            .set(
                "amendmentRequired",
                model::amendment_required(doc).unwrap_or(false),
            )
            .set("needsSubmit", needs_submit),
    )
}

/// One line of a child's visit history, with what the handover shows of it.
pub fn visit_summary(doc: &Automerge, visit: Visit, document_id: &str) -> Option<Obj> {
    Some(
        Obj::new()
            .set("documentId", document_id)
            .set("visitDate", visit.visit_date)
            .set("status", code(visit.status))
            .set(
                "reviewState",
                model::review(doc).ok().map(|r| r.state.code()),
            )
            .set("workerId", visit.worker_id)
            .set("madeBy", code(visit.made_by))
            .set("discarded", visit.discarded.is_some())
            .set("kindRecorded", visit.visit_kind.is_some())
            .set("purpose", visit.purpose)
            .set("childSeen", visit.child_seen)
            .set("seenAlone", visit.seen_alone)
            .set(
                "actions",
                array(visit.actions.into_iter().map(|a| {
                    Obj::new()
                        .set("description", a.description)
                        .set("ownerName", a.owner_name)
                        .set("dueDate", a.due_date)
                        .set("status", code(a.status))
                })),
            )
            .set("conflicts", single_value_conflicts(doc).len())
            .set(
                "childWords",
                array(
                    visit
                        .voice
                        .into_iter()
                        .map(|v| v.words)
                        .filter(|w| !w.is_empty()),
                ),
            ),
    )
}

/// The child's id (`childId`) of a visit document, if it is one.
pub fn visit_child(doc: &impl ReadDoc) -> Option<String> {
    shared::model::visit_child_id(doc)
}

/// A child's profile and placement.
pub fn child_view(child: Child) -> Option<Obj> {
    let name = child
        .preferred_name
        .or_else(|| child.legal_name.clone())
        .unwrap_or_else(|| child.child_id.clone());
    let placement = child.placement.map(|p| {
        Obj::new()
            .set("startDate", p.start_date)
            .set("placementType", p.placement_type)
            .set("provider", code(p.provider))
            .set("carerName", p.carer_name)
            .set("postcode", p.postcode)
            .set("statutoryBasis", code(p.statutory_basis))
            .set("endDate", p.end_date)
    });
    Some(
        Obj::new()
            .set("childId", child.child_id)
            .set("name", name)
            .set("legalName", child.legal_name)
            .set("dateOfBirth", child.date_of_birth)
            .set("firstLanguage", child.first_language)
            .set("interpreterNeeded", child.interpreter_needed)
            .set("communicationNeeds", child.communication_needs)
            .set("legalStatus", child.legal_status)
            .set("uasc", child.uasc)
            .set("summary", child.summary)
            .set("placement", placement),
    )
}

/// The handover summary of a child from its caseload entry (profile, placement, visits
/// newest first, as `device` builds it): the visits oldest first, the child's words with
/// the date of each visit, and the actions still open, each `overdue` when its due date
/// is before `today` (`YYYY-MM-DD`).
pub fn handover(child: &JsValue, today: &str) -> JsValue {
    let mut visits = js::items(child, "visits");
    visits.reverse();
    let mut words = Vec::new();
    let mut actions = Vec::new();
    for visit in &visits {
        let date = js::get(visit, "visitDate");
        for said in js::items(visit, "childWords") {
            words.push(
                Obj::new()
                    .set("date", date.clone())
                    .set("words", said)
                    .set("workerId", js::get(visit, "workerId")),
            );
        }
        for action in js::items(visit, "actions") {
            if matches!(
                js::text(&action, "status").as_deref(),
                Some("done" | "cancelled")
            ) {
                continue;
            }
            let overdue = js::text(&action, "dueDate").is_some_and(|due| due.as_str() < today);
            actions.push(
                Obj::copy(&action)
                    .set("overdue", overdue)
                    .set("visitDate", date.clone()),
            );
        }
    }
    Obj::copy(child)
        .set("visits", array(visits))
        .set("words", array(words))
        .set("openActions", array(actions))
        .done()
}
