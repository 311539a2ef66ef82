//! One visit as its manager reviews it: every section with who last changed it, the
//! device time of that change and when the server received it; where the record stands
//! (awaiting sign-off, signed off, returned, amended after sign-off); the signed version
//! and how the record now differs from it; the history of decisions and amendments.
//!
//! Read from the stored document itself (what is durable), plus `change_batches` for
//! receipt times and senders. Answers two devices gave differently are listed with who
//! chose each, on which device and when (the record "needs a decision"), and the
//! record-keeping references (the visit's, child's and worker's ids) are left out: a
//! manager reads the record, not its internal ids.

use std::collections::HashMap;

use crate::store::sql::{Connection, OptionalExtension, params};
use automerge::{Automerge, ChangeHash, ReadDoc};
use serde::Serialize;
use shared::DocumentId;
use shared::model::{self, ModelError, Visit};

/// The JSON of `GET /api/visits/{id}/review`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitReview {
    /// The visit document's id.
    pub visit_document_id: String,
    /// The child's case reference.
    pub child_ref: String,
    /// The child's name.
    pub child_name: String,
    /// The visiting worker's username.
    pub worker: String,
    /// Their name.
    pub worker_name: String,
    /// The visit date as recorded.
    pub visit_date: Option<String>,
    /// The version shown: sign off exactly this.
    pub heads: Vec<String>,
    /// Where the record stands with its manager.
    pub review_state: &'static str,
    /// Written up more than the allowed working days after the visit.
    pub late: bool,
    /// The record, section by section.
    pub sections: Vec<Section>,
    /// Answers two devices gave differently, for the worker to choose between.
    pub conflicts: Vec<ReviewConflict>,
    /// The social worker who holds the child now, if any.
    pub current_worker: Option<String>,
    /// Recorded by a worker who no longer holds the child.
    pub recorded_by_previous_worker: bool,
    /// The latest signed-off version, if any.
    pub signed_version: Option<SignedVersion>,
    /// How the record differs from the signed version.
    pub differences: Vec<Difference>,
    /// Decisions and amendments, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// One section with its provenance.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    /// The document key.
    pub field: &'static str,
    /// What it is, in plain words.
    pub label: &'static str,
    /// The answer as text.
    pub value: String,
    /// Who last changed it (name), when known.
    pub author: Option<String>,
    /// The device time of that change, ms.
    pub device_time: Option<i64>,
    /// When the server received that change, ms.
    pub received_at: Option<i64>,
    /// The device it was made on (its id at the server), when the change says.
    pub device: Option<String>,
    /// Two devices gave different answers here and nobody has chosen yet.
    pub in_conflict: bool,
}

/// An answer two devices gave differently.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewConflict {
    /// The document key.
    pub field: &'static str,
    /// What it is, in plain words.
    pub label: &'static str,
    /// Each different answer.
    pub candidates: Vec<ConflictSide>,
}

/// One side of a conflict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictSide {
    /// The answer as shown.
    pub value: String,
    /// Who chose it (name), when the change says.
    pub by: Option<String>,
    /// On which device (its id at the server).
    pub device: Option<String>,
    /// When, by that device's clock, ms.
    pub at: Option<i64>,
}

/// A section of the signed version.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedSection {
    /// The document key.
    pub field: &'static str,
    /// What it is.
    pub label: &'static str,
    /// The answer as signed.
    pub value: String,
}

/// The version a manager signed off.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedVersion {
    /// Its heads (it stays readable at these forever).
    pub heads: Vec<String>,
    /// The manager's name.
    pub signed_by: String,
    /// When (server time, ms).
    pub signed_at: i64,
    /// The manager's comment.
    pub comment: String,
    /// The record as signed.
    pub sections: Vec<SignedSection>,
}

/// A section that changed since sign-off.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// The document key.
    pub field: &'static str,
    /// What it is.
    pub label: &'static str,
    /// As signed.
    pub signed: String,
    /// As now.
    pub current: String,
}

/// A decision or an amendment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// `signedOff`, `returned` or `amendment`.
    pub kind: &'static str,
    /// Who (name).
    pub by: String,
    /// When, ms.
    pub at: i64,
    /// The comment or the reason.
    pub text: String,
}

