//! Correcting a misfiled visit (domain D4, issue 13 part 4).
//!
//! A manager **moves** a visit recorded against the wrong child ([`move_visit`]: `childId`
//! changes, the history stays), or **expunges** passages that must not remain, such as
//! another family's details ([`expunged_copy`]): automerge keeps every version, so the
//! only way to remove text from history is a new document (a new lineage) built from
//! the current state without it. Both append an entry to the server-only root list
//! `corrections` (`entryId`, `kind`: `moved` | `expunged`, `at`, `byId`, `byName`,
//! `reason`, and `fromChild`/`toChild` or `replaces`), which later readers see.
//!
//! A device that was offline holding unsent edits to the old lineage calls
//! [`carry_over`]: its own changes are those the server did not hold (`server_had`); it
//! replays their effect, field by field, onto the new document. Texts merge by a
//! three-way character merge, so every character the correction removed stays removed
//! while the worker's own typing survives; list entries are matched by their ids; a
//! value the worker and the new document changed differently is set aside
//! ([`SetAside`]) for the worker to re-check, never chosen silently. Since a new lineage
//! holds only the state it was built from, the heads that sign-offs and amendments pin
//! are rewritten to its first version.

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
    /// Server time.
    pub at: Timestamp,
    /// The manager's username.
    pub by_id: String,
    /// The manager's name.
    pub by_name: String,
    /// Why.
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

/// The document's corrections, oldest first; entries it cannot read are skipped.
pub fn corrections(doc: &impl ReadDoc) -> Vec<Correction> {
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(ROOT, CORRECTIONS_KEY) else {
        return Vec::new();
    };
    let text = |entry: &ObjId, key: &str| -> String {
        match doc.get(entry, key) {
            Ok(Some((Value::Scalar(value), _))) => match value.as_ref() {
                ScalarValue::Str(text) => text.to_string(),
                _ => String::new(),
            },
            Ok(Some((Value::Object(ObjType::Text), id))) => doc.text(&id).unwrap_or_default(),
            _ => String::new(),
        }
    };
    let mut found = Vec::new();
    for index in 0..doc.length(&list) {
        let Ok(Some((Value::Object(ObjType::Map), entry))) = doc.get(&list, index) else {
            continue;
        };
        let at = match doc.get(&entry, "at") {
            Ok(Some((Value::Scalar(value), _))) => match value.as_ref() {
                ScalarValue::Int(ms) => u64::try_from(*ms).unwrap_or(0),
                ScalarValue::Uint(ms) => *ms,
                ScalarValue::F64(ms) if *ms >= 0.0 => *ms as u64,
                _ => 0,
            },
            _ => 0,
        };
        let kind = match text(&entry, "kind").as_str() {
            "moved" => CorrectionKind::Moved {
                from_child: text(&entry, "fromChild"),
                to_child: text(&entry, "toChild"),
            },
            "expunged" => CorrectionKind::Expunged {
                replaces: text(&entry, "replaces"),
            },
            _ => continue,
        };
        found.push(Correction {
            kind,
            note: CorrectionNote {
                at: Timestamp::from_millis(at),
                by_id: text(&entry, "byId"),
                by_name: text(&entry, "byName"),
                reason: text(&entry, "reason"),
            },
        });
    }
    found
}

