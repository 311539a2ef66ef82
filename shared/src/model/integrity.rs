//! Who may write what: the checks a server runs on every change a peer sends.
//!
//! A record's placing fields say which child it is about, who wrote it and when it was
//! made; oversight says what a manager decided. Were a peer able to change them, a worker
//! could move a visit onto another team's child or forge a sign-off. So each field has one
//! writer (the table in ARCHITECTURE.md, "Who writes each field"):
//!
//! | document | field | writer |
//! |---|---|---|
//! | visit | `type`, `schemaVersion`, `visitId`, `childId`, `workerId`, `createdAt` | the device that creates it, once; `workerId` must be its signed-in worker, `childId` a child it holds |
//! | visit | `oversight` | the server only (a manager's decision through the HTTP API) |
//! | visit | `corrections` | the server only (a manager moving a record or expunging passages) |
//! | visit | `amendments` | the worker's device, append-only: entries once stored never change |
//! | visit | every other key | the devices of workers holding the child |
//! | child | every key | the server only (the directory: import and administration) |
//!
//! [`check_new_visit`] decides a document a peer creates; [`check_peer_change`] compares a
//! document before and after a peer's changes were applied (to a copy) and names the first
//! field they touched that the peer may not write. Both read values as the JavaScript
//! client writes them too (strings as text objects), and never panic.

use std::collections::HashSet;

use automerge::{Automerge, ObjId, ObjType, Prop, ROOT, ReadDoc, Value};

use super::child::CHILD_DOCUMENT_TYPE;
use super::read::MapReader;
use super::visit::{VISIT_DOCUMENT_TYPE, VISIT_SCHEMA_VERSION};

/// The root keys of a visit that only its creation writes.
pub const VISIT_PLACING_KEYS: [&str; 6] = [
    "type",
    "schemaVersion",
    "visitId",
    "childId",
    "workerId",
    "createdAt",
];

/// The root keys of a visit that only the server writes (decisions, corrections).
pub const VISIT_SERVER_KEYS: [&str; 2] = ["oversight", "corrections"];

/// The root key of a visit whose stored entries never change.
pub const VISIT_APPEND_ONLY_KEY: &str = "amendments";

/// How deep a compared value may nest (a visit's deepest value is three levels down).
const MAX_DEPTH: usize = 16;