/// Why a review could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such visit document is stored.
    #[error("no such visit record")]
    NotFound,
    /// The stored document is not a readable visit.
    #[error("the record cannot be read: {0}")]
    Unreadable(#[from] ModelError),
    /// The stored bytes are not a document.
    #[error("the record cannot be loaded: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] crate::store::StoreError),
}

/// Loads a stored document (every chunk, as the server has made it durable).
///
/// # Errors
/// [`ReviewError::NotFound`] if nothing is stored; [`ReviewError::Corrupt`] if it does
/// not load.
pub fn load_document(conn: &Connection, document: &DocumentId) -> Result<Automerge, ReviewError> {
    let chunks: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT data FROM document_chunks WHERE document_id = ?1 ORDER BY id")?
        .query_map([document.as_bytes().as_slice()], |row| row.get(0))?
        .collect::<crate::store::sql::Result<_>>()?;
    if chunks.is_empty() {
        return Err(ReviewError::NotFound);
    }
    Automerge::load(&chunks.concat()).map_err(|err| ReviewError::Corrupt(err.to_string()))
}

/// Reads the review of a visit document.
///
/// # Errors
/// See [`ReviewError`].
pub fn visit_review(
    conn: &Connection,
    document: &DocumentId,
    doc: &Automerge,
) -> Result<VisitReview, ReviewError> {
    let visit = Visit::read(doc)?;
    let review = model::review(doc)?;
    let late: bool = conn
        .query_row(
            "SELECT late FROM proj_visits WHERE document_id = ?1",
            [document.as_bytes().as_slice()],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(false);
    let mut names = Names::new(conn);
    let receipts = receipts(conn, document, doc)?;
    let provenance: HashMap<&'static str, model::SectionProvenance> =
        model::section_provenance(doc)
            .into_iter()
            .map(|entry| (entry.field, entry))
            .collect();
    let conflicts: Vec<ReviewConflict> = model::single_value_conflicts(doc)
        .into_iter()
        .map(|conflict| {
            let field = conflict.field.key();
            ReviewConflict {
                field,
                label: model::visit_sections(&visit)
                    .into_iter()
                    .find(|section| section.field == field)
                    .map_or(field, |section| section.label),
                candidates: conflict
                    .candidates
                    .iter()
                    .map(|candidate| {
                        let origin = model::change_origin(doc, &candidate.op);
                        let author = origin.as_ref().and_then(|o| o.author.clone());
                        ConflictSide {
                            value: candidate.display.clone(),
                            by: author.as_ref().map(|a| names.name(&a.worker_id)),
                            device: author.map(|a| a.device),
                            at: origin.map(|o| o.device_time_s * 1000).filter(|at| *at > 0),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let sections = model::visit_sections(&visit)
        .into_iter()
        .filter(|section| !INTERNAL_IDS.contains(&section.field))
        .map(|section| {
            let change = provenance.get(section.field);
            let receipt = change.and_then(|change| receipts.get(&change.change));
            let written_by = change
                .and_then(|change| doc.get_change_by_hash(&change.change))
                .and_then(|found| found.message().and_then(model::ChangeAuthor::parse));
            // Who sent it, as the server saw; for changes it did not receive from a device
            // (stored by an administrator), who the change says wrote it.
            let author = receipt
                .and_then(|(_, worker)| worker.as_deref())
                .or(written_by.as_ref().map(|author| author.worker_id.as_str()))
                .map(|worker| names.name(worker));
            let device = written_by.map(|author| author.device);
            Section {
                field: section.field,
                label: section.label,
                value: section.value,
                author,
                device_time: change.map(|change| change.device_time_s * 1000),
                received_at: receipt.map(|(at, _)| *at),
                device,
                in_conflict: conflicts.iter().any(|c| c.field == section.field),
            }
        })
        .collect();
    let signed_version = match &review.signed {
        Some(entry) => {
            let signed = model::visit_at(doc, &entry.heads)?;
            Some(SignedVersion {
                heads: entry.heads.iter().map(ToString::to_string).collect(),
                signed_by: entry.manager_name.clone(),
                signed_at: entry.at.as_millis() as i64,
                comment: entry.comment.clone(),
                sections: model::visit_sections(&signed)
                    .into_iter()
                    .map(|section| SignedSection {
                        field: section.field,
                        label: section.label,
                        value: section.value,
                    })
                    .collect(),
            })
        }
        None => None,
    };
    let mut history: Vec<HistoryEntry> = model::oversight_entries(doc)?
        .into_iter()
        .map(|entry| HistoryEntry {
            kind: model::Coded::code(entry.decision),
            by: entry.manager_name,
            at: entry.at.as_millis() as i64,
            text: entry.comment,
        })
        .collect();
    for amendment in &review.amendments {
        history.push(HistoryEntry {
            kind: "amendment",
            by: names.name(&amendment.worker_id),
            at: amendment.at.as_millis() as i64,
            text: amendment.reason.clone(),
        });
    }
    history.sort_by_key(|entry| entry.at);
    let child_name = conn
        .query_row(
            "SELECT COALESCE(pc.preferred_name, pc.legal_name) FROM children c
             JOIN proj_children pc ON pc.document_id = c.document_id WHERE c.child_ref = ?1",
            [&visit.child_id],
            |row| row.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten()
        .unwrap_or_else(|| visit.child_id.clone());
    let current_worker: Option<String> = conn
        .query_row(
            "SELECT w.username FROM allocations a JOIN workers w ON w.worker_id = a.worker_id
             JOIN children c ON c.child_id = a.child_id
             WHERE c.child_ref = ?1 AND a.ended_at IS NULL AND w.role = 'social-worker'
             ORDER BY a.started_at DESC LIMIT 1",
            [&visit.child_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(VisitReview {
        recorded_by_previous_worker: current_worker
            .as_deref()
            .is_some_and(|current| current != visit.worker_id),
        current_worker,
        conflicts,
        visit_document_id: document.to_string(),
        child_ref: visit.child_id.clone(),
        child_name,
        worker_name: names.name(&visit.worker_id),
        worker: visit.worker_id.clone(),
        visit_date: visit.visit_date.clone(),
        heads: doc.get_heads().iter().map(ToString::to_string).collect(),
        review_state: review.state.as_str(),
        late,
        sections,
        signed_version,
        differences: review
            .differences
            .into_iter()
            .map(|difference| Difference {
                field: difference.field,
                label: difference.label,
                signed: difference.signed,
                current: difference.current,
            })
            .collect(),
        history,
    })
}

/// Sections that are record keeping (ids), not what the record says.
const INTERNAL_IDS: [&str; 3] = ["visitId", "childId", "workerId"];

/// Receipt time and sender of every change of a document, from its `change_batches`.
fn receipts(
    conn: &Connection,
    document: &DocumentId,
    doc: &Automerge,
) -> crate::store::sql::Result<HashMap<ChangeHash, (i64, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT received_at, worker_ref, heads FROM change_batches
         WHERE document_id = ?1 ORDER BY batch_id",
    )?;
    let rows = stmt.query_map(params![document.as_bytes().as_slice()], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, Option<String>>(1)?,
            row.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut batches = Vec::new();
    let mut batch_heads = Vec::new();
    for row in rows {
        let (at, worker, heads) = row?;
        batch_heads.push(
            heads
                .chunks_exact(32)
                .filter_map(|hash| ChangeHash::try_from(hash).ok())
                .collect(),
        );
        batches.push((at, worker));
    }
    Ok(model::batch_of_each_change(doc, &batch_heads)
        .into_iter()
        .map(|(change, batch)| (change, batches[batch].clone()))
        .collect())
}

/// Workers' display names by username, looked up once each.
struct Names<'a> {
    conn: &'a Connection,
    known: HashMap<String, String>,
}

impl<'a> Names<'a> {
    fn new(conn: &'a Connection) -> Self {
        Self {
            conn,
            known: HashMap::new(),
        }
    }

    fn name(&mut self, username: &str) -> String {
        if let Some(name) = self.known.get(username) {
            return name.clone();
        }
        let name = self
            .conn
            .query_row(
                "SELECT display_name FROM workers WHERE username = ?1",
                [username],
                |row| row.get::<_, String>(0),
            )
            .unwrap_or_else(|_| username.to_owned());
        self.known.insert(username.to_owned(), name.clone());
        name
    }
}
