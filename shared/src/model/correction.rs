//! Correcting a misfiled visit (domain D4, issue 13 part 4).
//!
//! A manager **moves** a visit recorded against the wrong child ([`move_visit`]: `childId`
//! changes, the history stays), or **expunges** passages that must not remain, such as
//! another family's details ([`expunged_copy`]): automerge keeps every version, so the
//! only way to remove text from history is a new document (a new lineage) built from
//! the current state without it. Both append an entry to the server-only root list
//! `corrections` (`entryId`, `kind`: `moved` | `expunged`, `at`, `byId`, `byName`,
//! `reason`, and `fromChild`/`toChild` or `replaces`), which later readers see
//! ([`corrections`]).
//!
//! A device that was offline holding unsent edits to the old lineage calls
//! [`carry_over`]: its own changes are those the server did not hold (`server_had`); it
//! replays their effect, field by field, onto the new document (a three-way merge of the
//! state the server held, the device's state and the new document's). Texts merge by a
//! three-way character merge, so every character the correction removed stays removed
//! while the worker's own typing survives; list entries are matched by their ids; a
//! value the worker and the new document changed differently is set aside
//! ([`SetAside`]) for the worker to re-check, never chosen silently, and what it shows of
//! the worker's value never includes a character the new document removed. Since a new
//! lineage holds only the state it was built from, the heads that sign-offs and
//! amendments pin are rewritten to its first version.

use std::collections::HashSet;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue, Value};

use super::ModelError;
use super::integrity::VISIT_PLACING_KEYS;
use super::visit::VISIT_DOCUMENT_TYPE;
use crate::sync::Timestamp;

/// The root key of the corrections list (written by the server only).
pub const CORRECTIONS_KEY: &str = "corrections";

/// Who corrected a record, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionNote {
    /// Server time of the correction (stored as milliseconds in `at`).
    pub at: Timestamp,
    /// The manager's username.
    pub by_id: String,
    /// The manager's name, as the record shows it.
    pub by_name: String,
    /// Why the record was corrected; required.
    pub reason: String,
}

/// What a correction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrectionKind {
    /// Filed under another child.
    Moved {
        /// The child it was recorded against.
        from_child: String,
        /// The child it belongs to.
        to_child: String,
    },
    /// Rebuilt without expunged passages, replacing the document `replaces`.
    Expunged {
        /// The old document's id.
        replaces: String,
    },
}

/// One entry of a visit's `corrections`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// What was done.
    pub kind: CorrectionKind,
    /// By whom, when, why.
    pub note: CorrectionNote,
}

/// The document's corrections, oldest first (in list order, which is the order the
/// server appended them); entries it cannot read are skipped, and it never panics.
pub fn corrections(doc: &impl ReadDoc) -> Vec<Correction> {
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(ROOT, CORRECTIONS_KEY) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for index in 0..doc.length(&list) {
        let Ok(Some((Value::Object(ObjType::Map), entry))) = doc.get(&list, index) else {
            continue;
        };
        let text = |key: &str| string_at(doc, &entry, key).unwrap_or_default();
        let kind = match text("kind").as_str() {
            "moved" => CorrectionKind::Moved {
                from_child: text("fromChild"),
                to_child: text("toChild"),
            },
            "expunged" => CorrectionKind::Expunged {
                replaces: text("replaces"),
            },
            _ => continue,
        };
        found.push(Correction {
            kind,
            note: CorrectionNote {
                at: Timestamp::from_millis(millis_at(doc, &entry, "at")),
                by_id: text("byId"),
                by_name: text("byName"),
                reason: text("reason"),
            },
        });
    }
    found
}

/// Files the visit under `to_child` and notes the move (from the `childId` it had) in
/// `corrections`. The caller commits `tx`.
///
/// # Errors
/// [`ModelError::WrongDocumentType`] if the document is not a visit,
/// [`ModelError::EmptyCorrectionReason`], [`ModelError::AlreadyFiledUnder`] if it is
/// already filed under `to_child`, or automerge's error.
pub fn move_visit(
    tx: &mut impl Transactable,
    to_child: &str,
    note: &CorrectionNote,
) -> Result<(), ModelError> {
    ensure_visit(tx)?;
    let from_child = string_at(tx, &ROOT, "childId").unwrap_or_default();
    if from_child == to_child {
        return Err(ModelError::AlreadyFiledUnder {
            child_id: to_child.to_owned(),
        });
    }
    append_correction(
        tx,
        &CorrectionKind::Moved {
            from_child,
            to_child: to_child.to_owned(),
        },
        note,
    )?;
    tx.put(ROOT, "childId", to_child)?;
    Ok(())
}

/// A visit rebuilt without expunged passages.
#[derive(Debug)]
pub struct Expunged {
    /// The new document (a new lineage: new actor, new history).
    pub document: Automerge,
    /// How many occurrences were removed, over every string and text.
    pub removed: usize,
}

