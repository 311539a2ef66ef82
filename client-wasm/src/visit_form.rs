//! [`FormEdit`]: one change a form field makes to a visit record, and [`apply_edit`].
//!
//! The view sends every keystroke and choice as a small JSON object
//! (`{"op":"text","field":"observations","value":"…"}`); this module turns it into typed
//! model edits. Text fields are written as the difference from what the document holds,
//! so two people typing into the same record offline both keep their words; a keystroke
//! that names what the field showed before it (`"base"`) also keeps words that arrived from
//! another device since the field last showed the record.
//!
//! [`FormEdit::read`] reads the object by hand through [`EditFields`] rather than with a
//! serde derive: an internally tagged enum costs tens of kilobytes of wasm.
//!
//! Every change is committed with its author's message ([`ChangeAuthor`]: the worker and
//! this device), so a conflict can say who chose each answer and on which device. Every
//! list entry can be edited and removed (a removal is logged in the record); an action is
//! checked before it is added; a draft started in error is discarded with a reason.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ROOT, ScalarValue};
use shared::model::{
    self, ActionOwnerType, ActionStatus, BedroomSeen, CalendarDate, ChangeAuthor, Coded,
    ItemTextField, NewAction, NotAloneReason, RemovedBy, TextField, VisitKind, VisitList,
    VisitLocation, VisitMaker, VisitScalarField, VoiceTopic,
};

use shared::sync::Timestamp;

use crate::ClientError;

/// One edit from the visit form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormEdit {
    /// A root narrative text: `purpose`, `observations`, `analysis`, `notAloneDetail`,
    /// `bedroomDetail`.
    Text {
        /// The field's key.
        field: String,
        /// The whole new text.
        value: String,
        /// What the field showed before this keystroke, when the screen sends it: words
        /// another device added since are kept (`model::merge_typing`).
        base: Option<String>,
    },
    /// The visit date as typed (`YYYY-MM-DD`, possibly not a real date in a draft).
    VisitDate {
        /// The text.
        value: String,
    },
    /// A single choice: `visitKind`, `location`, `announced`, `childSeen`, `seenAlone`,
    /// `notAloneReason`, `bedroomSeen`, `welfareSafeguarded`; `yes`/`no` for the booleans.
    Choice {
        /// The field's key.
        field: String,
        /// The chosen code.
        value: String,
    },
    /// Removes entry `index` of `list` (`personsPresent`, `voice` or `actions`), which the
    /// screen read with id `id` (empty: the entry had none); logged in the record.
    Remove {
        /// The list.
        list: String,
        /// Which entry.
        index: usize,
        /// Its id as read.
        id: String,
    },
    /// Who owns action `index` (`worker`, `carer`, `child`, `otherAgency`; empty: not set).
    ActionOwnerType {
        /// Which action.
        index: usize,
        /// The code.
        value: String,
    },
    /// The due date of action `index` as typed (`YYYY-MM-DD`; empty removes it).
    ActionDueDate {
        /// Which action.
        index: usize,
        /// The text.
        value: String,
    },
    /// The status of action `index` (`open`, `done`, `cancelled`).
    ActionStatus {
        /// Which action.
        index: usize,
        /// The code.
        value: String,
    },
    /// Discards a draft started in error, with the reason (kept and audited, never counted).
    Discard {
        /// Why.
        reason: String,
    },
    /// Adds a person present.
    AddPerson {
        /// Their name.
        name: String,
        /// Their role or relationship.
        role: String,
    },
    /// Adds an entry of the child's voice.
    AddVoice,
    /// A text inside an entry: `voice` `words`/`paraphrase`, `personsPresent`
    /// `name`/`role`, `actions` `description`/`ownerName`.
    ItemText {
        /// `voice`, `personsPresent` or `actions`.
        list: String,
        /// Which entry.
        index: usize,
        /// The key inside the entry.
        field: String,
        /// The whole new text.
        value: String,
        /// What the field showed before this keystroke, when the screen sends it: words
        /// another device added since are kept (`model::merge_typing`).
        base: Option<String>,
    },
    /// Ticks or unticks a topic of a voice entry.
    VoiceTopic {
        /// Which entry.
        index: usize,
        /// The topic code.
        topic: String,
        /// Ticked?
        on: bool,
    },
    /// The 0-10 scale of a voice entry (`null` clears it).
    VoiceScale {
        /// Which entry.
        index: usize,
        /// The answer.
        value: Option<u8>,
    },
    /// Whether the entry was read back to the child.
    VoiceReadBack {
        /// Which entry.
        index: usize,
        /// Read back?
        value: bool,
    },
    /// Adds an action.
    AddAction {
        /// What will be done.
        description: String,
        /// `worker`, `carer`, `child`, `otherAgency`, or empty.
        owner_type: String,
        /// Who owns it.
        owner_name: String,
        /// `YYYY-MM-DD`, or empty.
        due_date: String,
    },
    /// Settles a conflict by choosing candidate `choice` of `field`.
    Resolve {
        /// The key in conflict.
        field: String,
        /// The index of the chosen candidate in the view's list.
        choice: usize,
    },
    /// Submits the record (only if nothing stops it), noting when (`submittedAt`).
    Submit {
        /// Today, `YYYY-MM-DD`, for the "not in the future" check.
        today: String,
    },
    /// Starts changing a signed-off record: records why (an amendment naming the version
    /// signed off). Every other edit of a signed-off record is refused until then.
    Amend {
        /// Why the record is being changed.
        reason: String,
    },
}

