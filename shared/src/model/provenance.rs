//! Who last changed each section of a visit record, and when (domain
//! requirement D5: each record shows its author and device time).
//!
//! Automerge keeps every change with its actor and the device's clock at
//! commit. [`section_provenance`] walks the changes in causal order and, for
//! each root key of the visit's sections, keeps the last change with an
//! operation on that key or on any object beneath it (a text's characters,
//! a list's entries, the keys of an entry). Which root key an object belongs
//! to is learnt from the operation that created it, which always comes
//! earlier in causal order than any operation inside the object.
//!
//! [`batch_of_each_change`] tells which batch of changes received by the
//! server brought each change, for the server's receipt times.
//!
//! A Doorstep device commits every change with a message naming the worker and the
//! device ([`ChangeAuthor`]); [`change_origin`] reads it back for the operation behind
//! an answer (e.g. each side of a conflict), with the change's device time.

use std::collections::HashMap;

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{ActorId, Automerge, ChangeHash, ObjId};

use super::visit_sections::Section;

/// Who made a change and on which device, as the change's message records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeAuthor {
    /// The worker's username.
    pub worker_id: String,
    /// The device's id at the server (`deviceId` of the session), or `server`.
    pub device: String,
}

/// The message prefix of [`ChangeAuthor::message`].
const AUTHOR_PREFIX: &str = "doorstep:author=";

impl ChangeAuthor {
    /// The change message that records this author: `doorstep:author=WORKER;device=DEVICE`.
    pub fn message(&self) -> String {
        format!("{AUTHOR_PREFIX}{};device={}", self.worker_id, self.device)
    }

    /// The author a change message records, if it is one of [`ChangeAuthor::message`]'s.
    pub fn parse(message: &str) -> Option<ChangeAuthor> {
        let rest = message.strip_prefix(AUTHOR_PREFIX)?;
        // Split on a character: a string pattern would cost the browser's wasm kilobytes.
        let (worker, device) = rest.split_once(';')?;
        Some(ChangeAuthor {
            worker_id: worker.to_owned(),
            device: device.strip_prefix("device=")?.to_owned(),
        })
    }
}

/// Where the operation behind an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOrigin {
    /// The change holding it.
    pub change: ChangeHash,
    /// Who made it and where, if the change says (Doorstep's own clients do).
    pub author: Option<ChangeAuthor>,
    /// When, by that device's clock: seconds since the epoch (0 when not recorded).
    pub device_time_s: i64,
}

/// The change that wrote operation `op` (e.g. a [`super::ConflictCandidate::op`]), with
/// its author and device time; `None` for the root or an operation not in `doc`.
pub fn change_origin(doc: &Automerge, op: &ObjId) -> Option<ChangeOrigin> {
    let change = doc.hash_for_opid(op)?;
    let found = doc.get_change_meta_by_hash(&change)?;
    Some(ChangeOrigin {
        change,
        author: found.message.as_deref().and_then(ChangeAuthor::parse),
        device_time_s: found.timestamp,
    })
}

/// The latest change to one section of a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionProvenance {
    /// The root key of the section, as in
    /// [`VisitSection::field`](super::VisitSection::field).
    pub field: &'static str,
    /// The change.
    pub change: ChangeHash,
    /// The automerge actor (one device or server session) that made it.
    pub actor: ActorId,
    /// When it was made, by that device's clock: seconds since the epoch.
    pub device_time_s: i64,
}

/// For each section of the visit that any change touched, the latest such
/// change in causal order, in the sections' reading order. Of two concurrent
/// changes to a section, the one automerge orders later is named.
///
/// Sections no change touched are left out. Cost is one pass over every
/// operation in the document's history.
pub fn section_provenance(doc: &Automerge) -> Vec<SectionProvenance> {
    let sections: HashMap<&'static str, usize> = Section::ALL
        .iter()
        .enumerate()
        .map(|(index, section)| (section.key(), index))
        .collect();
    // Which section each object belongs to, by the id of the op that made it.
    let mut owners: HashMap<OpId, usize> = HashMap::new();
    let mut latest: Vec<Option<SectionProvenance>> = vec![None; Section::ALL.len()];
    for change in doc.get_changes(&[]) {
        // `decode` panics only on an unknown action or actor index, which
        // automerge refuses when a change is loaded or received; changes it
        // hands out from a document are always well formed.
        let expanded = change.decode();
        let hash = change.hash();
        let mut touched: Vec<usize> = Vec::new();
        for (offset, op) in expanded.operations.iter().enumerate() {
            let section = match (&op.obj, &op.key) {
                (ObjectId::Root, Key::Map(key)) => sections.get(key.as_str()).copied(),
                (ObjectId::Root, Key::Seq(_)) => None,
                (ObjectId::Id(parent), _) => owners.get(parent).copied(),
            };
            let Some(section) = section else {
                continue;
            };
            if matches!(op.action, OpType::Make(_)) {
                let counter = change.start_op().get().saturating_add(offset as u64);
                owners.insert(OpId(counter, expanded.actor_id.clone()), section);
            }
            if !touched.contains(&section) {
                touched.push(section);
            }
        }
        for section in touched {
            latest[section] = Some(SectionProvenance {
                field: Section::ALL[section].key(),
                change: hash,
                actor: expanded.actor_id.clone(),
                device_time_s: expanded.time,
            });
        }
    }
    latest.into_iter().flatten().collect()
}

/// Which batch brought each change, given the document's heads after each batch of
/// changes a server received, oldest first: a change belongs to the first batch whose
/// heads have it as an ancestor (or are it). The server records one row per batch (time,
/// sender, heads) instead of one per change. Changes no batch reaches (received before
/// batches were recorded) are left out; heads the document does not hold are ignored.
pub fn batch_of_each_change(
    doc: &Automerge,
    batch_heads: &[Vec<ChangeHash>],
) -> HashMap<ChangeHash, usize> {
    let deps: HashMap<ChangeHash, Vec<ChangeHash>> = doc
        .get_changes_meta(&[])
        .into_iter()
        .map(|meta| (meta.hash, meta.deps))
        .collect();
    let mut batch_of = HashMap::with_capacity(deps.len());
    for (batch, heads) in batch_heads.iter().enumerate() {
        let mut stack = heads.clone();
        while let Some(hash) = stack.pop() {
            // A change already placed has all its ancestors placed too (at that batch or
            // earlier), so the walk stops there.
            if batch_of.contains_key(&hash) {
                continue;
            }
            let Some(parents) = deps.get(&hash) else {
                continue;
            };
            batch_of.insert(hash, batch);
            stack.extend(parents.iter().copied());
        }
    }
    batch_of
}
