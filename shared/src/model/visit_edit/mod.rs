//! Typed edits to a visit document, used by the UI and by tests.
//!
//! Every function takes any automerge [`Transactable`], so it works inside a
//! manual `Transaction` or on an `AutoCommit`. Single answers are written
//! with a plain `put`, which also settles any concurrent conflict on that key.
//! Narrative text is edited by splicing, so concurrent edits merge character
//! by character; positions count the document's text units (Unicode code
//! points by default).
//!
//! List entries (`voice`, `actions`, `personsPresent`) are addressed by index.
//! An index is only meaningful against the document state it was read from:
//! look it up and use it in the same transaction.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ScalarValue};

use super::read::string_value;
use super::typing::merge_typing;
use super::visit::{VISIT_DOCUMENT_TYPE, VISIT_SCHEMA_VERSION};
use super::write::{
    ensure_empty, object_at, push_root_list_entry, root_list_entry, splice_checked,
};
use super::{
    ActionOwnerType, ActionStatus, BedroomSeen, CalendarDate, Coded, ModelError, NotAloneReason,
    VisitKind, VisitLocation, VisitMaker, VisitStatus, VoiceTopic,
};
use crate::sync::Timestamp;

mod lists;
pub use lists::*;

/// What is known when a visit record is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    /// The new visit's id (UUID text, made on the device).
    pub visit_id: String,
    /// The child visited (UUID text).
    pub child_id: String,
    /// The worker visiting (UUID text).
    pub worker_id: String,
    /// The date of the visit.
    pub visit_date: CalendarDate,
    /// Now, by the device's clock.
    pub created_at: Timestamp,
}

/// An action agreed at the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    /// The new action's id (UUID text, made on the device).
    pub action_id: String,
    /// What will be done.
    pub description: String,
    /// What kind of person or body owns it, if decided.
    pub owner_type: Option<ActionOwnerType>,
    /// Who owns it.
    pub owner_name: String,
    /// When it is due, if decided.
    pub due_date: Option<CalendarDate>,
}

/// The narrative text fields at the root of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    /// `purpose`: the purpose of the visit.
    Purpose,
    /// `observations`: what the worker saw.
    Observations,
    /// `analysis`: the worker's analysis.
    Analysis,
    /// `notAloneDetail`: more about why the child was not seen alone.
    NotAloneDetail,
    /// `bedroomDetail`: about the child's bedroom.
    BedroomDetail,
}

impl TextField {
    /// Every root text field.
    pub const ALL: [TextField; 5] = [
        Self::Purpose,
        Self::Observations,
        Self::Analysis,
        Self::NotAloneDetail,
        Self::BedroomDetail,
    ];

    /// The document key, e.g. `"notAloneDetail"`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Purpose => "purpose",
            Self::Observations => "observations",
            Self::Analysis => "analysis",
            Self::NotAloneDetail => "notAloneDetail",
            Self::BedroomDetail => "bedroomDetail",
        }
    }
}

/// The narrative text fields inside list entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemTextField {
    /// `voice[i].words`: the child's own words.
    ChildWords,
    /// `voice[i].paraphrase`: the worker's paraphrase.
    Paraphrase,
    /// `personsPresent[i].name`.
    PersonName,
    /// `personsPresent[i].role`.
    PersonRole,
    /// `actions[i].description`.
    ActionDescription,
    /// `actions[i].ownerName`.
    ActionOwnerName,
    /// `voice[i].scaleQuestion`: what the 0 to 10 scale asked.
    ScaleQuestion,
}

impl ItemTextField {
    /// The root list key and the entry key, e.g. `("voice", "words")`.
    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            Self::ChildWords => ("voice", "words"),
            Self::Paraphrase => ("voice", "paraphrase"),
            Self::PersonName => ("personsPresent", "name"),
            Self::PersonRole => ("personsPresent", "role"),
            Self::ActionDescription => ("actions", "description"),
            Self::ActionOwnerName => ("actions", "ownerName"),
            Self::ScaleQuestion => ("voice", "scaleQuestion"),
        }
    }
}

/// Starts a visit record in an empty document: header, ids, date, creation
/// time and status draft, plus every text and list (empty) so that no two
/// devices ever create the same object concurrently.
///
/// # Errors
/// [`ModelError::DocumentNotEmpty`] if the document already has content.
pub fn create_visit(tx: &mut impl Transactable, visit: &NewVisit) -> Result<(), ModelError> {
    ensure_empty(tx, VISIT_DOCUMENT_TYPE)?;
    // Written as a signed int, as JavaScript writes numbers (a uint reads there as BigInt).
    tx.put(ROOT, "schemaVersion", VISIT_SCHEMA_VERSION as i64)?;
    tx.put(ROOT, "type", VISIT_DOCUMENT_TYPE)?;
    tx.put(ROOT, "visitId", visit.visit_id.as_str())?;
    tx.put(ROOT, "childId", visit.child_id.as_str())?;
    tx.put(ROOT, "workerId", visit.worker_id.as_str())?;
    tx.put(ROOT, "visitDate", visit.visit_date.to_string())?;
    tx.put(ROOT, "createdAt", millis_value(visit.created_at))?;
    tx.put(ROOT, "status", VisitStatus::Draft.code())?;
    for field in TextField::ALL {
        tx.put_object(ROOT, field.key(), ObjType::Text)?;
    }
    for list in ["personsPresent", "voice", "actions"] {
        tx.put_object(ROOT, list, ObjType::List)?;
    }
    Ok(())
}

