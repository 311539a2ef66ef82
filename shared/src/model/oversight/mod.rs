//! Management oversight of a visit record, amendments after sign-off, and
//! the record's earlier versions (domain requirements D4 and D5).
//!
//! A manager reads one version of a submitted record (named by its automerge
//! heads) and signs it off or returns it; the server appends an
//! [`OversightEntry`] naming that version to the visit's `oversight` list
//! ([`record_oversight`]). A worker who changes a signed-off record first
//! appends an [`Amendment`] with a reason to `amendments`
//! ([`record_amendment`], or [`add_amendment`] inside the client's own
//! transaction). Both lists are append-only.
//!
//! Nothing is ever overwritten, so every version stays readable:
//! [`visit_at`] reads the record as it was at any heads, and [`review`]
//! compares the record now with the version the manager signed off to tell
//! whether it still says what was signed ([`ReviewState`]).
//!
//! Each list is created by the first entry written to it. Two devices that
//! each create it offline leave two lists under the key after merging;
//! automerge keeps both as a conflict, and the readers here take the entries
//! of every one, so no entry is lost.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, AutomergeError, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, Value};

use super::coded::coded_enum;
use super::read::{MapReader, integral, string_value, wrong_type};
use super::visit::check_header;
use super::visit_edit::millis_value;
use super::visit_sections::{SectionDifference, differences};
use super::write::object_at;
use super::{
    ChangeAuthor, Coded, ModelError, VISIT_DOCUMENT_TYPE, VISIT_SCHEMA_VERSION, Visit, VisitStatus,
};
use crate::small_sort::sort_small_by;
use crate::sync::Timestamp;

mod reads;
pub use reads::*;

const OVERSIGHT: &str = "oversight";
const AMENDMENTS: &str = "amendments";

coded_enum! {
    /// What a manager decided about a submitted record (`decision`).
    pub enum OversightDecision {
        /// The record is signed off as it stood at the entry's heads.
        SignedOff = "signedOff",
        /// The record goes back to the worker to change and submit again.
        Returned = "returned",
    }
}

/// A manager's decision on one version of a visit record, as stored in
/// `oversight`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversightEntry {
    /// This entry's id (UUID text, made by the server).
    pub entry_id: String,
    /// Signed off or returned.
    pub decision: OversightDecision,
    /// What the manager wrote: the rationale, or what must change.
    pub comment: String,
    /// The manager's username.
    pub manager_id: String,
    /// The manager's name as people read it.
    pub manager_name: String,
    /// The version the manager read and decided on.
    pub heads: Vec<ChangeHash>,
    /// When the decision was recorded, by the server's clock.
    pub at: Timestamp,
}

/// A worker's reason for changing a record after it was signed off, as
/// stored in `amendments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    /// This entry's id (UUID text, made on the device).
    pub entry_id: String,
    /// Why the record is being changed.
    pub reason: String,
    /// The worker changing it.
    pub worker_id: String,
    /// When the amendment began, by the device's clock.
    pub at: Timestamp,
    /// The document's heads when the amendment began: the version being amended.
    pub heads: Vec<ChangeHash>,
}

coded_enum! {
    /// Where a visit record stands with its manager.
    pub enum ReviewState {
        /// Being written; no decision yet.
        Draft = "draft",
        /// Submitted and waiting for a decision.
        Submitted = "submitted",
        /// Signed off, and still says what was signed off.
        SignedOff = "signedOff",
        /// Returned to the worker, and not yet changed and submitted again.
        Returned = "returned",
        /// Signed off, but the record now says something else: amended
        /// since, or edited offline while the manager was signing it off.
        AmendedAfterSignOff = "amendedAfterSignOff",
        /// Returned, then changed and submitted again.
        Resubmitted = "resubmitted",
    }
}

impl ReviewState {
    /// The state as camelCase text, e.g. `"amendedAfterSignOff"`.
    pub fn as_str(self) -> &'static str {
        self.code()
    }
}

/// Where a record stands with its manager, with what a manager needs to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The state the record is in.
    pub state: ReviewState,
    /// The latest decision (by `at`), if any.
    pub latest_decision: Option<OversightEntry>,
    /// The latest sign-off, if any, even when a later decision returned it.
    pub signed: Option<OversightEntry>,
    /// Every amendment, oldest first.
    pub amendments: Vec<Amendment>,
    /// How the record now differs from the latest signed-off version; empty
    /// when it was never signed off.
    pub differences: Vec<SectionDifference>,
}

/// Appends a manager's decision to the visit's `oversight` list as one change
/// committed at `time_s` (seconds since the epoch, the server's clock). A
/// returned record also goes back to `status` draft, so the worker can change
/// it and submit it again.
///
/// Recording the same entry twice (a retry) changes nothing.
///
/// # Errors
/// [`ModelError::UnknownHeads`] if the entry's heads are empty or name a
/// change this document does not hold, [`ModelError::NotSubmitted`] if the
/// version at those heads was not submitted, [`ModelError::DuplicateEntry`]
/// if a different entry already has this id, and the errors of
/// [`Visit::read`] if the document is not a readable visit.
pub fn record_oversight(
    doc: &mut Automerge,
    entry: &OversightEntry,
    time_s: i64,
) -> Result<(), ModelError> {
    record_oversight_by(doc, entry, time_s, None)
}