/// The fields of an edit object as the screens send it (a `JsValue` in the browser).
pub trait EditFields {
    /// The string at `key`, if it is one.
    fn text(&self, key: &str) -> Option<String>;
    /// The number at `key`, if it is one.
    fn number(&self, key: &str) -> Option<f64>;
    /// The boolean at `key`, if it is one.
    fn flag(&self, key: &str) -> Option<bool>;
}

impl FormEdit {
    /// Reads an edit: `op` names the variant (camelCase), its fields are camelCase keys.
    /// A missing text is empty and a missing index names no entry (the edit then fails
    /// in the model, in words); only an unknown `op` is refused here.
    ///
    /// # Errors
    /// [`ClientError::BadArgument`] naming an unknown `op`.
    pub fn read(fields: &dyn EditFields) -> Result<FormEdit, ClientError> {
        let text = |key: &str| fields.text(key).unwrap_or_default();
        let index = |key: &str| {
            fields
                .number(key)
                .filter(|n| *n >= 0.0)
                .map_or(usize::MAX, |n| n as usize)
        };
        let flag = |key: &str| fields.flag(key).unwrap_or(false);
        let op = text("op");
        Ok(match op.as_str() {
            "text" => FormEdit::Text {
                field: text("field"),
                value: text("value"),
                base: fields.text("base"),
            },
            "visitDate" => FormEdit::VisitDate {
                value: text("value"),
            },
            "choice" => FormEdit::Choice {
                field: text("field"),
                value: text("value"),
            },
            "addPerson" => FormEdit::AddPerson {
                name: text("name"),
                role: text("role"),
            },
            "addVoice" => FormEdit::AddVoice,
            "remove" => FormEdit::Remove {
                list: text("list"),
                index: index("index"),
                id: text("id"),
            },
            "actionOwnerType" => FormEdit::ActionOwnerType {
                index: index("index"),
                value: text("value"),
            },
            "actionDueDate" => FormEdit::ActionDueDate {
                index: index("index"),
                value: text("value"),
            },
            "actionStatus" => FormEdit::ActionStatus {
                index: index("index"),
                value: text("value"),
            },
            "discard" => FormEdit::Discard {
                reason: text("reason"),
            },
            "itemText" => FormEdit::ItemText {
                list: text("list"),
                index: index("index"),
                field: text("field"),
                value: text("value"),
                base: fields.text("base"),
            },
            "voiceTopic" => FormEdit::VoiceTopic {
                index: index("index"),
                topic: text("topic"),
                on: flag("on"),
            },
            "voiceScale" => FormEdit::VoiceScale {
                index: index("index"),
                value: fields
                    .number("value")
                    .map(|n| u8::try_from(n as usize).unwrap_or(u8::MAX)),
            },
            "voiceReadBack" => FormEdit::VoiceReadBack {
                index: index("index"),
                value: flag("value"),
            },
            "addAction" => FormEdit::AddAction {
                description: text("description"),
                owner_type: text("ownerType"),
                owner_name: text("ownerName"),
                due_date: text("dueDate"),
            },
            "resolve" => FormEdit::Resolve {
                field: text("field"),
                choice: index("choice"),
            },
            "submit" => FormEdit::Submit {
                today: text("today"),
            },
            "amend" => FormEdit::Amend {
                reason: text("reason"),
            },
            _ => return Err(unknown("edit", &op)),
        })
    }
}