/// The visit as it stands, without `passages`, as a new document (see the module doc).
///
/// The first change holds a deep copy of the current state (the winning value wherever a
/// key holds a conflict; texts stay texts, scalars keep their types) with every
/// occurrence of every passage removed from every string and text, again until none is
/// left, since a removal can join the ends of a new occurrence. The second rewrites each
/// `oversight[i].heads` and `amendments[i].heads` to the heads of the first (the old
/// history does not exist in the new one) and appends the `expunged` entry to
/// `corrections`. Both are committed with `message` at `note.at` (in seconds).
///
/// # Errors
/// [`ModelError::WrongDocumentType`] if `doc` is not a visit, [`ModelError::EmptyPassage`]
/// if no passage is named or one is blank, [`ModelError::PassageNotFound`] for a passage
/// the current state does not hold, [`ModelError::EmptyCorrectionReason`], or automerge's
/// error.
pub fn expunged_copy(
    doc: &Automerge,
    passages: &[String],
    replaces: &str,
    note: &CorrectionNote,
    message: &str,
) -> Result<Expunged, ModelError> {
    ensure_visit(doc)?;
    if passages.is_empty() || passages.iter().any(|passage| passage.trim().is_empty()) {
        return Err(ModelError::EmptyPassage);
    }
    if note.reason.trim().is_empty() {
        return Err(ModelError::EmptyCorrectionReason);
    }
    let mut state = Node::root(doc);
    for passage in passages {
        let mut found = false;
        state.each_string_mut(&mut |text| found |= text.contains(passage.as_str()));
        if !found {
            return Err(ModelError::PassageNotFound(passage.clone()));
        }
    }
    let mut removed = 0;
    state.each_string_mut(&mut |text| removed += remove_passages(text, passages));
    let seconds = i64::try_from(note.at.as_millis() / 1000).unwrap_or(i64::MAX);
    let options = || {
        CommitOptions::default()
            .with_message(message)
            .with_time(seconds)
    };
    let mut new = Automerge::new();
    let mut tx = new.transaction();
    if let Node::Map(entries) = &state {
        for (key, value) in entries {
            write(&mut tx, &ROOT, Prop::Map(key.clone()), value, false)?;
        }
    }
    tx.commit_with(options());
    let first = hex_heads(&new);
    let mut tx = new.transaction();
    for list_key in ["oversight", "amendments"] {
        let Some((Value::Object(ObjType::List), list)) = tx.get(ROOT, list_key)? else {
            continue;
        };
        for index in 0..tx.length(&list) {
            let Some((Value::Object(ObjType::Map), entry)) = tx.get(&list, index)? else {
                continue;
            };
            if tx.get(&entry, "heads")?.is_some() {
                put_hex_heads(&mut tx, &entry, &first)?;
            }
        }
    }
    append_correction(
        &mut tx,
        &CorrectionKind::Expunged {
            replaces: replaces.to_owned(),
        },
        note,
    )?;
    tx.commit_with(options());
    Ok(Expunged {
        document: new,
        removed,
    })
}

/// What [`carry_over`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarryOver {
    /// Values and list entries written onto the new document.
    pub carried: usize,
    /// What could not be merged safely, for the worker to re-check.
    pub set_aside: Vec<SetAside>,
}

/// An offline edit that was not carried over: the worker and the new document changed
/// the same value differently (or one removed what the other changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// Where, e.g. `visitKind`, `observations` or `actions[actionId=a-1].dueDate`.
    pub path: String,
    /// The worker's value as plain text, without any character the new document removed
    /// from what both started from (so never an expunged passage), or `(removed)`.
    pub yours: String,
    /// The new document's value as plain text, or `(removed)`.
    pub theirs: String,
}

/// Carries the edits `old_local` holds beyond `server_had` onto `new` (see the module
/// doc), in one change made with `commit`, only if something is written.
///
/// `server_had` is every change hash of the old lineage the server held when it rebuilt
/// it. The base of the merge is `old_local` at the heads of its changes the server held
/// (an empty document if none). Placing keys, `oversight` and `corrections` are never
/// carried; of `amendments` only the entries added on the device are, pinned to `new`'s
/// heads as they were before this change (the old heads do not exist there).
///
/// # Errors
/// Automerge's error (nothing is committed then).
pub fn carry_over(
    old_local: &Automerge,
    server_had: &HashSet<ChangeHash>,
    new: &mut Automerge,
    commit: CommitOptions,
) -> Result<CarryOver, ModelError> {
    let changes = old_local.get_changes(&[]);
    if changes
        .iter()
        .all(|change| server_had.contains(&change.hash()))
    {
        return Ok(CarryOver::default());
    }
    let held: Vec<_> = changes
        .iter()
        .filter(|change| server_had.contains(&change.hash()))
        .collect();
    let depended: HashSet<ChangeHash> = held
        .iter()
        .flat_map(|change| change.deps().iter().copied())
        .collect();
    let base_heads: Vec<ChangeHash> = held
        .iter()
        .map(|change| change.hash())
        .filter(|hash| !depended.contains(hash))
        .collect();
    let base = if base_heads.is_empty() {
        Node::Map(Vec::new())
    } else {
        Node::root(&old_local.fork_at(&base_heads)?)
    };
    let local = Node::root(old_local);
    let mut walk = Walk {
        outcome: CarryOver::default(),
        new_heads: hex_heads(new),
    };
    let mut tx = new.transaction();
    if let Err(err) = walk.root(&mut tx, &base, &local) {
        tx.rollback();
        return Err(err);
    }
    if walk.outcome.carried > 0 {
        tx.commit_with(commit);
    } else {
        tx.rollback();
    }
    Ok(walk.outcome)
}