/// The value stored for a point in time: an `Int` of milliseconds, like a
/// JavaScript number.
pub(crate) fn millis_value(time: Timestamp) -> ScalarValue {
    ScalarValue::Int(i64::try_from(time.as_millis()).unwrap_or(i64::MAX))
}

macro_rules! root_setters {
    ($( $(#[$doc:meta])* $name:ident($type:ty) => $key:literal, $to_value:expr; )+) => {
        $(
            $(#[$doc])*
            ///
            /// # Errors
            /// [`ModelError::Automerge`] if automerge refuses the write.
            pub fn $name(tx: &mut impl Transactable, value: $type) -> Result<(), ModelError> {
                let to_value: fn($type) -> ScalarValue = $to_value;
                Ok(tx.put(ROOT, $key, to_value(value))?)
            }
        )+
    };
}

root_setters! {
    /// Sets `visitDate`.
    set_visit_date(CalendarDate) => "visitDate", |date| date.to_string().into();
    /// Sets `visitKind`.
    set_visit_kind(VisitKind) => "visitKind", |kind| kind.code().into();
    /// Sets `location`.
    set_location(VisitLocation) => "location", |location| location.code().into();
    /// Sets `announced`.
    set_announced(bool) => "announced", ScalarValue::Boolean;
    /// Sets `madeBy`.
    set_made_by(VisitMaker) => "madeBy", |maker| maker.code().into();
    /// Sets `notAloneReason`.
    set_not_alone_reason(NotAloneReason) => "notAloneReason", |reason| reason.code().into();
    /// Sets `bedroomSeen`.
    set_bedroom_seen(BedroomSeen) => "bedroomSeen", |seen| seen.code().into();
    /// Sets `welfareSafeguarded`.
    set_welfare_safeguarded(bool) => "welfareSafeguarded", ScalarValue::Boolean;
    /// Sets `status`. This does not validate; call
    /// [`Visit::problems_for_submission`](super::Visit::problems_for_submission) first.
    set_status(VisitStatus) => "status", |status| status.code().into();
}

/// Sets `childSeen`; a child not seen was not seen alone either, so `No` also removes
/// the answers that depended on seeing them (see [`settle_dependents`]).
///
/// # Errors
/// [`ModelError::Automerge`] if automerge refuses the write.
pub fn set_child_seen(tx: &mut impl Transactable, seen: bool) -> Result<(), ModelError> {
    tx.put(ROOT, "childSeen", seen)?;
    settle_dependents(tx, "childSeen", seen)
}

/// Sets `seenAlone`; `Yes` also removes the reason for not being seen alone (see
/// [`settle_dependents`]).
///
/// # Errors
/// [`ModelError::Automerge`] if automerge refuses the write.
pub fn set_seen_alone(tx: &mut impl Transactable, alone: bool) -> Result<(), ModelError> {
    tx.put(ROOT, "seenAlone", alone)?;
    settle_dependents(tx, "seenAlone", alone)
}

/// Removes the answers that stop applying once `key` (`childSeen` or `seenAlone`) reads
/// `value`: a child not seen has no "seen alone" and no reason for it; a child seen alone
/// has no reason for not being. The values go (every one, should two devices have
/// answered differently) and stay in the document's history; the detail text is emptied
/// in place, so text typed concurrently elsewhere is still merged (and left out by
/// [`Visit::read`](super::Visit::read) while it does not apply).
///
/// # Errors
/// [`ModelError::Automerge`] if automerge refuses the write.
pub(crate) fn settle_dependents(
    tx: &mut impl Transactable,
    key: &str,
    value: bool,
) -> Result<(), ModelError> {
    let gone: &[&str] = match (key, value) {
        ("childSeen", false) => &["seenAlone", "notAloneReason"],
        ("seenAlone", true) => &["notAloneReason"],
        _ => return Ok(()),
    };
    for key in gone {
        if tx.get(ROOT, *key)?.is_some() {
            tx.delete(ROOT, *key)?;
        }
    }
    if let Some((automerge::Value::Object(ObjType::Text), text)) = tx.get(ROOT, "notAloneDetail")?
        && tx.length(&text) > 0
    {
        tx.update_text(&text, "")?;
    }
    Ok(())
}

/// Submits the record for management oversight: sets `status` to submitted
/// and `submittedAt` to `submitted_at` (the device's clock). This does not
/// validate; call
/// [`Visit::problems_for_submission`](super::Visit::problems_for_submission) first.
///
/// # Errors
/// [`ModelError::Automerge`] if automerge refuses the write.
pub fn submit_visit(tx: &mut impl Transactable, submitted_at: Timestamp) -> Result<(), ModelError> {
    set_status(tx, VisitStatus::Submitted)?;
    Ok(tx.put(ROOT, "submittedAt", millis_value(submitted_at))?)
}

/// Replaces `delete` text units at `pos` of a root text field with `insert`.
///
/// # Errors
/// [`ModelError::TextRangeOutOfBounds`] if the range passes the end of the
/// text, [`ModelError::WrongValueType`] if the field holds something other
/// than text.
pub fn splice_text(
    tx: &mut impl Transactable,
    field: TextField,
    pos: usize,
    delete: usize,
    insert: &str,
) -> Result<(), ModelError> {
    let path = || field.key().to_owned();
    let text = object_at(tx, &ROOT, field.key(), ObjType::Text, path)?;
    splice_checked(tx, &text, path, pos, delete, insert)
}

/// Makes a root text field read `new_text`, writing only the difference (what a form
/// field does on every keystroke), so concurrent edits by others still merge.
///
/// # Errors
/// [`ModelError::WrongValueType`] if the field holds something other than text.
pub fn update_text(
    tx: &mut impl Transactable,
    field: TextField,
    new_text: &str,
) -> Result<(), ModelError> {
    let text = object_at(tx, &ROOT, field.key(), ObjType::Text, || {
        field.key().to_owned()
    })?;
    Ok(tx.update_text(&text, new_text)?)
}

/// What a keystroke in a root text field writes: the field showed `base` and now shows
/// `typed`; words another device added meanwhile are kept ([`merge_typing`]).
///
/// # Errors
/// As [`update_text`].
pub fn type_text(
    tx: &mut impl Transactable,
    field: TextField,
    base: &str,
    typed: &str,
) -> Result<(), ModelError> {
    let text = object_at(tx, &ROOT, field.key(), ObjType::Text, || {
        field.key().to_owned()
    })?;
    let merged = merge_typing(base, typed, &tx.text(&text)?);
    Ok(tx.update_text(&text, &merged)?)
}

/// [`type_text`] for a text inside list entry `index`.
///
/// # Errors
/// As [`update_item_text`].
pub fn type_item_text(
    tx: &mut impl Transactable,
    field: ItemTextField,
    index: usize,
    base: &str,
    typed: &str,
) -> Result<(), ModelError> {
    let (text, _) = item_text(tx, field, index)?;
    let merged = merge_typing(base, typed, &tx.text(&text)?);
    Ok(tx.update_text(&text, &merged)?)
}

/// Makes a text inside list entry `index` read `new_text`, writing only the difference.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry.
pub fn update_item_text(
    tx: &mut impl Transactable,
    field: ItemTextField,
    index: usize,
    new_text: &str,
) -> Result<(), ModelError> {
    let (text, _) = item_text(tx, field, index)?;
    Ok(tx.update_text(&text, new_text)?)
}

/// Adds `insert` at the end of a root text field.
///
/// # Errors
/// As [`splice_text`].
pub fn append_text(
    tx: &mut impl Transactable,
    field: TextField,
    insert: &str,
) -> Result<(), ModelError> {
    let text = object_at(tx, &ROOT, field.key(), ObjType::Text, || {
        field.key().to_owned()
    })?;
    let end = tx.length(&text);
    splice_checked(tx, &text, || field.key().to_owned(), end, 0, insert)
}

/// Replaces `delete` text units at `pos` of a text inside list entry `index`.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry,
/// [`ModelError::TextRangeOutOfBounds`] if the range passes the end of the text.
pub fn splice_item_text(
    tx: &mut impl Transactable,
    field: ItemTextField,
    index: usize,
    pos: usize,
    delete: usize,
    insert: &str,
) -> Result<(), ModelError> {
    let (text, path) = item_text(tx, field, index)?;
    splice_checked(tx, &text, || path, pos, delete, insert)
}

/// Adds `words` at the end of what the child said in voice entry `index`.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry.
pub fn append_child_words(
    tx: &mut impl Transactable,
    index: usize,
    words: &str,
) -> Result<(), ModelError> {
    let (text, path) = item_text(tx, ItemTextField::ChildWords, index)?;
    let end = tx.length(&text);
    splice_checked(tx, &text, || path, end, 0, words)
}

/// Edits what the child said in voice entry `index`.
///
/// # Errors
/// As [`splice_item_text`].
pub fn splice_child_words(
    tx: &mut impl Transactable,
    index: usize,
    pos: usize,
    delete: usize,
    insert: &str,
) -> Result<(), ModelError> {
    splice_item_text(tx, ItemTextField::ChildWords, index, pos, delete, insert)
}

/// Makes the worker's paraphrase in voice entry `index` read `paraphrase`,
/// writing only the difference so concurrent edits still merge.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry.
pub fn set_paraphrase(
    tx: &mut impl Transactable,
    index: usize,
    paraphrase: &str,
) -> Result<(), ModelError> {
    let (text, _) = item_text(tx, ItemTextField::Paraphrase, index)?;
    Ok(tx.update_text(&text, paraphrase)?)
}