/// Applies `edit` by `author` (the worker, on this device) to a visit document as one
/// change made at `now` (the device's clock), committed with the author's message.
/// Returns the index of a new entry for `AddPerson`/`AddVoice`/`AddAction`, `None`
/// otherwise. A refused edit changes nothing.
///
/// # Errors
/// [`ClientError::BadArgument`] for an unknown field or code, [`ClientError::Record`] if
/// the document refuses the edit, a submission has problems or an open conflict (their
/// messages joined), a new action is incomplete, or the record was signed off and no
/// reason for changing it was given ([`FormEdit::Amend`]).
pub fn apply_edit(
    doc: &mut Automerge,
    edit: &FormEdit,
    new_id: impl FnOnce() -> String,
    now: Timestamp,
    author: &ChangeAuthor,
) -> Result<Option<usize>, ClientError> {
    // What needs the whole record is read before the change starts.
    if !matches!(edit, FormEdit::Amend { .. }) && model::amendment_required(doc)? {
        return Err(ClientError::Record(
            "This record has been signed off. Say why you are changing it first.".into(),
        ));
    }
    let chosen = match edit {
        FormEdit::Submit { today } => {
            let problems = model::submission_problems(&*doc, today)?;
            if !problems.is_empty() {
                let messages: Vec<_> = problems.into_iter().map(|p| p.message).collect();
                return Err(ClientError::Record(messages.join("; ")));
            }
            None
        }
        FormEdit::Resolve { field, choice } => {
            let field = VisitScalarField::ALL
                .into_iter()
                .find(|f| f.key() == field)
                .ok_or_else(|| unknown("field", field))?;
            let conflict = model::single_value_conflicts(&*doc)
                .into_iter()
                .find(|c| c.field == field)
                .ok_or_else(|| {
                    ClientError::Record("That answer is no longer in conflict".into())
                })?;
            let chosen = conflict
                .candidates
                .get(*choice)
                .ok_or_else(|| unknown("choice", &choice.to_string()))?;
            Some((field, chosen.value.clone()))
        }
        _ => None,
    };
    let mut tx = doc.transaction();
    match apply_in(&mut tx, edit, new_id, chosen, now, &author.worker_id) {
        Ok(index) => {
            let seconds = i64::try_from(now.as_millis() / 1000).unwrap_or(i64::MAX);
            tx.commit_with(
                CommitOptions::default()
                    .with_time(seconds)
                    .with_message(author.message()),
            );
            Ok(index)
        }
        Err(err) => {
            tx.rollback();
            Err(err)
        }
    }
}

