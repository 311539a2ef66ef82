//! Edits to a visit's lists: people present, the child's voice (entries, topics, scales,
//! read-back) and actions (status, owner, due), and the text helpers they share.

use super::*;

/// Adds a person present at the visit and returns their index.
///
/// # Errors
/// [`ModelError::WrongValueType`] if `personsPresent` is not a list.
pub fn add_person_present(
    tx: &mut impl Transactable,
    name: &str,
    role: &str,
) -> Result<usize, ModelError> {
    let (person, index) = push_root_list_entry(tx, "personsPresent")?;
    put_text(tx, &person, "name", name)?;
    put_text(tx, &person, "role", role)?;
    Ok(index)
}

/// Adds a person present with an entry id (so a removal can name them) and returns
/// their index.
///
/// # Errors
/// [`ModelError::WrongValueType`] if `personsPresent` is not a list.
pub fn add_person(
    tx: &mut impl Transactable,
    person_id: &str,
    name: &str,
    role: &str,
) -> Result<usize, ModelError> {
    let (person, index) = push_root_list_entry(tx, "personsPresent")?;
    tx.put(&person, "personId", person_id)?;
    put_text(tx, &person, "name", name)?;
    put_text(tx, &person, "role", role)?;
    Ok(index)
}

/// Adds an empty voice entry (words, paraphrase and topics, with scale and
/// read-back not yet answered) and returns its index.
///
/// # Errors
/// [`ModelError::WrongValueType`] if `voice` is not a list.
pub fn add_voice_entry(tx: &mut impl Transactable, entry_id: &str) -> Result<usize, ModelError> {
    let (entry, index) = push_root_list_entry(tx, "voice")?;
    tx.put(&entry, "entryId", entry_id)?;
    put_text(tx, &entry, "words", "")?;
    put_text(tx, &entry, "paraphrase", "")?;
    tx.put_object(&entry, "topics", ObjType::List)?;
    Ok(index)
}

/// Adds `topic` to voice entry `index` unless it is already there.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry.
pub fn add_voice_topic(
    tx: &mut impl Transactable,
    index: usize,
    topic: VoiceTopic,
) -> Result<(), ModelError> {
    let (topics, positions) = topic_positions(tx, index, topic)?;
    if positions.is_empty() {
        let end = tx.length(&topics);
        tx.insert(&topics, end, topic.code())?;
    }
    Ok(())
}

/// Removes `topic` from voice entry `index` (every copy, should two devices
/// have added it concurrently).
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry.
pub fn remove_voice_topic(
    tx: &mut impl Transactable,
    index: usize,
    topic: VoiceTopic,
) -> Result<(), ModelError> {
    let (topics, positions) = topic_positions(tx, index, topic)?;
    for position in positions.into_iter().rev() {
        tx.delete(&topics, position)?;
    }
    Ok(())
}

/// Sets the 0 to 10 scale answer of voice entry `index`; `None` removes it
/// (the question was not asked).
///
/// # Errors
/// [`ModelError::ScaleOutOfRange`] above 10, [`ModelError::IndexOutOfRange`]
/// if there is no such entry.
pub fn set_voice_scale(
    tx: &mut impl Transactable,
    index: usize,
    scale: Option<u8>,
) -> Result<(), ModelError> {
    if let Some(value) = scale.filter(|value| *value > 10) {
        return Err(ModelError::ScaleOutOfRange { value });
    }
    let entry = root_list_entry(tx, "voice", index)?;
    match scale {
        Some(value) => tx.put(&entry, "scale", i64::from(value))?,
        None if tx.get(&entry, "scale")?.is_some() => tx.delete(&entry, "scale")?,
        None => {}
    }
    Ok(())
}

/// Records whether voice entry `index` was read back to the child.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such entry.
pub fn set_voice_read_back(
    tx: &mut impl Transactable,
    index: usize,
    read_back: bool,
) -> Result<(), ModelError> {
    let entry = root_list_entry(tx, "voice", index)?;
    Ok(tx.put(&entry, "readBack", read_back)?)
}

