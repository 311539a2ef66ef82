//! The stored record of a child gathered for `record_print`: the child document, every
//! visit document with every version the server received (`change_batches`: each
//! batch's heads are one version, read with `model::visit_at`), the decisions and
//! amendments in each visit, and the audit trail.
//!
//! Read from the durable documents only; nothing here writes.

use crate::store::sql::{Connection, OptionalExtension, params};
use automerge::{Automerge, ChangeHash};
use shared::DocumentId;
use shared::model::{self, Child, Visit};

use super::review::{ReviewError, load_document};
use crate::directory::audit::child_audit_trail;
use crate::record_print::{Entry, Event, Field, RecordExport, RecordKind};

/// The child's documents: its child document and its visits (oldest filed first).
fn documents_of(
    conn: &Connection,
    child_ref: &str,
) -> crate::store::sql::Result<Option<(Option<DocumentId>, Vec<DocumentId>)>> {
    let child: Option<(i64, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT child_id, document_id FROM children WHERE child_ref = ?1",
            [child_ref],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((child_id, own)) = child else {
        return Ok(None);
    };
    let id = |bytes: Vec<u8>| {
        <[u8; 16]>::try_from(bytes.as_slice())
            .ok()
            .map(DocumentId::from_bytes)
    };
    let visits = conn
        .prepare("SELECT document_id FROM child_documents WHERE child_id = ?1 AND kind = 'visit' ORDER BY created_at, document_id")?
        .query_map([child_id], |r| r.get::<_, Vec<u8>>(0))?
        .filter_map(|row| row.ok().and_then(id))
        .collect();
    Ok(Some((own.and_then(id), visits)))
}

fn child_fields(child: &Child) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut put = |key: &str, label: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.push(Field::new(key, label, value));
        }
    };
    let yes_no = |b: Option<bool>| b.map(|b| if b { "Yes" } else { "No" }.to_owned());
    let date = |text: &Option<String>| {
        text.as_deref()
            .map(|t| model::CalendarDate::parse(t).map_or_else(|| t.to_owned(), |d| d.long_form()))
    };
    put("legalName", "Name", child.legal_name.clone());
    put(
        "preferredName",
        "Likes to be called",
        child.preferred_name.clone(),
    );
    put("dateOfBirth", "Date of birth", date(&child.date_of_birth));
    put(
        "laPersonId",
        "Council person id",
        child.la_person_id.clone(),
    );
    put("sex", "Sex", child.sex.clone());
    put("ethnicity", "Ethnicity", child.ethnicity.clone());
    put(
        "firstLanguage",
        "First language",
        child.first_language.clone(),
    );
    put(
        "interpreterNeeded",
        "Interpreter needed",
        yes_no(child.interpreter_needed),
    );
    put(
        "communicationNeeds",
        "How to communicate",
        Some(child.communication_needs.clone()),
    );
    put("legalStatus", "Legal status", child.legal_status.clone());
    put(
        "uasc",
        "Unaccompanied asylum-seeking child",
        yes_no(child.uasc),
    );
    put(
        "becameLookedAfter",
        "Became looked after",
        date(&child.became_looked_after),
    );
    put("summary", "Summary", Some(child.summary.clone()));
    fields
}

fn placement_entry(child: &Child, document: Option<String>) -> Option<Entry> {
    let placement = child.placement.as_ref()?;
    let mut fields = Vec::new();
    let mut put = |key: &str, label: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.push(Field::new(key, label, value));
        }
    };
    put(
        "placementType",
        "Placement type",
        placement.placement_type.clone(),
    );
    put("carerName", "Carer", placement.carer_name.clone());
    put("postcode", "Postcode", placement.postcode.clone());
    put("endDate", "Ended", placement.end_date.clone());
    Some(Entry {
        date: placement.start_date.clone().unwrap_or_default(),
        kind: "placement",
        title: "Placement began".into(),
        document_id: document,
        fields,
        events: Vec::new(),
    })
}

