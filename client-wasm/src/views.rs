//! What the screens show, as JSON built from the documents (the view does no record logic).
//!
//! - [`visit_view`]: a visit record with its answers, its conflicts (both values, for a
//!   person to choose) and, on request, what stops it being submitted.
//! - [`child_view`]: a child's profile and placement.
//! - [`visit_summary`]: the line a visit gets in a child's history.

use automerge::ReadDoc;
use serde_json::{Value, json};
use shared::model::{Child, Coded, Visit, single_value_conflicts};

use crate::visit_form::candidate_text;

fn code<T: Coded>(value: Option<T>) -> Value {
    value.map_or(Value::Null, |v| Value::from(v.code()))
}

/// A visit record for the form and check-your-answers screens.
pub fn visit_view(doc: &impl ReadDoc, document_id: &str, today: Option<&str>) -> Value {
    let visit = match Visit::read(doc) {
        Ok(visit) => visit,
        Err(err) => {
            return json!({ "documentId": document_id, "unreadable": err.to_string() });
        }
    };
    let conflicts: Vec<Value> = single_value_conflicts(doc)
        .into_iter()
        .map(|conflict| {
            json!({
                "field": conflict.field.key(),
                "candidates": conflict
                    .candidates
                    .iter()
                    .map(|c| candidate_text(&c.value))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let problems: Vec<Value> = today
        .map(|today| visit.problems_for_submission(today))
        .unwrap_or_default()
        .into_iter()
        .map(|p| json!({ "field": p.field, "message": p.message }))
        .collect();
    json!({
        "documentId": document_id,
        "visitId": visit.visit_id,
        "childId": visit.child_id,
        "workerId": visit.worker_id,
        "visitDate": visit.visit_date,
        "visitKind": code(visit.visit_kind),
        "location": code(visit.location),
        "announced": visit.announced,
        "purpose": visit.purpose,
        "personsPresent": visit.persons_present.iter()
            .map(|p| json!({ "name": p.name, "role": p.role }))
            .collect::<Vec<_>>(),
        "childSeen": visit.child_seen,
        "seenAlone": visit.seen_alone,
        "notAloneReason": code(visit.not_alone_reason),
        "notAloneDetail": visit.not_alone_detail,
        "bedroomSeen": code(visit.bedroom_seen),
        "bedroomDetail": visit.bedroom_detail,
        "observations": visit.observations,
        "voice": visit.voice.iter().map(|v| json!({
            "entryId": v.entry_id,
            "words": v.words,
            "paraphrase": v.paraphrase,
            "topics": v.topics.iter().map(|t| t.code()).collect::<Vec<_>>(),
            "scale": v.scale,
            "readBack": v.read_back,
        })).collect::<Vec<_>>(),
        "analysis": visit.analysis,
        "actions": visit.actions.iter().map(|a| json!({
            "actionId": a.action_id,
            "description": a.description,
            "ownerType": code(a.owner_type),
            "ownerName": a.owner_name,
            "dueDate": a.due_date,
            "status": code(a.status),
        })).collect::<Vec<_>>(),
        "welfareSafeguarded": visit.welfare_safeguarded,
        "status": code(visit.status),
        "createdAt": visit.created_at.map(|t| t.as_millis()),
        "conflicts": conflicts,
        "problems": problems,
    })
}

/// One line of a child's visit history.
pub fn visit_summary(doc: &impl ReadDoc, document_id: &str) -> Option<Value> {
    let visit = Visit::read(doc).ok()?;
    Some(json!({
        "documentId": document_id,
        "visitDate": visit.visit_date,
        "status": code(visit.status),
        "workerId": visit.worker_id,
        "childSeen": visit.child_seen,
        "seenAlone": visit.seen_alone,
        "conflicts": single_value_conflicts(doc).len(),
        "childWords": visit.voice.iter()
            .map(|v| v.words.clone())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>(),
    }))
}

/// The child's id (`childId`) of a visit document, if it is one.
pub fn visit_child(doc: &impl ReadDoc) -> Option<String> {
    shared::model::visit_child_id(doc)
}

/// A child's profile and placement.
pub fn child_view(doc: &impl ReadDoc) -> Option<Value> {
    let child = Child::read(doc).ok()?;
    let name = child
        .preferred_name
        .clone()
        .or_else(|| child.legal_name.clone())
        .unwrap_or_else(|| child.child_id.clone());
    let placement = child.placement.as_ref().map(|p| {
        json!({
            "startDate": p.start_date,
            "placementType": p.placement_type,
            "provider": code(p.provider),
            "carerName": p.carer_name,
            "postcode": p.postcode,
            "statutoryBasis": code(p.statutory_basis),
        })
    });
    Some(json!({
        "childId": child.child_id,
        "name": name,
        "legalName": child.legal_name,
        "dateOfBirth": child.date_of_birth,
        "firstLanguage": child.first_language,
        "interpreterNeeded": child.interpreter_needed,
        "communicationNeeds": child.communication_needs,
        "legalStatus": child.legal_status,
        "summary": child.summary,
        "placement": placement,
    }))
}