fn root_string(doc: &impl ReadDoc, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok()?? {
        (Value::Scalar(value), _) => match value.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

fn ensure_visit(doc: &impl ReadDoc) -> Result<(), ModelError> {
    match root_string(doc, "type") {
        Some(found) if found == VISIT_DOCUMENT_TYPE => Ok(()),
        found => Err(ModelError::WrongDocumentType {
            expected: VISIT_DOCUMENT_TYPE,
            found,
        }),
    }
}

fn append_entry(
    tx: &mut impl Transactable,
    kind: &CorrectionKind,
    note: &CorrectionNote,
) -> Result<(), ModelError> {
    if note.reason.trim().is_empty() {
        return Err(ModelError::BadCorrection("a correction needs a reason"));
    }
    let list = match tx.get(ROOT, CORRECTIONS_KEY)? {
        Some((Value::Object(ObjType::List), list)) => list,
        _ => tx.put_object(ROOT, CORRECTIONS_KEY, ObjType::List)?,
    };
    let entry = tx.insert_object(&list, tx.length(&list), ObjType::Map)?;
    let at = i64::try_from(note.at.as_millis()).unwrap_or(i64::MAX);
    let entry_id = format!("correction-{at}-{}", tx.length(&list));
    tx.put(&entry, "entryId", entry_id)?;
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

/// Files the visit under `to_child` and notes the move in `corrections`.
///
/// # Errors
/// Not a visit, no reason, already filed under `to_child`, or automerge's error.
pub fn move_visit(
    tx: &mut impl Transactable,
    to_child: &str,
    note: &CorrectionNote,
) -> Result<(), ModelError> {
    ensure_visit(tx)?;
    let from_child = root_string(tx, "childId").unwrap_or_default();
    if from_child == to_child {
        return Err(ModelError::BadCorrection(
            "the record is already filed under that child",
        ));
    }
    append_entry(
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

/// A document's value, read out of it.
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

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Text(text) => Some(text),
            Node::Scalar(ScalarValue::Str(text)) => Some(text),
            _ => None,
        }
    }

    /// The id that names a list entry (visits' lists of maps each carry one).
    fn entry_id(&self) -> Option<&str> {
        ["entryId", "actionId", "personId", "itemId"]
            .iter()
            .find_map(|key| self.get(key).and_then(Node::as_str))
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

    fn render(&self) -> String {
        match self {
            Node::Text(text) => text.clone(),
            Node::Scalar(ScalarValue::Str(text)) => text.to_string(),
            Node::Scalar(ScalarValue::Null) => String::new(),
            Node::Scalar(other) => other.to_string(),
            Node::List(items) => items
                .iter()
                .map(Node::render)
                .filter(|text| !text.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
            Node::Map(entries) => entries
                .iter()
                .filter(|(key, _)| !key.ends_with("Id"))
                .map(|(key, value)| format!("{key}: {}", value.render()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Writes `node` at `prop` of `obj` (`insert` for a list position).
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

/// A visit rebuilt without expunged passages.
#[derive(Debug)]
pub struct Expunged {
    /// The new document (a new lineage: new actor, new history).
    pub document: Automerge,
    /// How many occurrences were removed.
    pub removed: usize,
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

/// The visit as it stands, without `passages`, as a new document (see the module doc):
/// one change holding the state, then one pointing sign-offs and amendments at it and
/// noting the correction, both committed with `message` at `note.at`.
///
/// # Errors
/// Not a visit, an empty passage, a passage the visit does not hold, no reason, or
/// automerge's error.
pub fn expunged_copy(
    doc: &Automerge,
    passages: &[String],
    replaces: &str,
    note: &CorrectionNote,
    message: &str,
) -> Result<Expunged, ModelError> {
    ensure_visit(doc)?;
    if passages.iter().any(|passage| passage.trim().is_empty()) || passages.is_empty() {
        return Err(ModelError::BadCorrection("name the passages to remove"));
    }
    if note.reason.trim().is_empty() {
        return Err(ModelError::BadCorrection("a correction needs a reason"));
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
    let time = i64::try_from(note.at.as_millis() / 1000).unwrap_or(i64::MAX);
    let options = || {
        CommitOptions::default()
            .with_message(message)
            .with_time(time)
    };
    let mut new = Automerge::new();
    let mut tx = new.transaction();
    if let Node::Map(entries) = &state {
        for (key, value) in entries {
            write(&mut tx, &ROOT, Prop::Map(key.clone()), value, false)?;
        }
    }
    tx.commit_with(options());
    let first: Vec<String> = new.get_heads().iter().map(ToString::to_string).collect();
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
                let heads = tx.put_object(&entry, "heads", ObjType::List)?;
                for (at, head) in first.iter().enumerate() {
                    tx.insert(&heads, at, head.as_str())?;
                }
            }
        }
    }
    append_entry(
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
    /// Values and entries written onto the new document.
    pub carried: usize,
    /// What could not be merged, for the worker to re-check.
    pub set_aside: Vec<SetAside>,
}

/// An offline edit that was not carried over: the worker and the new document changed
/// the same value differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// Where, e.g. `visitKind` or `actions[a-1].status`.
    pub path: String,
    /// The worker's value, as words.
    pub yours: String,
    /// The new document's value, as words.
    pub theirs: String,
}

/// Carries the edits `old_local` holds beyond `server_had` (see the module doc) onto
/// `new`, in one change made with `commit`; nothing is written if it holds none.
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
    let shared: Vec<_> = changes
        .iter()
        .filter(|change| server_had.contains(&change.hash()))
        .collect();
    let depended: HashSet<ChangeHash> = shared
        .iter()
        .flat_map(|change| change.deps().iter().copied())
        .collect();
    let base_heads: Vec<ChangeHash> = shared
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
    let mut outcome = CarryOver::default();
    let mut tx = new.transaction();
    let (Node::Map(base_entries), Node::Map(local_entries)) = (&base, &local) else {
        return Ok(outcome);
    };
    let skipped = |key: &str| {
        key == CORRECTIONS_KEY || key == "oversight" || VISIT_PLACING_KEYS.contains(&key)
    };
    for key in keys_of(base_entries, local_entries) {
        if skipped(&key) {
            continue;
        }
        merge(
            &mut tx,
            &ROOT,
            Prop::Map(key.clone()),
            base.get(&key),
            local.get(&key),
            &key,
            &mut outcome,
        )?;
    }
    if outcome.carried > 0 {
        tx.commit_with(commit);
    } else {
        tx.rollback();
    }
    Ok(outcome)
}

fn keys_of(base: &[(String, Node)], local: &[(String, Node)]) -> Vec<String> {
    let mut keys: Vec<String> = base.iter().map(|(k, _)| k.clone()).collect();
    for (key, _) in local {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    keys
}

fn merge(
    tx: &mut impl Transactable,
    obj: &ObjId,
    prop: Prop,
    base: Option<&Node>,
    local: Option<&Node>,
    path: &str,
    out: &mut CarryOver,
) -> Result<(), ModelError> {
    if base == local {
        return Ok(());
    }
    let theirs = Node::at(tx, obj, &prop);
    let Some(local) = local else {
        // Removed on the device: remove it here too if nobody else changed it.
        if let Some((theirs, _)) = &theirs {
            if Some(theirs) == base {
                tx.delete(obj, prop)?;
                out.carried += 1;
            } else {
                set_aside(out, path, "(removed)".into(), theirs.render());
            }
        }
        return Ok(());
    };
    let Some((theirs, id)) = theirs else {
        if base.is_none() {
            write(tx, obj, prop, local, false)?;
            out.carried += 1;
        } else {
            set_aside(out, path, own_words(base, local), String::new());
        }
        return Ok(());
    };
    match (local, &theirs) {
        (Node::Map(local_entries), Node::Map(_)) => {
            let empty = Vec::new();
            let base_entries = match base {
                Some(Node::Map(entries)) => entries,
                _ => &empty,
            };
            for key in keys_of(base_entries, local_entries) {
                let child_path = format!("{path}.{key}");
                merge(
                    tx,
                    &id,
                    Prop::Map(key.clone()),
                    base.and_then(|b| b.get(&key)),
                    local.get(&key),
                    &child_path,
                    out,
                )?;
            }
        }
        (Node::List(local_items), Node::List(their_items)) => {
            let empty = Vec::new();
            let base_items = match base {
                Some(Node::List(items)) => items,
                _ => &empty,
            };
            merge_list(tx, &id, (base_items, local_items, their_items), path, out)?;
        }
        (Node::Text(mine), Node::Text(current)) => {
            // Texts merge by character; a single string (a code, a date, an id) is a value.
            let base_text = base.and_then(Node::as_str).unwrap_or("");
            let merged = merge_text(base_text, mine, current);
            if merged != *current {
                tx.update_text(&id, &merged)?;
                out.carried += 1;
            }
        }
        (local_value, their_value) => {
            if Some(their_value) == base {
                write(tx, obj, prop, local_value, false)?;
                out.carried += 1;
            } else if their_value != local_value {
                set_aside(
                    out,
                    path,
                    own_words(base, local_value),
                    their_value.render(),
                );
            }
        }
    }
    Ok(())
}

fn set_aside(out: &mut CarryOver, path: &str, yours: String, theirs: String) {
    out.set_aside.push(SetAside {
        path: path.to_owned(),
        yours,
        theirs,
    });
}

/// The worker's value as words, keeping of each text only what they typed themselves
/// (nothing of the base it was typed into, which may hold what a correction removed).
fn own_words(base: Option<&Node>, local: &Node) -> String {
    let base_text = base.map(Node::render).unwrap_or_default();
    let mut own = local.clone();
    own.each_string_mut(&mut |text| *text = inserted_runs(&base_text, text));
    own.render()
}

/// The runs of `local` not aligned with `base`, joined by " … ".
fn inserted_runs(base: &str, local: &str) -> String {
    let base: Vec<char> = base.chars().collect();
    let local: Vec<char> = local.chars().collect();
    let mut kept = vec![false; local.len()];
    for (_, j) in common_subsequence(&base, &local) {
        kept[j] = true;
    }
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    for (j, c) in local.iter().enumerate() {
        if kept[j] {
            if !run.trim().is_empty() {
                runs.push(run.trim().to_owned());
            }
            run.clear();
        } else {
            run.push(*c);
        }
    }
    if !run.trim().is_empty() {
        runs.push(run.trim().to_owned());
    }
    runs.join(" … ")
}

/// Lists: entries matched by their id (maps) or by value (scalars); anything else that
/// changed on the device is set aside.
fn merge_list(
    tx: &mut impl Transactable,
    list: &ObjId,
    (base, local, theirs): (&[Node], &[Node], &[Node]),
    path: &str,
    out: &mut CarryOver,
) -> Result<(), ModelError> {
    let all = || base.iter().chain(local).chain(theirs);
    let by_id = all().all(|node| node.entry_id().is_some());
    let scalars = all().all(|node| matches!(node, Node::Scalar(_)));
    let key = |node: &Node| -> Option<String> {
        if by_id {
            node.entry_id().map(str::to_owned)
        } else if scalars {
            Some(node.render())
        } else {
            None
        }
    };
    if !by_id && !scalars {
        set_aside(
            out,
            path,
            own_words(
                Some(&Node::List(base.to_vec())),
                &Node::List(local.to_vec()),
            ),
            Node::List(theirs.to_vec()).render(),
        );
        return Ok(());
    }
    let base_keys: Vec<Option<String>> = base.iter().map(key).collect();
    // Removed on the device (in the base, gone locally): removed here too.
    for (node, node_key) in base.iter().zip(&base_keys) {
        if local.iter().any(|l| key(l) == *node_key) {
            continue;
        }
        let current = Node::List(theirs.to_vec());
        let Node::List(now) = current else { continue };
        if let Some(index) = now.iter().position(|t| key(t) == *node_key) {
            if by_id && now[index] != *node {
                set_aside(
                    out,
                    &format!("{path}[{}]", node_key.clone().unwrap_or_default()),
                    "(removed)".into(),
                    now[index].render(),
                );
                continue;
            }
            let live = (0..tx.length(list)).find(|&i| {
                Node::at(tx, list, &Prop::Seq(i)).is_some_and(|(t, _)| key(&t) == *node_key)
            });
            if let Some(live) = live {
                tx.delete(list, live)?;
                out.carried += 1;
            }
        }
    }
    for node in local {
        let node_key = key(node);
        let in_base = base_keys.contains(&node_key);
        let live = (0..tx.length(list))
            .find(|&i| Node::at(tx, list, &Prop::Seq(i)).is_some_and(|(t, _)| key(&t) == node_key));
        match (in_base, live) {
            (false, None) => {
                write(tx, list, Prop::Seq(tx.length(list)), node, true)?;
                out.carried += 1;
            }
            (true, Some(live)) if by_id => {
                let base_node = base.iter().find(|b| key(b) == node_key);
                let child_path = format!("{path}[{}]", node_key.clone().unwrap_or_default());
                merge(
                    tx,
                    list,
                    Prop::Seq(live),
                    base_node,
                    Some(node),
                    &child_path,
                    out,
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A three-way merge of texts by character: a base character stays only if neither side
/// removed it, and every insertion of either side stays (the new document's first where
/// both inserted at the same place).
pub(crate) fn merge_text(base: &str, local: &str, theirs: &str) -> String {
    let base: Vec<char> = base.chars().collect();
    let local: Vec<char> = local.chars().collect();
    let theirs: Vec<char> = theirs.chars().collect();
    // For each side: which base index each of its characters keeps (or an insertion),
    // as the insertions before each base position and whether each base char survives.
    let split = |side: &[char]| {
        let pairs = common_subsequence(&base, side);
        let mut kept = vec![false; base.len()];
        let mut inserted: Vec<Vec<char>> = vec![Vec::new(); base.len() + 1];
        let mut next_side = 0;
        for &(i, j) in &pairs {
            inserted[i].extend_from_slice(&side[next_side..j]);
            kept[i] = true;
            next_side = j + 1;
        }
        inserted[base.len()].extend_from_slice(&side[next_side..]);
        (kept, inserted)
    };
    // Insertions before base position i are recorded at i (the gap before it).
    let (local_kept, local_ins) = split(&local);
    let (their_kept, their_ins) = split(&theirs);
    let mut merged = String::with_capacity(theirs.len() + local.len());
    for i in 0..=base.len() {
        merged.extend(their_ins[i].iter());
        if local_ins[i] != their_ins[i] {
            merged.extend(local_ins[i].iter());
        }
        if i < base.len() && local_kept[i] && their_kept[i] {
            merged.push(base[i]);
        }
    }
    merged
}

/// The pairs `(i, j)` of a longest common subsequence of `a` and `b`, in order (Myers'
/// O(ND) algorithm in linear space, as diff-match-patch's bisection does it).
fn common_subsequence(a: &[char], b: &[char]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    lcs(a, b, 0, 0, &mut pairs);
    pairs
}

/// Appends the LCS pairs of `a` and `b`, offset by `da` and `db`.
fn lcs(a: &[char], b: &[char], da: usize, db: usize, out: &mut Vec<(usize, usize)>) {
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
        && let Some((x, y)) = bisect(a_mid, b_mid)
    {
        lcs(&a_mid[..x], &b_mid[..y], ma, mb, out);
        lcs(&a_mid[x..], &b_mid[y..], ma + x, mb + y, out);
    }
    let (sa, sb) = (ma + a_mid.len(), mb + b_mid.len());
    out.extend((0..suffix).map(|k| (sa + k, sb + k)));
}

/// Where an optimal edit path crosses the middle of the edit graph (`None`: `a` and `b`
/// share no character). `a` and `b` differ in their first and last characters.
fn bisect(a: &[char], b: &[char]) -> Option<(usize, usize)> {
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
                        return split(x1, y1);
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
                        return split(x1, y1);
                    }
                }
            }
            k2 += 2;
        }
    }
    None
}

/// [`common_subsequence`], for the property tests.
#[cfg(test)]
pub(crate) fn common_subsequence_for_tests(a: &[char], b: &[char]) -> Vec<(usize, usize)> {
    common_subsequence(a, b)
}