/// What a [`SetAside`] shows for a value the other side removed.
const REMOVED: &str = "(removed)";

/// What a [`SetAside`] shows for a text too different on both sides to compare in bounds.
const TOO_DIFFERENT: &str =
    "(changed too much on this device and in the corrected record to compare; re-type it)";

/// The ids that name list entries in a visit (see the layout in [`super::visit`]).
const ENTRY_ID_KEYS: [&str; 3] = ["entryId", "actionId", "personId"];

/// The root keys [`carry_over`] never writes: who the record is about, the manager's
/// decisions and corrections (the server's alone).
fn never_carried(key: &str) -> bool {
    key == CORRECTIONS_KEY || key == "oversight" || VISIT_PLACING_KEYS.contains(&key)
}

/// A string at `key` of `obj`, written as a scalar or as a text object.
fn string_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(value), _) => match value.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

/// Milliseconds at `key` of `obj`, however a number was written; 0 if unreadable.
fn millis_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> u64 {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(value), _))) => match value.as_ref() {
            ScalarValue::Int(ms) | ScalarValue::Timestamp(ms) => u64::try_from(*ms).unwrap_or(0),
            ScalarValue::Uint(ms) => *ms,
            // Saturating: a float out of range reads as 0 or the largest time.
            ScalarValue::F64(ms) if *ms >= 0.0 => *ms as u64,
            _ => 0,
        },
        _ => 0,
    }
}

fn ensure_visit(doc: &impl ReadDoc) -> Result<(), ModelError> {
    match string_at(doc, &ROOT, "type") {
        Some(found) if found == VISIT_DOCUMENT_TYPE => Ok(()),
        found => Err(ModelError::WrongDocumentType {
            expected: VISIT_DOCUMENT_TYPE,
            found,
        }),
    }
}

/// Appends one entry to `corrections`, creating the list if the visit has none.
fn append_correction(
    tx: &mut impl Transactable,
    kind: &CorrectionKind,
    note: &CorrectionNote,
) -> Result<(), ModelError> {
    if note.reason.trim().is_empty() {
        return Err(ModelError::EmptyCorrectionReason);
    }
    let list = match tx.get(ROOT, CORRECTIONS_KEY)? {
        Some((Value::Object(ObjType::List), list)) => list,
        _ => tx.put_object(ROOT, CORRECTIONS_KEY, ObjType::List)?,
    };
    let index = tx.length(&list);
    let entry = tx.insert_object(&list, index, ObjType::Map)?;
    let at = i64::try_from(note.at.as_millis()).unwrap_or(i64::MAX);
    tx.put(&entry, "entryId", format!("correction-{at}-{index}"))?;
    tx.put(&entry, "at", ScalarValue::Int(at))?;
    tx.put(&entry, "byId", note.by_id.as_str())?;
    tx.put(&entry, "byName", note.by_name.as_str())?;
    tx.put(&entry, "reason", note.reason.trim())?;
    match kind {
        CorrectionKind::Moved {
            from_child,
            to_child,
        } => {
            tx.put(&entry, "kind", "moved")?;
            tx.put(&entry, "fromChild", from_child.as_str())?;
            tx.put(&entry, "toChild", to_child.as_str())?;
        }
        CorrectionKind::Expunged { replaces } => {
            tx.put(&entry, "kind", "expunged")?;
            tx.put(&entry, "replaces", replaces.as_str())?;
        }
    }
    Ok(())
}

fn hex_heads(doc: &Automerge) -> Vec<String> {
    doc.get_heads().iter().map(ToString::to_string).collect()
}

/// Replaces the `heads` of `entry` with `heads` (hex change hashes).
fn put_hex_heads(
    tx: &mut impl Transactable,
    entry: &ObjId,
    heads: &[String],
) -> Result<(), ModelError> {
    let list = tx.put_object(entry, "heads", ObjType::List)?;
    for (index, head) in heads.iter().enumerate() {
        tx.insert(&list, index, head.as_str())?;
    }
    Ok(())
}

/// Removes every occurrence of every passage (again, until none is left: a removal can
/// join the ends of a new one). Returns how many were removed.
fn remove_passages(text: &mut String, passages: &[String]) -> usize {
    let mut removed = 0;
    loop {
        let before = removed;
        for passage in passages {
            while let Some(at) = text.find(passage.as_str()) {
                text.replace_range(at..at + passage.len(), "");
                removed += 1;
            }
        }
        if removed == before {
            return removed;
        }
    }
}

/// A document's value, read out of it (the winning value wherever a key holds a
/// conflict).
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
    Text(String),
    Scalar(ScalarValue),
}

