//! Reading oversight back: the decisions and amendments in a visit, the version a sign-off
//! pinned (`visit_at`), the review state and whether a change needs an amendment.

use super::*;

/// Every manager's decision on the visit, sorted by (`at`, `entry_id`).
///
/// # Errors
/// [`ModelError::WrongDocumentType`] or
/// [`ModelError::UnsupportedSchemaVersion`] if the document is not a visit,
/// [`ModelError::MissingField`], [`ModelError::WrongValueType`] or
/// [`ModelError::UnknownCode`] naming the field when an entry cannot be read.
pub fn oversight_entries(doc: &impl ReadDoc) -> Result<Vec<OversightEntry>, ModelError> {
    Ok(oversight_with_ids(doc)?
        .into_iter()
        .map(|(entry, _)| entry)
        .collect())
}

/// Every amendment to the visit, sorted by (`at`, `entry_id`).
///
/// # Errors
/// As [`oversight_entries`].
pub fn amendments(doc: &impl ReadDoc) -> Result<Vec<Amendment>, ModelError> {
    check_header(
        &MapReader::root(doc),
        VISIT_DOCUMENT_TYPE,
        VISIT_SCHEMA_VERSION,
    )?;
    let mut amendments = Vec::new();
    for (entry, _) in entries(doc, AMENDMENTS)? {
        let amendment = Amendment {
            entry_id: entry.required_string("entryId")?,
            reason: entry.string("reason")?.unwrap_or_default(),
            worker_id: entry.string("workerId")?.unwrap_or_default(),
            at: entry.required_timestamp("at")?,
            heads: entry.heads()?,
        };
        if !amendments
            .iter()
            .any(|seen: &Amendment| seen.entry_id == amendment.entry_id)
        {
            amendments.push(amendment);
        }
    }
    sort_small_by(&mut amendments, |a, b| {
        (a.at, &a.entry_id) < (b.at, &b.entry_id)
    });
    Ok(amendments)
}

/// The visit as it was at `heads`.
///
/// # Errors
/// [`ModelError::UnknownHeads`] if `heads` is empty or names a change this
/// document does not hold, and the errors of [`Visit::read`] if the version
/// cannot be read as a visit.
pub fn visit_at(doc: &Automerge, heads: &[ChangeHash]) -> Result<Visit, ModelError> {
    let unknown = || ModelError::UnknownHeads {
        heads: heads.to_vec(),
    };
    if heads.is_empty() {
        return Err(unknown());
    }
    let version = doc.fork_at(heads).map_err(|err| match err {
        AutomergeError::InvalidHash(_) => unknown(),
        other => ModelError::Automerge(other),
    })?;
    Visit::read(&version)
}

/// Where the record stands with its manager.
///
/// With no decision, the state follows `status` (draft or submitted). After
/// a sign-off, the record is still signed off only while its content (every
/// section of [`visit_sections()`](super::visit_sections()) except status and
/// submission time) equals the version signed; otherwise it was amended after
/// sign-off, whether the edits came after the sign-off or concurrently with
/// it. After a return, it is resubmitted once it is submitted again and says
/// something other than the version returned.
///
/// # Errors
/// The errors of [`Visit::read`] and [`oversight_entries`], and
/// [`ModelError::UnknownHeads`] if a decision names a version this document
/// does not hold.
pub fn review(doc: &Automerge) -> Result<Review, ModelError> {
    let current = Visit::read(doc)?;
    let entries = oversight_entries(doc)?;
    let amendments = amendments(doc)?;
    let latest_decision = entries.last().cloned();
    let signed = entries
        .iter()
        .rev()
        .find(|entry| entry.decision == OversightDecision::SignedOff)
        .cloned();
    let since_signed = match &signed {
        Some(entry) => differences(&visit_at(doc, &entry.heads)?, &current),
        None => Vec::new(),
    };
    let state = match &latest_decision {
        None if current.status == Some(VisitStatus::Submitted) => ReviewState::Submitted,
        None => ReviewState::Draft,
        Some(entry) if entry.decision == OversightDecision::SignedOff => {
            if since_signed.is_empty() {
                ReviewState::SignedOff
            } else {
                ReviewState::AmendedAfterSignOff
            }
        }
        Some(entry) => {
            let resubmitted = current.status == Some(VisitStatus::Submitted)
                && !differences(&visit_at(doc, &entry.heads)?, &current).is_empty();
            if resubmitted {
                ReviewState::Resubmitted
            } else {
                ReviewState::Returned
            }
        }
    };
    Ok(Review {
        state,
        latest_decision,
        signed,
        amendments,
        differences: since_signed,
    })
}