fn apply_in(
    tx: &mut impl Transactable,
    edit: &FormEdit,
    new_id: impl FnOnce() -> String,
    chosen: Option<(VisitScalarField, ScalarValue)>,
    now: Timestamp,
    worker: &str,
) -> Result<Option<usize>, ClientError> {
    match edit {
        FormEdit::Text { field, value, base } => {
            let field = TextField::ALL
                .into_iter()
                .find(|f| f.key() == field)
                .ok_or_else(|| unknown("text field", field))?;
            match base {
                Some(base) => model::type_text(tx, field, base, value)?,
                None => model::update_text(tx, field, value)?,
            }
        }
        FormEdit::VisitDate { value } => {
            tx.put(ROOT, "visitDate", value.as_str())
                .map_err(|err| ClientError::Record(err.to_string()))?;
        }
        FormEdit::Choice { field, value } => set_choice(tx, field, value)?,
        FormEdit::AddPerson { name, role } => {
            return Ok(Some(model::add_person(tx, &new_id(), name, role)?));
        }
        FormEdit::Remove { list, index, id } => {
            let list = code::<VisitList>(list, "list")?;
            let entry_id = new_id();
            let by = RemovedBy {
                entry_id: &entry_id,
                worker_id: worker,
                at: now,
            };
            let id = (!id.is_empty()).then_some(id.as_str());
            model::remove_list_entry(tx, list, *index, id, by)?;
        }
        FormEdit::ActionOwnerType { index, value } => {
            let owner = (!value.is_empty())
                .then(|| code::<ActionOwnerType>(value, "action owner"))
                .transpose()?;
            model::set_action_owner_type(tx, *index, owner)?;
        }
        FormEdit::ActionDueDate { index, value } => {
            model::set_action_due_text(tx, *index, value)?;
        }
        FormEdit::ActionStatus { index, value } => {
            model::set_action_status(tx, *index, code::<ActionStatus>(value, "status")?)?;
        }
        FormEdit::Discard { reason } => model::discard_visit(tx, reason, worker, now)?,
        FormEdit::AddVoice => return Ok(Some(model::add_voice_entry(tx, &new_id())?)),
        FormEdit::ItemText {
            list,
            index,
            field,
            value,
            base,
        } => {
            let item = item_field(list, field)?;
            match base {
                Some(base) => model::type_item_text(tx, item, *index, base, value)?,
                None => model::update_item_text(tx, item, *index, value)?,
            }
        }
        FormEdit::VoiceTopic { index, topic, on } => {
            let topic = code::<VoiceTopic>(topic, "topic")?;
            if *on {
                model::add_voice_topic(tx, *index, topic)?;
            } else {
                model::remove_voice_topic(tx, *index, topic)?;
            }
        }
        FormEdit::VoiceScale { index, value } => model::set_voice_scale(tx, *index, *value)?,
        FormEdit::VoiceReadBack { index, value } => {
            model::set_voice_read_back(tx, *index, *value)?;
        }
        FormEdit::AddAction {
            description,
            owner_type,
            owner_name,
            due_date,
        } => {
            let owner_type = (!owner_type.is_empty())
                .then(|| code::<ActionOwnerType>(owner_type, "action owner"))
                .transpose()?;
            let problems = model::new_action_problems(description, owner_name, due_date);
            if !problems.is_empty() {
                let messages: Vec<_> = problems.into_iter().map(|p| p.message).collect();
                return Err(ClientError::Record(messages.join("; ")));
            }
            let action = NewAction {
                action_id: new_id(),
                description: description.trim().to_owned(),
                owner_type,
                owner_name: owner_name.trim().to_owned(),
                due_date: CalendarDate::parse(due_date),
            };
            return Ok(Some(model::add_action(tx, &action)?));
        }
        FormEdit::Resolve { .. } => {
            if let Some((field, value)) = chosen {
                model::resolve_conflict(tx, field, &value)?;
            }
        }
        FormEdit::Submit { .. } => model::submit_visit(tx, now)?,
        FormEdit::Amend { reason } => model::add_amendment(tx, reason, worker, &new_id(), now)?,
    }
    Ok(None)
}

fn set_choice(tx: &mut impl Transactable, field: &str, value: &str) -> Result<(), ClientError> {
    let yes_no = || match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(unknown("answer", value)),
    };
    match field {
        "visitKind" => model::set_visit_kind(tx, code::<VisitKind>(value, "visit kind")?)?,
        "location" => model::set_location(tx, code::<VisitLocation>(value, "location")?)?,
        "announced" => model::set_announced(tx, yes_no()?)?,
        "childSeen" => model::set_child_seen(tx, yes_no()?)?,
        "seenAlone" => model::set_seen_alone(tx, yes_no()?)?,
        "notAloneReason" => {
            model::set_not_alone_reason(tx, code::<NotAloneReason>(value, "reason")?)?;
        }
        "bedroomSeen" => model::set_bedroom_seen(tx, code::<BedroomSeen>(value, "answer")?)?,
        "madeBy" => model::set_made_by(tx, code::<VisitMaker>(value, "who made the visit")?)?,
        "welfareSafeguarded" => model::set_welfare_safeguarded(tx, yes_no()?)?,
        _ => return Err(unknown("choice", field)),
    }
    Ok(())
}

fn item_field(list: &str, field: &str) -> Result<ItemTextField, ClientError> {
    Ok(match (list, field) {
        ("voice", "words") => ItemTextField::ChildWords,
        ("voice", "paraphrase") => ItemTextField::Paraphrase,
        ("voice", "scaleQuestion") => ItemTextField::ScaleQuestion,
        ("personsPresent", "name") => ItemTextField::PersonName,
        ("personsPresent", "role") => ItemTextField::PersonRole,
        ("actions", "description") => ItemTextField::ActionDescription,
        ("actions", "ownerName") => ItemTextField::ActionOwnerName,
        _ => return Err(unknown("field", &format!("{list}.{field}"))),
    })
}

fn code<T: Coded>(value: &str, what: &str) -> Result<T, ClientError> {
    T::from_code(value).ok_or_else(|| unknown(what, value))
}

fn unknown(what: &str, value: &str) -> ClientError {
    ClientError::BadArgument(format!("unknown {what} \"{value}\""))
}

/// The value of a scalar as the view shows a conflict candidate.
pub fn candidate_text(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Boolean(true) => "Yes".into(),
        ScalarValue::Boolean(false) => "No".into(),
        ScalarValue::Str(text) => text.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