impl Node {
    fn read(doc: &impl ReadDoc, value: Value<'_>, id: &ObjId) -> Node {
        match value {
            Value::Scalar(scalar) => Node::Scalar(scalar.into_owned()),
            Value::Object(ObjType::Text) => Node::Text(doc.text(id).unwrap_or_default()),
            Value::Object(ObjType::List) => Node::List(
                (0..doc.length(id))
                    .filter_map(|index| doc.get(id, index).ok().flatten())
                    .map(|(value, child)| Node::read(doc, value, &child))
                    .collect(),
            ),
            Value::Object(ObjType::Map | ObjType::Table) => Node::Map(
                doc.keys(id)
                    .filter_map(|key| {
                        let (value, child) = doc.get(id, key.as_str()).ok()??;
                        Some((key, Node::read(doc, value, &child)))
                    })
                    .collect(),
            ),
        }
    }

    fn root(doc: &impl ReadDoc) -> Node {
        Node::read(doc, Value::Object(ObjType::Map), &ROOT)
    }

    fn at(doc: &impl ReadDoc, obj: &ObjId, prop: &Prop) -> Option<(Node, ObjId)> {
        let (value, id) = doc.get(obj, prop.clone()).ok()??;
        Some((Node::read(doc, value, &id), id))
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }

    fn items(&self) -> &[Node] {
        match self {
            Node::List(items) => items,
            _ => &[],
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Text(text) => Some(text),
            Node::Scalar(ScalarValue::Str(text)) => Some(text),
            _ => None,
        }
    }

    /// The id key and id that name a list entry (a visit's lists of maps each carry one).
    fn entry_id(&self) -> Option<(&'static str, &str)> {
        ENTRY_ID_KEYS
            .iter()
            .find_map(|key| Some((*key, self.get(key)?.as_str()?)))
    }

    fn each_string_mut(&mut self, f: &mut impl FnMut(&mut String)) {
        match self {
            Node::Map(entries) => entries.iter_mut().for_each(|(_, v)| v.each_string_mut(f)),
            Node::List(items) => items.iter_mut().for_each(|v| v.each_string_mut(f)),
            Node::Text(text) => f(text),
            Node::Scalar(ScalarValue::Str(text)) => {
                let mut owned = text.to_string();
                f(&mut owned);
                *text = owned.into();
            }
            Node::Scalar(_) => {}
        }
    }

    /// The value as plain text: strings as they read, other values as JSON-ish text.
    fn render(&self) -> String {
        match self {
            Node::Text(text) => text.clone(),
            Node::Scalar(ScalarValue::Str(text)) => text.to_string(),
            other => other.json(),
        }
    }

    fn json(&self) -> String {
        match self {
            Node::Text(text) => format!("{text:?}"),
            Node::Scalar(ScalarValue::Str(text)) => format!("{:?}", text.as_str()),
            Node::Scalar(ScalarValue::Null) => "null".into(),
            Node::Scalar(other) => other.to_string(),
            Node::List(items) => {
                let items: Vec<String> = items.iter().map(Node::json).collect();
                format!("[{}]", items.join(", "))
            }
            Node::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| format!("{key:?}: {}", value.json()))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }
}

/// Writes `node`, deep, at `prop` of `obj` (`insert` for a new list position).
fn write(
    tx: &mut impl Transactable,
    obj: &ObjId,
    prop: Prop,
    node: &Node,
    insert: bool,
) -> Result<(), ModelError> {
    let object = |tx: &mut _, kind: ObjType| -> Result<ObjId, ModelError> {
        Ok(match (&prop, insert) {
            (Prop::Seq(index), true) => Transactable::insert_object(tx, obj, *index, kind)?,
            _ => Transactable::put_object(tx, obj, prop.clone(), kind)?,
        })
    };
    match node {
        Node::Scalar(value) => match (&prop, insert) {
            (Prop::Seq(index), true) => tx.insert(obj, *index, value.clone())?,
            _ => tx.put(obj, prop.clone(), value.clone())?,
        },
        Node::Text(text) => {
            let id = object(tx, ObjType::Text)?;
            tx.splice_text(&id, 0, 0, text)?;
        }
        Node::List(items) => {
            let id = object(tx, ObjType::List)?;
            for (index, item) in items.iter().enumerate() {
                write(tx, &id, Prop::Seq(index), item, true)?;
            }
        }
        Node::Map(entries) => {
            let id = object(tx, ObjType::Map)?;
            for (key, value) in entries {
                write(tx, &id, Prop::Map(key.clone()), value, false)?;
            }
        }
    }
    Ok(())
}

/// One [`carry_over`]: base and local are read out in full; the new document ("theirs")
/// is read through the transaction as the walk writes to it.
struct Walk {
    outcome: CarryOver,
    /// `new`'s heads before the carry-over: the version amendments carried over amend.
    new_heads: Vec<String>,
}

impl Walk {
    fn root(
        &mut self,
        tx: &mut impl Transactable,
        base: &Node,
        local: &Node,
    ) -> Result<(), ModelError> {
        for key in keys_of(base.entries(), local.entries()) {
            if never_carried(&key) {
                continue;
            }
            if key == "amendments" {
                self.amendments(tx, base.get(&key), local.get(&key))?;
                continue;
            }
            let prop = Prop::Map(key.clone());
            self.value(tx, &ROOT, prop, base.get(&key), local.get(&key), &key)?;
        }
        Ok(())
    }