fn review_entries(child: &Child, document: Option<String>) -> Vec<Entry> {
    child
        .reviews
        .iter()
        .map(|review| {
            let held = review.held_date.clone();
            Entry {
                date: held
                    .clone()
                    .or_else(|| review.due_date.clone())
                    .unwrap_or_default(),
                kind: "review",
                title: if held.is_some() {
                    "Looked-after review held"
                } else {
                    "Looked-after review due"
                }
                .into(),
                document_id: document.clone(),
                fields: review
                    .due_date
                    .iter()
                    .map(|due| Field::new("dueDate", "Due", due.clone()))
                    .collect(),
                events: Vec::new(),
            }
        })
        .collect()
}

fn sections(visit: &Visit) -> Vec<Field> {
    model::visit_sections(visit)
        .into_iter()
        .map(|s| Field::new(s.field, s.label, s.value))
        .collect()
}

/// One stored change batch: when it arrived, who sent it, and the heads after it.
struct Batch {
    received_at: i64,
    worker_ref: Option<String>,
    heads: Vec<ChangeHash>,
}

fn batches(conn: &Connection, document: &DocumentId) -> crate::store::sql::Result<Vec<Batch>> {
    conn.prepare_cached("SELECT received_at, worker_ref, heads FROM change_batches WHERE document_id = ?1 ORDER BY batch_id")?
        .query_map(params![document.as_bytes().as_slice()], |r| {
            let heads: Vec<u8> = r.get(2)?;
            Ok(Batch {
                received_at: r.get(0)?,
                worker_ref: r.get(1)?,
                heads: heads.chunks_exact(32).filter_map(|h| ChangeHash::try_from(h).ok()).collect(),
            })
        })?
        .collect()
}

/// One visit as an entry: its current sections and (with `versions`) every version the
/// server received, with the decisions and amendments, in time order.
fn visit_entry(
    conn: &Connection,
    document: &DocumentId,
    doc: &Automerge,
    versions: bool,
) -> Result<Entry, ReviewError> {
    let visit = Visit::read(doc)?;
    let mut events = Vec::new();
    if versions {
        for batch in batches(conn, document)? {
            let Ok(then) = model::visit_at(doc, &batch.heads) else {
                continue;
            };
            events.push(Event {
                at: batch.received_at,
                kind: "version",
                by: batch.worker_ref,
                text: String::new(),
                fields: sections(&then),
            });
        }
    }
    for entry in model::oversight_entries(doc)? {
        events.push(Event {
            at: i64::try_from(entry.at.as_millis()).unwrap_or(i64::MAX),
            kind: match entry.decision {
                model::OversightDecision::SignedOff => "signedOff",
                model::OversightDecision::Returned => "returned",
            },
            by: Some(entry.manager_name),
            text: entry.comment,
            fields: Vec::new(),
        });
    }
    for amendment in model::amendments(doc)? {
        events.push(Event {
            at: i64::try_from(amendment.at.as_millis()).unwrap_or(i64::MAX),
            kind: "amendment",
            by: Some(amendment.worker_id),
            text: amendment.reason,
            fields: Vec::new(),
        });
    }
    for correction in model::correction::corrections(doc) {
        let (kind, text) = match correction.kind {
            model::correction::CorrectionKind::Moved { .. } => (
                "moved",
                format!(
                    "Moved from another child's record. {}",
                    correction.note.reason
                ),
            ),
            model::correction::CorrectionKind::Expunged { .. } => (
                "expunged",
                format!(
                    "Content removed from every version of this record; earlier versions are no longer held. {}",
                    correction.note.reason
                ),
            ),
        };
        events.push(Event {
            at: i64::try_from(correction.note.at.as_millis()).unwrap_or(i64::MAX),
            kind,
            by: Some(correction.note.by_name),
            text,
            fields: Vec::new(),
        });
    }
    events.sort_by_key(|e| e.at);
    let kind = sections(&visit)
        .into_iter()
        .find(|f| f.field == "visitKind")
        .map(|f| f.value)
        .filter(|v| v != "Not answered")
        .unwrap_or_else(|| "Visit".into());
    Ok(Entry {
        date: visit.visit_date.clone().unwrap_or_default(),
        kind: "visit",
        title: format!("{kind} by {}", visit.worker_id),
        document_id: Some(document.to_string()),
        fields: if versions {
            Vec::new()
        } else {
            sections(&visit)
        },
        events,
    })
}