/// Whether a worker must give a reason before changing the record: its latest
/// decision is a sign-off and no amendment has been recorded since that
/// sign-off reached the device. Once one has, further edits belong to it.
///
/// # Errors
/// As [`oversight_entries`].
pub fn amendment_required(doc: &Automerge) -> Result<bool, ModelError> {
    let Some((latest, entry_obj)) = oversight_with_ids(doc)?.pop() else {
        return Ok(false);
    };
    if latest.decision != OversightDecision::SignedOff {
        return Ok(false);
    }
    let Some(sign_off_change) = doc.hash_for_opid(&entry_obj) else {
        return Ok(true);
    };
    // An amendment covers the sign-off when the version it amended already
    // held the sign-off: the sign-off's change is not among the changes
    // missing from the amendment's heads.
    let covered = amendments(doc)?.iter().any(|amendment| {
        !amendment.heads.is_empty()
            && amendment
                .heads
                .iter()
                .all(|head| doc.get_change_meta_by_hash(head).is_some())
            && !doc
                .get_changes_meta(&amendment.heads)
                .iter()
                .any(|change| change.hash == sign_off_change)
    });
    Ok(!covered)
}

/// The decisions sorted by (`at`, `entry_id`), each with the id of its map
/// (whose creating change is the change that recorded it).
pub(super) fn oversight_with_ids(
    doc: &impl ReadDoc,
) -> Result<Vec<(OversightEntry, ObjId)>, ModelError> {
    check_header(
        &MapReader::root(doc),
        VISIT_DOCUMENT_TYPE,
        VISIT_SCHEMA_VERSION,
    )?;
    let mut decisions: Vec<(OversightEntry, ObjId)> = Vec::new();
    for (entry, obj) in entries(doc, OVERSIGHT)? {
        let decision = OversightEntry {
            entry_id: entry.required_string("entryId")?,
            decision: entry
                .code("decision")?
                .ok_or_else(|| entry.missing("decision"))?,
            comment: entry.string("comment")?.unwrap_or_default(),
            manager_id: entry.string("managerId")?.unwrap_or_default(),
            manager_name: entry.string("managerName")?.unwrap_or_default(),
            heads: entry.heads()?,
            at: entry.required_timestamp("at")?,
        };
        if !decisions
            .iter()
            .any(|(seen, _)| seen.entry_id == decision.entry_id)
        {
            decisions.push((decision, obj));
        }
    }
    sort_small_by(&mut decisions, |(a, _), (b, _)| {
        (a.at, &a.entry_id) < (b.at, &b.entry_id)
    });
    Ok(decisions)
}