    /// Appends the amendments the device added (their entries never change once stored).
    fn amendments(
        &mut self,
        tx: &mut impl Transactable,
        base: Option<&Node>,
        local: Option<&Node>,
    ) -> Result<(), ModelError> {
        let base = base.map(Node::items).unwrap_or_default();
        let added: Vec<&Node> = local
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter(|entry| !base.contains(entry))
            .collect();
        if added.is_empty() {
            return Ok(());
        }
        let list = match tx.get(ROOT, "amendments")? {
            Some((Value::Object(ObjType::List), list)) => list,
            _ => tx.put_object(ROOT, "amendments", ObjType::List)?,
        };
        for entry in added {
            if let Some((key, id)) = entry.entry_id()
                && live_index(tx, &list, key, id).is_some()
            {
                continue;
            }
            let index = tx.length(&list);
            write(tx, &list, Prop::Seq(index), entry, true)?;
            if let Some((Value::Object(ObjType::Map), written)) = tx.get(&list, index)?
                && entry.get("heads").is_some()
            {
                put_hex_heads(tx, &written, &self.new_heads)?;
            }
            self.outcome.carried += 1;
        }
        Ok(())
    }

    /// Merges one value, at `prop` of `obj` in the new document.
    fn value(
        &mut self,
        tx: &mut impl Transactable,
        obj: &ObjId,
        prop: Prop,
        base: Option<&Node>,
        local: Option<&Node>,
        path: &str,
    ) -> Result<(), ModelError> {
        if base == local {
            return Ok(());
        }
        let theirs = Node::at(tx, obj, &prop);
        let (local, (theirs, id)) = match (local, theirs) {
            (None, None) => return Ok(()),
            (None, Some((theirs, _))) => {
                // Removed on the device: removed here too if nobody else changed it.
                if Some(&theirs) == base {
                    tx.delete(obj, prop)?;
                    self.outcome.carried += 1;
                } else {
                    self.set_aside(path, REMOVED.into(), theirs.render());
                }
                return Ok(());
            }
            (Some(local), None) => {
                if base.is_none() {
                    write(tx, obj, prop, local, false)?;
                    self.outcome.carried += 1;
                } else {
                    let yours = yours(base, local, None);
                    self.set_aside(path, yours, REMOVED.into());
                }
                return Ok(());
            }
            (Some(local), Some(theirs)) => (local, theirs),
        };
        if theirs == *local {
            // The new document already says what the device says.
            return Ok(());
        }
        match (local, &theirs) {
            (Node::Map(local_entries), Node::Map(_)) => {
                let base_entries = base.map(Node::entries).unwrap_or_default();
                for key in keys_of(base_entries, local_entries) {
                    self.value(
                        tx,
                        &id,
                        Prop::Map(key.clone()),
                        base.and_then(|b| b.get(&key)),
                        local.get(&key),
                        &format!("{path}.{key}"),
                    )?;
                }
            }
            (Node::List(local_items), Node::List(their_items)) => {
                let base_items = base.map(Node::items).unwrap_or_default();
                self.list(tx, &id, (base_items, local_items, their_items), path)?;
            }
            _ => match (local.as_str(), theirs.as_str()) {
                (Some(mine), Some(current)) => {
                    let base_text = base.and_then(Node::as_str).unwrap_or("");
                    let is_text = matches!(theirs, Node::Text(_));
                    self.string(
                        tx,
                        (obj, prop, &id, is_text),
                        (base_text, mine, current),
                        path,
                    )?;
                }
                _ => {
                    if Some(&theirs) == base {
                        write(tx, obj, prop, local, false)?;
                        self.outcome.carried += 1;
                    } else if theirs != *local {
                        let yours = yours(base, local, Some(&theirs));
                        self.set_aside(path, yours, theirs.render());
                    }
                }
            },
        }
        Ok(())
    }

    /// Merges a string or text by character. A text always merges (it is narrative that
    /// two people type into); a single string (a code, a date) merges only where the two
    /// sides changed different parts of it, and is otherwise set aside.
    fn string(
        &mut self,
        tx: &mut impl Transactable,
        (obj, prop, id, is_text): (&ObjId, Prop, &ObjId, bool),
        (base, local, theirs): (&str, &str, &str),
        path: &str,
    ) -> Result<(), ModelError> {
        let merged = match merge_text(base, local, theirs) {
            Some(merge) if is_text || !merge.overlapping => merge.merged,
            Some(_) => {
                // A single string both sides changed (a code, a date) is shown whole.
                let yours = local.to_owned();
                self.set_aside(path, yours, theirs.to_owned());
                return Ok(());
            }
            None => {
                self.set_aside(path, TOO_DIFFERENT.into(), theirs.to_owned());
                return Ok(());
            }
        };
        if merged != theirs {
            if is_text {
                tx.update_text(id, &merged)?;
            } else {
                tx.put(obj, prop, merged)?;
            }
            self.outcome.carried += 1;
        }
        Ok(())
    }

