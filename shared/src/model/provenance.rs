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
//! [`change_summaries`] lists changes newer than some heads, for the server
//! to record when each one reached it.

use std::collections::HashMap;

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{ActorId, Automerge, ChangeHash};

use super::visit_sections::Section;

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

/// Every change the document holds that is not among `since` or their
/// ancestors, in causal order, as (hash, actor, device time in seconds).
/// Hashes in `since` that the document does not hold are ignored.
pub fn change_summaries(doc: &Automerge, since: &[ChangeHash]) -> Vec<(ChangeHash, ActorId, i64)> {
    let known: Vec<ChangeHash> = since
        .iter()
        .copied()
        .filter(|head| doc.get_change_meta_by_hash(head).is_some())
        .collect();
    doc.get_changes_meta(&known)
        .into_iter()
        .map(|meta| (meta.hash, meta.actor.into_owned(), meta.timestamp))
        .collect()
}