/// Adds an open action and returns its index.
///
/// # Errors
/// [`ModelError::WrongValueType`] if `actions` is not a list.
pub fn add_action(tx: &mut impl Transactable, action: &NewAction) -> Result<usize, ModelError> {
    let (entry, index) = push_root_list_entry(tx, "actions")?;
    tx.put(&entry, "actionId", action.action_id.as_str())?;
    put_text(tx, &entry, "description", &action.description)?;
    if let Some(owner_type) = action.owner_type {
        tx.put(&entry, "ownerType", owner_type.code())?;
    }
    put_text(tx, &entry, "ownerName", &action.owner_name)?;
    if let Some(due_date) = action.due_date {
        tx.put(&entry, "dueDate", due_date.to_string())?;
    }
    tx.put(&entry, "status", ActionStatus::Open.code())?;
    Ok(index)
}

/// Sets the status of action `index`.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such action.
pub fn set_action_status(
    tx: &mut impl Transactable,
    index: usize,
    status: ActionStatus,
) -> Result<(), ModelError> {
    let entry = root_list_entry(tx, "actions", index)?;
    Ok(tx.put(&entry, "status", status.code())?)
}

/// Sets who owns action `index` (`None`: not decided).
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such action.
pub fn set_action_owner_type(
    tx: &mut impl Transactable,
    index: usize,
    owner: Option<ActionOwnerType>,
) -> Result<(), ModelError> {
    let entry = root_list_entry(tx, "actions", index)?;
    match owner {
        Some(owner) => tx.put(&entry, "ownerType", owner.code())?,
        None if tx.get(&entry, "ownerType")?.is_some() => tx.delete(&entry, "ownerType")?,
        None => {}
    }
    Ok(())
}

/// Sets the due date of action `index` as typed (a draft may hold a date that is not
/// real yet, checked on submission); empty text removes it.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such action.
pub fn set_action_due_text(
    tx: &mut impl Transactable,
    index: usize,
    due: &str,
) -> Result<(), ModelError> {
    let entry = root_list_entry(tx, "actions", index)?;
    if due.trim().is_empty() {
        if tx.get(&entry, "dueDate")?.is_some() {
            tx.delete(&entry, "dueDate")?;
        }
        return Ok(());
    }
    Ok(tx.put(&entry, "dueDate", due)?)
}

/// Sets the due date of action `index`.
///
/// # Errors
/// [`ModelError::IndexOutOfRange`] if there is no such action.
pub fn set_action_due_date(
    tx: &mut impl Transactable,
    index: usize,
    due: CalendarDate,
) -> Result<(), ModelError> {
    let entry = root_list_entry(tx, "actions", index)?;
    Ok(tx.put(&entry, "dueDate", due.to_string())?)
}

/// Puts a new text object holding `initial` at `key` of `map`.
pub(crate) fn put_text(
    tx: &mut impl Transactable,
    map: &ObjId,
    key: &str,
    initial: &str,
) -> Result<(), ModelError> {
    let text = tx.put_object(map, key, ObjType::Text)?;
    if !initial.is_empty() {
        tx.splice_text(&text, 0, 0, initial)?;
    }
    Ok(())
}

/// The text object of `field` in list entry `index`, with its path.
pub(super) fn item_text(
    tx: &mut impl Transactable,
    field: ItemTextField,
    index: usize,
) -> Result<(ObjId, String), ModelError> {
    let (list_key, key) = field.keys();
    let entry = root_list_entry(tx, list_key, index)?;
    let path = format!("{list_key}[{index}].{key}");
    let text = object_at(tx, &entry, key, ObjType::Text, || path.clone())?;
    Ok((text, path))
}

/// The topics list of voice entry `index` and the positions holding `topic`.
pub(super) fn topic_positions(
    tx: &mut impl Transactable,
    index: usize,
    topic: VoiceTopic,
) -> Result<(ObjId, Vec<usize>), ModelError> {
    let entry = root_list_entry(tx, "voice", index)?;
    let topics = object_at(tx, &entry, "topics", ObjType::List, || {
        format!("voice[{index}].topics")
    })?;
    let mut positions = Vec::new();
    for position in 0..tx.length(&topics) {
        // A value that is not a string is never this topic, so it is skipped.
        let is_topic = tx.get(&topics, position)?.is_some_and(|(value, id)| {
            string_value(tx, &value, &id, String::new).is_ok_and(|code| code == topic.code())
        });
        if is_topic {
            positions.push(position);
        }
    }
    Ok((topics, positions))
}