    /// Lists: entries of maps matched by their id, scalars as a set; any other list the
    /// device changed is set aside whole.
    fn list(
        &mut self,
        tx: &mut impl Transactable,
        list: &ObjId,
        (base, local, theirs): (&[Node], &[Node], &[Node]),
        path: &str,
    ) -> Result<(), ModelError> {
        let all = || base.iter().chain(local).chain(theirs);
        if all().all(|node| node.entry_id().is_some()) {
            self.list_by_id(tx, list, base, local, path)
        } else if all().all(|node| matches!(node, Node::Scalar(_))) {
            self.list_as_set(tx, list, base, local)
        } else {
            let base = Node::List(base.to_vec());
            let theirs = Node::List(theirs.to_vec());
            let yours = yours(Some(&base), &Node::List(local.to_vec()), Some(&theirs));
            self.set_aside(path, yours, theirs.render());
            Ok(())
        }
    }

    fn list_by_id(
        &mut self,
        tx: &mut impl Transactable,
        list: &ObjId,
        base: &[Node],
        local: &[Node],
        path: &str,
    ) -> Result<(), ModelError> {
        let find = |nodes: &[Node], key: &str, id: &str| -> Option<Node> {
            nodes
                .iter()
                .find(|node| node.entry_id() == Some((key, id)))
                .cloned()
        };
        for node in base {
            let Some((key, id)) = node.entry_id() else {
                continue;
            };
            if find(local, key, id).is_some() {
                continue;
            }
            // Removed on the device: removed here too unless changed meanwhile.
            let Some(live) = live_index(tx, list, key, id) else {
                continue;
            };
            let entry_path = format!("{path}[{key}={id}]");
            match Node::at(tx, list, &Prop::Seq(live)) {
                Some((theirs, _)) if theirs != *node => {
                    self.set_aside(&entry_path, REMOVED.into(), theirs.render());
                }
                _ => {
                    tx.delete(list, live)?;
                    self.outcome.carried += 1;
                }
            }
        }
        for node in local {
            let Some((key, id)) = node.entry_id() else {
                continue;
            };
            let base_node = find(base, key, id);
            let entry_path = format!("{path}[{key}={id}]");
            match (live_index(tx, list, key, id), &base_node) {
                (None, None) => {
                    // Added on the device: the worker's own typing, copied whole.
                    write(tx, list, Prop::Seq(tx.length(list)), node, true)?;
                    self.outcome.carried += 1;
                }
                (Some(live), _) => {
                    let prop = Prop::Seq(live);
                    self.value(tx, list, prop, base_node.as_ref(), Some(node), &entry_path)?;
                }
                (None, Some(base_node)) => {
                    // Removed in the new document; the device's changes to it are kept aside.
                    if base_node != node {
                        let yours = yours(Some(base_node), node, None);
                        self.set_aside(&entry_path, yours, REMOVED.into());
                    }
                }
            }
        }
        Ok(())
    }

    fn list_as_set(
        &mut self,
        tx: &mut impl Transactable,
        list: &ObjId,
        base: &[Node],
        local: &[Node],
    ) -> Result<(), ModelError> {
        fn live(tx: &impl ReadDoc, list: &ObjId, value: &Node) -> Option<usize> {
            (0..tx.length(list)).find(|&index| {
                Node::at(tx, list, &Prop::Seq(index)).is_some_and(|(found, _)| found == *value)
            })
        }
        for value in base.iter().filter(|value| !local.contains(value)) {
            if let Some(index) = live(&*tx, list, value) {
                tx.delete(list, index)?;
                self.outcome.carried += 1;
            }
        }
        for value in local.iter().filter(|value| !base.contains(value)) {
            if live(&*tx, list, value).is_none() {
                write(tx, list, Prop::Seq(tx.length(list)), value, true)?;
                self.outcome.carried += 1;
            }
        }
        Ok(())
    }

    fn set_aside(&mut self, path: &str, yours: String, theirs: String) {
        self.outcome.set_aside.push(SetAside {
            path: path.to_owned(),
            yours,
            theirs,
        });
    }
}