/// Why a peer's document or change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityViolation {
    /// A new document is not a visit of the schema this server reads.
    #[error("a new document must be a visit (schema {VISIT_SCHEMA_VERSION})")]
    NotAVisit,
    /// A new visit names a child its author may not create records for.
    #[error("the visit names child {child_id}, who is not allocated to its author")]
    ChildNotAllocated {
        /// The `childId` it names.
        child_id: String,
    },
    /// A new visit's `workerId` is not its author.
    #[error("the visit's workerId {found:?} is not the signed-in worker")]
    WrongAuthor {
        /// The `workerId` it carries.
        found: String,
    },
    /// A field is missing, conflicting or not a single readable value.
    #[error("the visit's {0} is missing or not a single value")]
    BadField(&'static str),
    /// A new visit arrives with entries only the server or later edits write.
    #[error("a new visit cannot already hold {0}")]
    PrefilledField(&'static str),
    /// A change touched a field the peer may not write.
    #[error("changes to {field} are refused: {writer}")]
    ProtectedField {
        /// The root key touched.
        field: String,
        /// Who writes it.
        writer: &'static str,
    },
    /// A change to a document the server writes alone.
    #[error("{0} documents are written by the server only")]
    ServerDocument(&'static str),
}

/// Checks a document a peer sent for an id nobody holds: it must be a visit, for a child
/// in `may_create_for`, written by `author` (the signed-in worker's `workerId`; `None`
/// when the caller does not check authorship), with nothing only the server writes.
/// Returns the child it names.
///
/// # Errors
/// The first [`IntegrityViolation`] found.
pub fn check_new_visit(
    doc: &impl ReadDoc,
    author: Option<&str>,
    may_create_for: &HashSet<String>,
) -> Result<String, IntegrityViolation> {
    if single_string(doc, "type").as_deref() != Some(VISIT_DOCUMENT_TYPE) {
        return Err(IntegrityViolation::NotAVisit);
    }
    let root = MapReader::root(doc);
    if root.int("schemaVersion").ok().flatten() != Some(VISIT_SCHEMA_VERSION as i64)
        || doc.get_all(ROOT, "schemaVersion").map_or(0, |v| v.len()) != 1
    {
        return Err(IntegrityViolation::NotAVisit);
    }
    for key in ["visitId", "childId", "workerId"] {
        if single_string(doc, key).is_none_or(|value| value.is_empty()) {
            return Err(IntegrityViolation::BadField(key));
        }
    }
    if doc.get_all(ROOT, "createdAt").map_or(0, |v| v.len()) > 1 {
        return Err(IntegrityViolation::BadField("createdAt"));
    }
    let child_id = single_string(doc, "childId").unwrap_or_default();
    if !may_create_for.contains(&child_id) {
        return Err(IntegrityViolation::ChildNotAllocated { child_id });
    }
    let worker = single_string(doc, "workerId").unwrap_or_default();
    if author.is_some_and(|author| author != worker) {
        return Err(IntegrityViolation::WrongAuthor { found: worker });
    }
    for (key, what) in [
        ("oversight", "oversight decisions"),
        ("amendments", "amendments"),
    ] {
        if !is_absent_or_empty_list(doc, key) {
            return Err(IntegrityViolation::PrefilledField(what));
        }
    }
    Ok(child_id)
}

/// Checks what a peer's changes did: `before` is the document as stored, `after` the same
/// document with the peer's changes applied (to a copy).
///
/// # Errors
/// The first [`IntegrityViolation`]: a change to a placing or server-only field, to a stored
/// amendment, or to a document only the server writes.
pub fn check_peer_change(before: &Automerge, after: &Automerge) -> Result<(), IntegrityViolation> {
    if before.get_heads() == after.get_heads() {
        return Ok(());
    }
    match single_string(before, "type").as_deref() {
        Some(VISIT_DOCUMENT_TYPE) => {}
        Some(CHILD_DOCUMENT_TYPE) => return Err(IntegrityViolation::ServerDocument("child")),
        _ => return Err(IntegrityViolation::ServerDocument("unknown")),
    }
    for key in VISIT_PLACING_KEYS {
        if !same_at(before, &ROOT, after, &ROOT, key.into(), 0) {
            return Err(IntegrityViolation::ProtectedField {
                field: key.to_owned(),
                writer: "it is set once, when the visit is created",
            });
        }
    }
    for key in VISIT_SERVER_KEYS {
        if !same_at(before, &ROOT, after, &ROOT, key.into(), 0) {
            return Err(IntegrityViolation::ProtectedField {
                field: key.to_owned(),
                writer: "only the server records a manager's decision or correction",
            });
        }
    }
    if !amendments_kept(before, after) {
        return Err(IntegrityViolation::ProtectedField {
            field: VISIT_APPEND_ONLY_KEY.to_owned(),
            writer: "an amendment once recorded never changes",
        });
    }
    Ok(())
}

/// Every amendment stored before is still there, unchanged (new ones may be added).
///
/// Two devices that amend a signed-off record offline each create the list, so after
/// the merge the key holds two concurrent lists (readers read both): that is allowed.
/// What is not: a stored list replaced or removed, one of its entries changed or
/// removed, or anything but a list at the key.
fn amendments_kept(before: &impl ReadDoc, after: &impl ReadDoc) -> bool {
    let (Some(before_lists), Some(after_lists)) = (
        root_lists(before, VISIT_APPEND_ONLY_KEY),
        root_lists(after, VISIT_APPEND_ONLY_KEY),
    ) else {
        return false;
    };
    before_lists.iter().all(|list| {
        after_lists.contains(list) && {
            let after_entries: Vec<ObjId> = (0..after.length(list))
                .filter_map(|index| after.get(list, index).ok().flatten())
                .map(|(_, id)| id)
                .collect();
            (0..before.length(list)).all(|index| {
                let Ok(Some((_, entry))) = before.get(list, index) else {
                    return false;
                };
                after_entries.contains(&entry) && same_object(before, &entry, after, &entry, 1)
            })
        }
    })
}

/// The lists at the root key `key` (several when devices created it concurrently; none
/// when absent), or `None` when anything else is there.
fn root_lists(doc: &impl ReadDoc, key: &str) -> Option<Vec<ObjId>> {
    doc.get_all(ROOT, key)
        .ok()?
        .into_iter()
        .map(|(value, id)| matches!(value, Value::Object(ObjType::List)).then_some(id))
        .collect()
}

/// Whether `key` holds the same value or values (conflicts included) in both documents.
fn same_at(
    a: &impl ReadDoc,
    a_obj: &ObjId,
    b: &impl ReadDoc,
    b_obj: &ObjId,
    key: Prop,
    depth: usize,
) -> bool {
    let (Ok(a_values), Ok(b_values)) = (a.get_all(a_obj, key.clone()), b.get_all(b_obj, key))
    else {
        return false;
    };
    a_values.len() == b_values.len()
        && a_values
            .iter()
            .zip(&b_values)
            .all(
                |((a_value, a_id), (b_value, b_id))| match (a_value, b_value) {
                    (Value::Scalar(x), Value::Scalar(y)) => x == y,
                    (Value::Object(x), Value::Object(y)) => {
                        x == y && a_id == b_id && same_object(a, a_id, b, b_id, depth + 1)
                    }
                    _ => false,
                },
            )
}

/// Whether one object (map, list or text) has the same contents in both documents.
fn same_object(
    a: &impl ReadDoc,
    a_obj: &ObjId,
    b: &impl ReadDoc,
    b_obj: &ObjId,
    depth: usize,
) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match (a.object_type(a_obj), b.object_type(b_obj)) {
        (Ok(ObjType::Map | ObjType::Table), Ok(ObjType::Map | ObjType::Table)) => {
            let a_keys: Vec<String> = a.keys(a_obj).collect();
            let b_keys: Vec<String> = b.keys(b_obj).collect();
            a_keys == b_keys
                && a_keys
                    .into_iter()
                    .all(|key| same_at(a, a_obj, b, b_obj, key.into(), depth))
        }
        (Ok(ObjType::Text), Ok(ObjType::Text)) => a.text(a_obj).ok() == b.text(b_obj).ok(),
        (Ok(ObjType::List), Ok(ObjType::List)) => {
            let len = a.length(a_obj);
            len == b.length(b_obj)
                && (0..len).all(|index| same_at(a, a_obj, b, b_obj, index.into(), depth))
        }
        _ => false,
    }
}

/// A root key holding exactly one string (scalar or text object).
fn single_string(doc: &impl ReadDoc, key: &str) -> Option<String> {
    if doc.get_all(ROOT, key).ok()?.len() != 1 {
        return None;
    }
    MapReader::root(doc).string(key).ok().flatten()
}

fn is_absent_or_empty_list(doc: &impl ReadDoc, key: &str) -> bool {
    match doc.get_all(ROOT, key) {
        Ok(values) if values.is_empty() => true,
        Ok(values) if values.len() == 1 => match &values[0] {
            (Value::Object(ObjType::List), list) => doc.length(list) == 0,
            _ => false,
        },
        _ => false,
    }
}
