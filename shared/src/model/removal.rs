//! Taking things out of a record while keeping them in its history: removing an entry
//! from one of its lists (a person present, something the child said, an action) and
//! discarding a draft started in error.
//!
//! A removal deletes the entry from its list (so every device stops showing it, and an
//! earlier version still holds it: [`super::visit_at`]) and appends what it said to the
//! append-only `removals` list, with who removed it and when, so the record itself says
//! what was taken out. A discard sets the `discarded` map on a draft that was never
//! submitted: the record stays, readable and audited, but never counts as a visit and
//! cannot be submitted.
//!
//! List entries are addressed by index, checked against the id the screen read (when the
//! entry has one): an index that now names another entry is refused
//! ([`ModelError::EntryMoved`]), never applied to the wrong entry.
//!
//! A removal wins over edits made to the same entry concurrently on another device: words
//! typed into an entry there while it was removed here are not in the record after the
//! merge, only in its history (the other device's change is kept, and
//! [`super::visit_at`] reads the version that holds them).

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc};

use super::coded::coded_enum;
use super::oversight::{entries, push_entry};
use super::read::{MapReader, string_value};
use super::visit::check_header;
use super::visit_edit::millis_value;
use super::write::root_list_entry;
use super::{Coded, ModelError, VISIT_DOCUMENT_TYPE, VISIT_SCHEMA_VERSION, VisitStatus};
use crate::small_sort::sort_small_by;
use crate::sync::Timestamp;

const REMOVALS: &str = "removals";

coded_enum! {
    /// The lists of a visit whose entries a worker can remove (`list` of a removal).
    pub enum VisitList {
        /// `personsPresent`.
        PersonsPresent = "personsPresent",
        /// `voice`.
        Voice = "voice",
        /// `actions`.
        Actions = "actions",
    }
}

impl VisitList {
    /// The key of the entry's own id in this list.
    fn id_key(self) -> &'static str {
        match self {
            VisitList::PersonsPresent => "personId",
            VisitList::Voice => "entryId",
            VisitList::Actions => "actionId",
        }
    }
}

/// An entry taken out of a list, as the `removals` log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// This log entry's id (UUID text, made on the device).
    pub entry_id: String,
    /// The list it was in.
    pub list: VisitList,
    /// The removed entry's own id, when it had one.
    pub item_id: Option<String>,
    /// What it said, in plain words.
    pub summary: String,
    /// Who removed it.
    pub worker_id: String,
    /// When, by their device's clock.
    pub at: Timestamp,
}

/// Who takes something out of a record, when, and the id of the log entry to write.
#[derive(Debug, Clone, Copy)]
pub struct RemovedBy<'a> {
    /// The new log entry's id (UUID text).
    pub entry_id: &'a str,
    /// The worker removing it.
    pub worker_id: &'a str,
    /// Now, by the device's clock.
    pub at: Timestamp,
}

/// Removes entry `index` of `list`, logging what it said in `removals`.
///
/// `expected_id` is the entry's id as the screen read it; when given, the entry at
/// `index` must still have it.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry, [`ModelError::EntryMoved`]
/// if it is another entry now, [`ModelError::Automerge`] if automerge refuses the write.
pub fn remove_list_entry(
    tx: &mut impl Transactable,
    list: VisitList,
    index: usize,
    expected_id: Option<&str>,
    by: RemovedBy<'_>,
) -> Result<(), ModelError> {
    let entry = root_list_entry(tx, list.code(), index)?;
    let read = |key: &str| -> String { entry_text(&*tx, &entry, key) };
    let item_id = Some(read(list.id_key())).filter(|id| !id.is_empty());
    if let Some(expected) = expected_id
        && item_id.as_deref() != Some(expected)
    {
        return Err(ModelError::EntryMoved {
            field: list.code().to_owned(),
            index,
        });
    }
    let summary = match list {
        VisitList::PersonsPresent => {
            let (name, role) = (read("name"), read("role"));
            if role.is_empty() {
                name
            } else {
                format!("{name} ({role})")
            }
        }
        VisitList::Voice => format!("\u{201c}{}\u{201d}", read("words")),
        VisitList::Actions => read("description"),
    };
    let Some((automerge::Value::Object(ObjType::List), list_obj)) = tx.get(ROOT, list.code())?
    else {
        return Err(ModelError::IndexOutOfRange {
            field: list.code().to_owned(),
            index,
            len: 0,
        });
    };
    tx.delete(&list_obj, index)?;
    let map = push_entry(tx, REMOVALS)?;
    tx.put(&map, "entryId", by.entry_id)?;
    tx.put(&map, "list", list.code())?;
    if let Some(item_id) = &item_id {
        tx.put(&map, "itemId", item_id.as_str())?;
    }
    tx.put(&map, "summary", summary.as_str())?;
    tx.put(&map, "workerId", by.worker_id)?;
    tx.put(&map, "at", millis_value(by.at))?;
    Ok(())
}