/// The keys of `base`, then those only `local` has.
fn keys_of(base: &[(String, Node)], local: &[(String, Node)]) -> Vec<String> {
    let mut keys: Vec<String> = base.iter().map(|(k, _)| k.clone()).collect();
    for (key, _) in local {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    keys
}

/// Where the entry whose `key` is `id` now stands in `list`.
fn live_index(doc: &impl ReadDoc, list: &ObjId, key: &str, id: &str) -> Option<usize> {
    (0..doc.length(list)).find(|&index| match doc.get(list, index) {
        Ok(Some((Value::Object(ObjType::Map), entry))) => {
            string_at(doc, &entry, key).as_deref() == Some(id)
        }
        _ => false,
    })
}

/// The worker's value for a [`SetAside`]: strings and lists without the characters the
/// new document removed (`theirs: None`: it removed the whole value), numbers and
/// booleans as they are.
fn yours(base: Option<&Node>, local: &Node, theirs: Option<&Node>) -> String {
    let (base, local, theirs) = match local {
        // A single string is a code, a date or an id: shown whole (a passage is text).
        Node::Scalar(_) => return local.render(),
        Node::Text(_) => (
            base.and_then(Node::as_str).unwrap_or("").to_owned(),
            local.render(),
            theirs.and_then(Node::as_str).unwrap_or("").to_owned(),
        ),
        Node::Map(_) | Node::List(_) => (
            base.map(Node::json).unwrap_or_default(),
            local.json(),
            theirs.map(Node::json).unwrap_or_default(),
        ),
    };
    scrubbed(&base, &local, &theirs).unwrap_or_else(|| TOO_DIFFERENT.into())
}

/// `local` without the characters it kept from `base` that `theirs` removed; `None` if
/// the texts are too different to align within bounds.
fn scrubbed(base: &str, local: &str, theirs: &str) -> Option<String> {
    let base: Vec<char> = base.chars().collect();
    let local: Vec<char> = local.chars().collect();
    let theirs: Vec<char> = theirs.chars().collect();
    let mut their_kept = vec![false; base.len()];
    for (i, _) in common_subsequence(&base, &theirs)? {
        their_kept[i] = true;
    }
    let mut removed = vec![false; local.len()];
    for (i, j) in common_subsequence(&base, &local)? {
        removed[j] = !their_kept[i];
    }
    Some(
        local
            .iter()
            .zip(removed)
            .filter(|(_, removed)| !removed)
            .map(|(c, _)| *c)
            .collect(),
    )
}

/// A three-way merge of two texts with the text they both started from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextMerge {
    /// The merged text.
    pub(crate) merged: String,
    /// Whether both sides changed the same or neighbouring characters (a conflict, in
    /// diff3's terms; the merge then holds both sides' insertions and neither's removals).
    pub(crate) overlapping: bool,
}

/// How one side changed the base: which base characters it kept, and what it inserted in
/// each gap (gap `i` is before base character `i`; the last is after the end).
struct SideEdits {
    kept: Vec<bool>,
    inserted: Vec<Vec<char>>,
}

impl SideEdits {
    fn of(base: &[char], side: &[char]) -> Option<SideEdits> {
        let mut kept = vec![false; base.len()];
        let mut inserted: Vec<Vec<char>> = vec![Vec::new(); base.len() + 1];
        let mut next = 0;
        for (i, j) in common_subsequence(base, side)? {
            inserted[i].extend_from_slice(&side[next..j]);
            kept[i] = true;
            next = j + 1;
        }
        inserted[base.len()].extend_from_slice(&side[next..]);
        Some(SideEdits { kept, inserted })
    }

    /// The slots (gap `i` is `2i`, base character `i` is `2i + 1`) this side changed: gaps
    /// it inserted into, and characters it removed with the gaps either side of them.
    fn touched(&self) -> Vec<bool> {
        let mut touched = vec![false; 2 * self.kept.len() + 1];
        for (gap, inserted) in self.inserted.iter().enumerate() {
            touched[2 * gap] |= !inserted.is_empty();
        }
        for (i, kept) in self.kept.iter().enumerate() {
            if !kept {
                touched[2 * i..=2 * i + 2].fill(true);
            }
        }
        touched
    }
}

/// A three-way merge of texts by character (diff3): a base character stays only if
/// neither side removed it, and every insertion of either side stays (the new document's
/// first where both inserted at the same place; once, where both inserted the same).
/// `None` if a side is too different from the base to align within bounds.
pub(crate) fn merge_text(base: &str, local: &str, theirs: &str) -> Option<TextMerge> {
    let base: Vec<char> = base.chars().collect();
    let local: Vec<char> = local.chars().collect();
    let theirs: Vec<char> = theirs.chars().collect();
    let mine = SideEdits::of(&base, &local)?;
    let other = SideEdits::of(&base, &theirs)?;
    let mut merged = String::with_capacity(theirs.len() + local.len());
    for i in 0..=base.len() {
        merged.extend(other.inserted[i].iter());
        if mine.inserted[i] != other.inserted[i] {
            merged.extend(mine.inserted[i].iter());
        }
        if i < base.len() && mine.kept[i] && other.kept[i] {
            merged.push(base[i]);
        }
    }
    let overlapping = mine
        .touched()
        .iter()
        .zip(other.touched())
        .any(|(mine, other)| *mine && other);
    Some(TextMerge {
        merged,
        overlapping,
    })
}

/// How many steps of Myers' search one alignment may take (about `D²` for `D` edits):
/// enough for thousands of edits in a text of tens of kilobytes, and bounded.
const ALIGNMENT_BUDGET: usize = 40_000_000;

/// The pairs `(i, j)` of a longest common subsequence of `a` and `b`, in order (Myers'
/// O(ND) algorithm in linear space, as diff-match-patch's bisection does it), or `None`
/// if finding it would take more than [`ALIGNMENT_BUDGET`] steps.
fn common_subsequence(a: &[char], b: &[char]) -> Option<Vec<(usize, usize)>> {
    let mut pairs = Vec::new();
    let mut budget = ALIGNMENT_BUDGET;
    lcs(a, b, (0, 0), &mut pairs, &mut budget)?;
    Some(pairs)
}

