//! Low-level write helpers shared by the typed edit functions.
//!
//! Every edit goes through these so that positions and indexes are checked
//! here (returning a [`ModelError`]) rather than handed to automerge, and so
//! that a text or list object missing from a document written elsewhere is
//! created on first use instead of failing.
//!
//! Creating an object on first use is a fallback: if two devices both create
//! the same missing object offline, automerge keeps only one of them after
//! merging. That is why [`create_visit`](super::create_visit) and
//! [`create_child`](super::create_child) create every text and list up front.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, Value};

use super::ModelError;
use super::read::wrong_type;

/// Fails unless the document root is empty, so a create never overwrites.
pub(crate) fn ensure_empty(
    tx: &impl Transactable,
    document: &'static str,
) -> Result<(), ModelError> {
    match tx.length(ROOT) {
        0 => Ok(()),
        _ => Err(ModelError::DocumentNotEmpty { document }),
    }
}

/// The object of type `kind` at `key` in `parent`, created when missing.
pub(crate) fn object_at(
    tx: &mut impl Transactable,
    parent: &ObjId,
    key: &str,
    kind: ObjType,
    path: impl FnOnce() -> String,
) -> Result<ObjId, ModelError> {
    match tx.get(parent, key)? {
        None => Ok(tx.put_object(parent, key, kind)?),
        Some((Value::Object(found), id)) if found == kind => Ok(id),
        Some((value, id)) => {
            let expected = match kind {
                ObjType::Text => "text",
                ObjType::List => "a list",
                ObjType::Map | ObjType::Table => "a map",
            };
            Err(wrong_type(tx, path(), expected, &value, &id))
        }
    }
}

/// The map at `index` of the root list `list_key`, e.g. `voice[2]`.
pub(crate) fn root_list_entry(
    tx: &impl Transactable,
    list_key: &'static str,
    index: usize,
) -> Result<ObjId, ModelError> {
    let list = match tx.get(ROOT, list_key)? {
        Some((Value::Object(ObjType::List), list)) => Some(list),
        _ => None,
    };
    let len = list.as_ref().map_or(0, |list| tx.length(list));
    let out_of_range = || ModelError::IndexOutOfRange {
        field: list_key.to_owned(),
        index,
        len,
    };
    let list = list.filter(|_| index < len).ok_or_else(out_of_range)?;
    match tx.get(&list, index)? {
        Some((Value::Object(ObjType::Map | ObjType::Table), entry)) => Ok(entry),
        Some((value, id)) => Err(wrong_type(
            tx,
            format!("{list_key}[{index}]"),
            "a map",
            &value,
            &id,
        )),
        None => Err(out_of_range()),
    }
}

/// Appends a new map to the root list `list_key` (creating the list when
/// missing) and returns the new map with its index.
pub(crate) fn push_root_list_entry(
    tx: &mut impl Transactable,
    list_key: &'static str,
) -> Result<(ObjId, usize), ModelError> {
    let list = object_at(tx, &ROOT, list_key, ObjType::List, || list_key.to_owned())?;
    let index = tx.length(&list);
    Ok((tx.insert_object(&list, index, ObjType::Map)?, index))
}

/// Replaces `delete` units at `pos` of a text with `insert`, after checking
/// the range lies inside the text. Units are the document's text encoding
/// (Unicode code points unless automerge was built otherwise).
pub(crate) fn splice_checked(
    tx: &mut impl Transactable,
    text: &ObjId,
    field: impl FnOnce() -> String,
    pos: usize,
    delete: usize,
    insert: &str,
) -> Result<(), ModelError> {
    let len = tx.length(text);
    let end = pos.checked_add(delete);
    let delete_signed = isize::try_from(delete).ok();
    match (end, delete_signed) {
        (Some(end), Some(delete_signed)) if end <= len => {
            Ok(tx.splice_text(text, pos, delete_signed, insert)?)
        }
        _ => Err(ModelError::TextRangeOutOfBounds {
            field: field(),
            pos,
            delete,
            len,
        }),
    }
}