/// Whether a map in the lists at root key `key` has `entryId` `entry_id`. Only the ids are
/// read: inside a transaction, a full read of the entries would be a second copy of the
/// readers in the browser's wasm.
pub(super) fn has_entry(
    doc: &impl ReadDoc,
    key: &'static str,
    entry_id: &str,
) -> Result<bool, ModelError> {
    for (value, list) in doc.get_all(ROOT, key)? {
        if !matches!(value, Value::Object(ObjType::List)) {
            continue;
        }
        for index in 0..doc.length(&list) {
            if let Some((Value::Object(ObjType::Map), entry)) = doc.get(&list, index)?
                && let Some((value, id)) = doc.get(&entry, "entryId")?
                && string_value(doc, &value, &id, String::new).is_ok_and(|id| id == entry_id)
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Appends a new map to the root list `key` (creating the list when missing).
pub(crate) fn push_entry(
    tx: &mut impl Transactable,
    key: &'static str,
) -> Result<ObjId, ModelError> {
    let list = object_at(tx, &ROOT, key, ObjType::List, || key.to_owned())?;
    let end = tx.length(&list);
    Ok(tx.insert_object(&list, end, ObjType::Map)?)
}

/// Writes `heads` as a list of hex strings at `heads` of `map`.
pub(super) fn put_heads(
    tx: &mut impl Transactable,
    map: &ObjId,
    heads: &[ChangeHash],
) -> Result<(), ModelError> {
    let list = tx.put_object(map, "heads", ObjType::List)?;
    for (index, head) in heads.iter().enumerate() {
        tx.insert(&list, index, head.to_string())?;
    }
    Ok(())
}

/// Every map in every list at the root key `key`, with the map's id; a
/// missing key has none.
pub(crate) fn entries<'a, D: ReadDoc>(
    doc: &'a D,
    key: &'static str,
) -> Result<Vec<(Entry<'a, D>, ObjId)>, ModelError> {
    let mut found = Vec::new();
    for (value, list) in doc.get_all(ROOT, key)? {
        if !matches!(value, Value::Object(ObjType::List)) {
            return Err(wrong_type(doc, key.to_owned(), "a list", &value, &list));
        }
        for index in 0..doc.length(&list) {
            let path = format!("{key}[{index}]");
            match doc.get(&list, index)? {
                Some((Value::Object(ObjType::Map), obj)) => found.push((
                    Entry {
                        doc,
                        obj: obj.clone(),
                        path,
                    },
                    obj,
                )),
                Some((value, id)) => return Err(wrong_type(doc, path, "a map", &value, &id)),
                None => {}
            }
        }
    }
    Ok(found)
}

/// Reads the keys of one entry of `oversight` or `amendments`, tolerating
/// strings written as text and numbers written as floats like
/// [`MapReader`] does.
pub(crate) struct Entry<'a, D> {
    doc: &'a D,
    obj: ObjId,
    /// E.g. `"oversight[2]"`.
    path: String,
}

impl<D: ReadDoc> Entry<'_, D> {
    fn path_of(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    fn missing(&self, key: &str) -> ModelError {
        ModelError::MissingField {
            field: self.path_of(key),
        }
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ModelError> {
        self.doc
            .get(&self.obj, key)?
            .map(|(value, id)| string_value(self.doc, &value, &id, || self.path_of(key)))
            .transpose()
    }

    pub(crate) fn required_string(&self, key: &str) -> Result<String, ModelError> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    fn code<T: Coded>(&self, key: &str) -> Result<Option<T>, ModelError> {
        self.string(key)?
            .map(|code| {
                T::from_code(&code).ok_or_else(|| ModelError::UnknownCode {
                    field: self.path_of(key),
                    value: code,
                })
            })
            .transpose()
    }

    pub(crate) fn required_timestamp(&self, key: &str) -> Result<Timestamp, ModelError> {
        let (value, id) = self
            .doc
            .get(&self.obj, key)?
            .ok_or_else(|| self.missing(key))?;
        let millis = match &value {
            Value::Scalar(scalar) => integral(scalar).and_then(|n| u64::try_from(n).ok()),
            Value::Object(_) => None,
        };
        millis.map(Timestamp::from_millis).ok_or_else(|| {
            wrong_type(
                self.doc,
                self.path_of(key),
                "milliseconds since 1970",
                &value,
                &id,
            )
        })
    }

    /// The `heads` list of hex change hashes; a missing key reads as none.
    fn heads(&self) -> Result<Vec<ChangeHash>, ModelError> {
        let path = self.path_of("heads");
        let list = match self.doc.get(&self.obj, "heads")? {
            None => return Ok(Vec::new()),
            Some((Value::Object(ObjType::List), list)) => list,
            Some((value, id)) => return Err(wrong_type(self.doc, path, "a list", &value, &id)),
        };
        let mut heads = Vec::new();
        for index in 0..self.doc.length(&list) {
            let Some((value, id)) = self.doc.get(&list, index)? else {
                continue;
            };
            let item = format!("{path}[{index}]");
            let hex = string_value(self.doc, &value, &id, || item.clone())?;
            let head = hex
                .parse::<ChangeHash>()
                .map_err(|_| ModelError::WrongValueType {
                    field: item,
                    expected: "a change hash",
                    found: format!("the value {hex:?}"),
                })?;
            heads.push(head);
        }
        Ok(heads)
    }
}