/// Appends the LCS pairs of `a` and `b`, offset by `da` and `db`.
fn lcs(
    a: &[char],
    b: &[char],
    (da, db): (usize, usize),
    out: &mut Vec<(usize, usize)>,
    budget: &mut usize,
) -> Option<()> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    out.extend((0..prefix).map(|k| (da + k, db + k)));
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    let suffix = a_rest
        .iter()
        .rev()
        .zip(b_rest.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let a_mid = &a_rest[..a_rest.len() - suffix];
    let b_mid = &b_rest[..b_rest.len() - suffix];
    let (ma, mb) = (da + prefix, db + prefix);
    if !a_mid.is_empty()
        && !b_mid.is_empty()
        && let Some((x, y)) = bisect(a_mid, b_mid, budget)?
    {
        lcs(&a_mid[..x], &b_mid[..y], (ma, mb), out, budget)?;
        lcs(&a_mid[x..], &b_mid[y..], (ma + x, mb + y), out, budget)?;
    }
    let (sa, sb) = (ma + a_mid.len(), mb + b_mid.len());
    out.extend((0..suffix).map(|k| (sa + k, sb + k)));
    Some(())
}

/// Where an optimal edit path crosses the middle of the edit graph (`Some(None)`: `a` and
/// `b` share no character), or `None` once `budget` is spent. `a` and `b` differ in their
/// first and last characters.
fn bisect(a: &[char], b: &[char], budget: &mut usize) -> Option<Option<(usize, usize)>> {
    let n = a.len() as isize;
    let m = b.len() as isize;
    let max_d = (n + m + 1) / 2;
    let v_offset = max_d;
    let v_length = 2 * max_d + 2;
    let mut v1 = vec![-1isize; v_length as usize];
    let mut v2 = vec![-1isize; v_length as usize];
    v1[(v_offset + 1) as usize] = 0;
    v2[(v_offset + 1) as usize] = 0;
    let delta = n - m;
    let front = delta % 2 != 0;
    let (mut k1_start, mut k1_end, mut k2_start, mut k2_end) = (0, 0, 0, 0);
    let split = |x: isize, y: isize| {
        let (x, y) = (x as usize, y as usize);
        // A split at either corner would not divide the problem.
        ((x, y) != (0, 0) && (x, y) != (a.len(), b.len())).then_some((x, y))
    };
    for d in 0..max_d {
        *budget = budget.checked_sub(2 * d as usize + 2)?;
        let mut k1 = -d + k1_start;
        while k1 <= d - k1_end {
            let k1_offset = (v_offset + k1) as usize;
            let mut x1 = if k1 == -d || (k1 != d && v1[k1_offset - 1] < v1[k1_offset + 1]) {
                v1[k1_offset + 1]
            } else {
                v1[k1_offset - 1] + 1
            };
            let mut y1 = x1 - k1;
            while x1 < n && y1 < m && a[x1 as usize] == b[y1 as usize] {
                x1 += 1;
                y1 += 1;
            }
            v1[k1_offset] = x1;
            if x1 > n {
                k1_end += 2;
            } else if y1 > m {
                k1_start += 2;
            } else if front {
                let k2_offset = v_offset + delta - k1;
                if (0..v_length).contains(&k2_offset) && v2[k2_offset as usize] != -1 {
                    let x2 = n - v2[k2_offset as usize];
                    if x1 >= x2 {
                        return Some(split(x1, y1));
                    }
                }
            }
            k1 += 2;
        }
        let mut k2 = -d + k2_start;
        while k2 <= d - k2_end {
            let k2_offset = (v_offset + k2) as usize;
            let mut x2 = if k2 == -d || (k2 != d && v2[k2_offset - 1] < v2[k2_offset + 1]) {
                v2[k2_offset + 1]
            } else {
                v2[k2_offset - 1] + 1
            };
            let mut y2 = x2 - k2;
            while x2 < n && y2 < m && a[(n - x2 - 1) as usize] == b[(m - y2 - 1) as usize] {
                x2 += 1;
                y2 += 1;
            }
            v2[k2_offset] = x2;
            if x2 > n {
                k2_end += 2;
            } else if y2 > m {
                k2_start += 2;
            } else if !front {
                let k1_offset = v_offset + delta - k2;
                if (0..v_length).contains(&k1_offset) && v1[k1_offset as usize] != -1 {
                    let x1 = v1[k1_offset as usize];
                    let y1 = v_offset + x1 - k1_offset;
                    if x1 >= n - x2 {
                        return Some(split(x1, y1));
                    }
                }
            }
            k2 += 2;
        }
    }
    Some(None)
}

/// [`common_subsequence`], for the property tests.
#[cfg(test)]
pub(crate) fn common_subsequence_for_tests(a: &[char], b: &[char]) -> Option<Vec<(usize, usize)>> {
    common_subsequence(a, b)
}