/// [`record_oversight`], committing the change with `author`'s message
/// ([`ChangeAuthor::message`]) when given, so the record says who decided and where.
///
/// # Errors
/// As [`record_oversight`].
pub fn record_oversight_by(
    doc: &mut Automerge,
    entry: &OversightEntry,
    time_s: i64,
    author: Option<&ChangeAuthor>,
) -> Result<(), ModelError> {
    Visit::read(&*doc)?;
    if let Some(existing) = oversight_entries(&*doc)?
        .into_iter()
        .find(|existing| existing.entry_id == entry.entry_id)
    {
        return if existing == *entry {
            Ok(())
        } else {
            Err(ModelError::DuplicateEntry {
                field: OVERSIGHT,
                entry_id: entry.entry_id.clone(),
            })
        };
    }
    let decided = visit_at(doc, &entry.heads)?;
    if decided.status != Some(VisitStatus::Submitted) {
        return Err(ModelError::NotSubmitted);
    }
    let mut tx = doc.transaction();
    match put_oversight(&mut tx, entry) {
        Ok(()) => {
            let mut options = CommitOptions::default().with_time(time_s);
            if let Some(author) = author {
                options.set_message(author.message());
            }
            tx.commit_with(options);
            Ok(())
        }
        Err(err) => {
            tx.rollback();
            Err(err)
        }
    }
}

/// Writes `entry` at the end of `oversight`, and status draft if it returns the record.
fn put_oversight(tx: &mut impl Transactable, entry: &OversightEntry) -> Result<(), ModelError> {
    let map = push_entry(tx, OVERSIGHT)?;
    tx.put(&map, "entryId", entry.entry_id.as_str())?;
    tx.put(&map, "decision", entry.decision.code())?;
    tx.put(&map, "comment", entry.comment.as_str())?;
    tx.put(&map, "managerId", entry.manager_id.as_str())?;
    tx.put(&map, "managerName", entry.manager_name.as_str())?;
    put_heads(tx, &map, &entry.heads)?;
    tx.put(&map, "at", millis_value(entry.at))?;
    if entry.decision == OversightDecision::Returned {
        tx.put(ROOT, "status", VisitStatus::Draft.code())?;
    }
    Ok(())
}

/// Appends an amendment with `reason` to the visit as one change committed
/// at `at` (the device's clock), naming the document's current heads as the
/// version being amended. Make the change itself after this, in a later
/// change, or use [`add_amendment`] to do both in one transaction.
///
/// # Errors
/// As [`add_amendment`].
pub fn record_amendment(
    doc: &mut Automerge,
    reason: &str,
    worker_id: &str,
    entry_id: &str,
    at: Timestamp,
) -> Result<(), ModelError> {
    let mut tx = doc.transaction();
    match add_amendment(&mut tx, reason, worker_id, entry_id, at) {
        Ok(()) => {
            let time_s = i64::try_from(at.as_millis() / 1000).unwrap_or(i64::MAX);
            tx.commit_with(CommitOptions::default().with_time(time_s));
            Ok(())
        }
        Err(err) => {
            tx.rollback();
            Err(err)
        }
    }
}

/// Appends an amendment with `reason` inside an open transaction, naming the
/// heads the transaction started from as the version being amended; the
/// edits that follow in the same transaction are the amendment. The client
/// calls this before applying a form edit to a signed-off record (see
/// [`amendment_required`]).
///
/// # Errors
/// [`ModelError::EmptyAmendmentReason`] if `reason` is empty or only spaces,
/// [`ModelError::DuplicateEntry`] if an amendment with `entry_id` exists,
/// [`ModelError::WrongDocumentType`] or
/// [`ModelError::UnsupportedSchemaVersion`] if the document is not a visit.
pub fn add_amendment(
    tx: &mut impl Transactable,
    reason: &str,
    worker_id: &str,
    entry_id: &str,
    at: Timestamp,
) -> Result<(), ModelError> {
    if reason.trim().is_empty() {
        return Err(ModelError::EmptyAmendmentReason);
    }
    check_header(
        &MapReader::root(&*tx),
        VISIT_DOCUMENT_TYPE,
        VISIT_SCHEMA_VERSION,
    )?;
    if has_entry(&*tx, AMENDMENTS, entry_id)? {
        return Err(ModelError::DuplicateEntry {
            field: AMENDMENTS,
            entry_id: entry_id.to_owned(),
        });
    }
    let heads = tx.base_heads();
    let map = push_entry(tx, AMENDMENTS)?;
    tx.put(&map, "entryId", entry_id)?;
    tx.put(&map, "reason", reason)?;
    tx.put(&map, "workerId", worker_id)?;
    tx.put(&map, "at", millis_value(at))?;
    put_heads(tx, &map, &heads)
}