fn child_name(child: &Child) -> String {
    child
        .preferred_name
        .clone()
        .or_else(|| child.legal_name.clone())
        .unwrap_or_else(|| child.child_id.clone())
}

/// A child's whole record (subject access): `None` when no child has that reference.
///
/// # Errors
/// A document that cannot be read, or the database's error.
pub fn full_record(
    conn: &Connection,
    child_ref: &str,
    produced_by: &str,
    now_ms: i64,
) -> Result<Option<RecordExport>, ReviewError> {
    record(
        conn,
        child_ref,
        produced_by,
        now_ms,
        RecordKind::SubjectAccess,
    )
}

/// A child's handover summary: details, placement, reviews, and each visit as it reads
/// now (no history, no audit).
///
/// # Errors
/// As [`full_record`].
pub fn handover(
    conn: &Connection,
    child_ref: &str,
    produced_by: &str,
    now_ms: i64,
) -> Result<Option<RecordExport>, ReviewError> {
    record(conn, child_ref, produced_by, now_ms, RecordKind::Handover)
}

fn record(
    conn: &Connection,
    child_ref: &str,
    produced_by: &str,
    now_ms: i64,
    kind: RecordKind,
) -> Result<Option<RecordExport>, ReviewError> {
    let Some((own, visits)) = documents_of(conn, child_ref)? else {
        return Ok(None);
    };
    let full = kind == RecordKind::SubjectAccess;
    let child = match own {
        Some(id) => Some((id, Child::read(&load_document(conn, &id)?)?)),
        None => None,
    };
    let mut entries = Vec::new();
    if let Some((id, child)) = &child {
        entries.extend(placement_entry(child, Some(id.to_string())));
        entries.extend(review_entries(child, Some(id.to_string())));
    }
    for id in &visits {
        let doc = match load_document(conn, id) {
            Ok(doc) => doc,
            Err(ReviewError::NotFound) => continue,
            Err(err) => return Err(err),
        };
        entries.push(visit_entry(conn, id, &doc, full)?);
    }
    // Chronological: by date, undated last; ties keep the order filed.
    entries.sort_by(|a, b| (a.date.is_empty(), &a.date).cmp(&(b.date.is_empty(), &b.date)));
    Ok(Some(RecordExport {
        kind,
        child_ref: child_ref.to_owned(),
        child_name: child
            .as_ref()
            .map_or_else(|| child_ref.to_owned(), |(_, c)| child_name(c)),
        produced_at: now_ms,
        produced_by: produced_by.to_owned(),
        child_document_id: child.as_ref().map(|(id, _)| id.to_string()),
        child: child
            .as_ref()
            .map(|(_, c)| child_fields(c))
            .unwrap_or_default(),
        entries,
        audit: if full {
            child_audit_trail(conn, child_ref)?.unwrap_or_default()
        } else {
            Vec::new()
        },
        redacted: Vec::new(),
    }))
}

/// One visit printed: its sections as they read now and its decisions and amendments.
///
/// # Errors
/// [`ReviewError::NotFound`] if not stored, or as [`full_record`].
pub fn visit_print(
    conn: &Connection,
    document: &DocumentId,
    child_ref: &str,
    produced_by: &str,
    now_ms: i64,
) -> Result<RecordExport, ReviewError> {
    let doc = load_document(conn, document)?;
    let entry = visit_entry(conn, document, &doc, false)?;
    let child_doc: Option<Vec<u8>> = conn
        .query_row(
            "SELECT document_id FROM children WHERE child_ref = ?1",
            [child_ref],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let child_document = child_doc
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(DocumentId::from_bytes);
    let child = child_document
        .and_then(|id| load_document(conn, &id).ok())
        .and_then(|doc| Child::read(&doc).ok());
    Ok(RecordExport {
        kind: RecordKind::Visit,
        child_ref: child_ref.to_owned(),
        child_name: child
            .as_ref()
            .map_or_else(|| child_ref.to_owned(), child_name),
        produced_at: now_ms,
        produced_by: produced_by.to_owned(),
        child_document_id: child_document.map(|id| id.to_string()),
        child: child
            .as_ref()
            .map(|c| child_fields(c).into_iter().take(3).collect())
            .unwrap_or_default(),
        entries: vec![entry],
        audit: Vec::new(),
        redacted: Vec::new(),
    })
}