/// The text at `key` of a list entry, empty when missing or not text.
fn entry_text(doc: &impl ReadDoc, entry: &ObjId, key: &str) -> String {
    match doc.get(entry, key) {
        Ok(Some((value, id))) => string_value(doc, &value, &id, String::new).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Every removal from the visit's lists, sorted by (`at`, `entry_id`).
///
/// # Errors
/// [`ModelError::WrongDocumentType`] or [`ModelError::UnsupportedSchemaVersion`] if the
/// document is not a visit, [`ModelError::MissingField`], [`ModelError::WrongValueType`]
/// or [`ModelError::UnknownCode`] naming the field when an entry cannot be read.
pub fn removals(doc: &impl ReadDoc) -> Result<Vec<Removal>, ModelError> {
    check_header(
        &MapReader::root(doc),
        VISIT_DOCUMENT_TYPE,
        VISIT_SCHEMA_VERSION,
    )?;
    let mut found: Vec<Removal> = Vec::new();
    for (entry, _) in entries(doc, REMOVALS)? {
        let list = entry.required_string("list")?;
        let removal = Removal {
            entry_id: entry.required_string("entryId")?,
            list: VisitList::from_code(&list).ok_or_else(|| ModelError::UnknownCode {
                field: "removals.list".to_owned(),
                value: list,
            })?,
            item_id: entry.string("itemId")?,
            summary: entry.string("summary")?.unwrap_or_default(),
            worker_id: entry.string("workerId")?.unwrap_or_default(),
            at: entry.required_timestamp("at")?,
        };
        if !found.iter().any(|seen| seen.entry_id == removal.entry_id) {
            found.push(removal);
        }
    }
    sort_small_by(&mut found, |a, b| (a.at, &a.entry_id) < (b.at, &b.entry_id));
    Ok(found)
}

/// Why, by whom and when the draft was discarded, if it was (the `discarded` map).
///
/// # Errors
/// [`ModelError::WrongValueType`] naming the field when the map cannot be read.
pub fn discard_of(doc: &impl ReadDoc) -> Result<Option<super::Discard>, ModelError> {
    MapReader::root(doc)
        .map("discarded")?
        .map(|map| {
            Ok(super::Discard {
                reason: map.text("reason")?,
                worker_id: map.text("workerId")?,
                at: map.timestamp("at")?,
            })
        })
        .transpose()
}

/// Discards a draft started in error: records why, by whom and when in `discarded`.
/// The record is kept (and audited by the server) but never counts and cannot be
/// submitted.
///
/// # Errors
/// [`ModelError::EmptyDiscardReason`] without a reason, [`ModelError::NotADraft`] if the
/// record is submitted or ever was, and the header errors of [`super::Visit::read`].
pub fn discard_visit(
    tx: &mut impl Transactable,
    reason: &str,
    worker_id: &str,
    at: Timestamp,
) -> Result<(), ModelError> {
    if reason.trim().is_empty() {
        return Err(ModelError::EmptyDiscardReason);
    }
    check_header(
        &MapReader::root(&*tx),
        VISIT_DOCUMENT_TYPE,
        VISIT_SCHEMA_VERSION,
    )?;
    // Read directly (not through the typed readers, which a transaction would copy).
    let submitted = match tx.get(ROOT, "status")? {
        Some((value, id)) => string_value(&*tx, &value, &id, String::new)
            .is_ok_and(|code| code == VisitStatus::Submitted.code()),
        None => false,
    };
    if submitted || tx.get(ROOT, "submittedAt")?.is_some() {
        return Err(ModelError::NotADraft);
    }
    let map = tx.put_object(ROOT, "discarded", ObjType::Map)?;
    tx.put(&map, "reason", reason.trim())?;
    tx.put(&map, "workerId", worker_id)?;
    tx.put(&map, "at", millis_value(at))?;
    Ok(())
}
