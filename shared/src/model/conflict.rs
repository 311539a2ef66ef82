//! Finding and settling concurrent answers to the same question.
//!
//! When two devices set the same single-value key while apart (one records
//! "seen alone: yes", the other "no"), automerge keeps both values after
//! merging and `get` picks one deterministically. Doorstep never lets that
//! pick stand silently (domain requirement D13): [`single_value_conflicts`]
//! lists every such key with all its values for a person to choose from, and
//! [`resolve_conflict`] writes the chosen value. A plain put supersedes every
//! value it has seen, so once the resolving change has reached the other
//! devices the conflict is gone everywhere.
//!
//! Two devices that gave the same answer while apart have not disagreed: automerge still
//! holds both values, but they are one candidate and no conflict. An answer that does
//! not apply given another (the reason for not being seen alone, once the child was
//! seen alone) is not a conflict either. Each candidate names the operation that wrote
//! it, so [`super::change_origin`] can say who chose it, on which device and when.
//!
//! Text fields are not covered here: automerge merges them by character.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::ModelError;
use super::read::{describe_scalar, integral, render_value};

/// The single-value keys at the root of a visit document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitScalarField {
    /// `schemaVersion`
    SchemaVersion,
    /// `type`
    DocumentType,
    /// `visitId`
    VisitId,
    /// `childId`
    ChildId,
    /// `workerId`
    WorkerId,
    /// `visitDate`
    VisitDate,
    /// `visitKind`
    VisitKind,
    /// `location`
    Location,
    /// `announced`
    Announced,
    /// `childSeen`
    ChildSeen,
    /// `seenAlone`
    SeenAlone,
    /// `notAloneReason`
    NotAloneReason,
    /// `bedroomSeen`
    BedroomSeen,
    /// `welfareSafeguarded`
    WelfareSafeguarded,
    /// `status`
    Status,
    /// `createdAt`
    CreatedAt,
    /// `madeBy`
    MadeBy,
}

/// What kind of value a [`VisitScalarField`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Boolean,
    WholeNumber,
    String,
}

impl VisitScalarField {
    /// Every single-value root key, in form order.
    pub const ALL: [VisitScalarField; 17] = [
        Self::SchemaVersion,
        Self::DocumentType,
        Self::VisitId,
        Self::ChildId,
        Self::WorkerId,
        Self::VisitDate,
        Self::VisitKind,
        Self::Location,
        Self::Announced,
        Self::ChildSeen,
        Self::SeenAlone,
        Self::NotAloneReason,
        Self::BedroomSeen,
        Self::WelfareSafeguarded,
        Self::Status,
        Self::CreatedAt,
        Self::MadeBy,
    ];

    /// The document key, e.g. `"seenAlone"`.
    pub fn key(self) -> &'static str {
        match self {
            Self::SchemaVersion => "schemaVersion",
            Self::DocumentType => "type",
            Self::VisitId => "visitId",
            Self::ChildId => "childId",
            Self::WorkerId => "workerId",
            Self::VisitDate => "visitDate",
            Self::VisitKind => "visitKind",
            Self::Location => "location",
            Self::Announced => "announced",
            Self::ChildSeen => "childSeen",
            Self::SeenAlone => "seenAlone",
            Self::NotAloneReason => "notAloneReason",
            Self::BedroomSeen => "bedroomSeen",
            Self::WelfareSafeguarded => "welfareSafeguarded",
            Self::Status => "status",
            Self::CreatedAt => "createdAt",
            Self::MadeBy => "madeBy",
        }
    }

    fn kind(self) -> ValueKind {
        match self {
            Self::Announced | Self::ChildSeen | Self::SeenAlone | Self::WelfareSafeguarded => {
                ValueKind::Boolean
            }
            Self::SchemaVersion | Self::CreatedAt => ValueKind::WholeNumber,
            _ => ValueKind::String,
        }
    }
}

/// A key that holds more than one different value after a merge.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldConflict {
    /// The key in conflict.
    pub field: VisitScalarField,
    /// Every different value it holds, in automerge's (deterministic) order; a value
    /// two devices both chose appears once.
    pub candidates: Vec<ConflictCandidate>,
}

/// One of the values of a key in conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictCandidate {
    /// The value as shown to a person, e.g. `"Yes"`, `"refused"`, `"2024-03-01"`.
    pub display: String,
    /// The value to pass to [`resolve_conflict`] if this one is chosen; a
    /// value written as a text object appears here as a string.
    pub value: ScalarValue,
    /// The operation that wrote it (the first, when two devices wrote the same value),
    /// for [`super::change_origin`].
    pub op: ObjId,
}

/// Every single-value root key of a visit that holds more than one different value,
/// leaving out answers that do not apply (see the module documentation).
///
/// A value that is a map or list (never valid for these keys) still counts
/// towards the conflict but is not offered as a candidate.
pub fn single_value_conflicts(doc: &impl ReadDoc) -> Vec<FieldConflict> {
    let settled = |key: &str| -> Option<bool> {
        match doc.get_all(ROOT, key).unwrap_or_default().as_slice() {
            [(Value::Scalar(scalar), _)] => match scalar.as_ref() {
                ScalarValue::Boolean(value) => Some(*value),
                _ => None,
            },
            _ => None,
        }
    };
    let child_seen = settled("childSeen");
    let seen_alone = settled("seenAlone");
    VisitScalarField::ALL
        .into_iter()
        .filter(|field| match field {
            VisitScalarField::SeenAlone => child_seen != Some(false),
            VisitScalarField::NotAloneReason => {
                child_seen != Some(false) && seen_alone != Some(true)
            }
            _ => true,
        })
        .filter_map(|field| {
            // Reading a key of the root map cannot fail; treat a failure as no values.
            let values = doc.get_all(ROOT, field.key()).unwrap_or_default();
            if values.len() < 2 {
                return None;
            }
            let mut candidates: Vec<ConflictCandidate> = Vec::with_capacity(values.len());
            let mut others = false;
            for (value, id) in &values {
                let scalar = match value {
                    Value::Scalar(scalar) => scalar.as_ref().clone(),
                    Value::Object(ObjType::Text) => match doc.text(id) {
                        Ok(text) => ScalarValue::Str(text.into()),
                        Err(_) => continue,
                    },
                    Value::Object(_) => {
                        others = true;
                        continue;
                    }
                };
                if !candidates.iter().any(|known| known.value == scalar) {
                    candidates.push(ConflictCandidate {
                        display: render_value(doc, value, id),
                        value: scalar,
                        op: id.clone(),
                    });
                }
            }
            (candidates.len() > 1 || others).then_some(FieldConflict { field, candidates })
        })
        .collect()
}

/// Settles a conflict on `field` by writing `chosen`, which supersedes every
/// value this document has seen.
///
/// # Errors
/// [`ModelError::WrongValueType`] if `chosen` is not the kind of value the
/// field holds (a boolean, a whole number or a string).
pub fn resolve_conflict(
    tx: &mut impl Transactable,
    field: VisitScalarField,
    chosen: &ScalarValue,
) -> Result<(), ModelError> {
    let (fits, expected) = match field.kind() {
        ValueKind::Boolean => (matches!(chosen, ScalarValue::Boolean(_)), "a boolean"),
        ValueKind::WholeNumber => (integral(chosen).is_some(), "a whole number"),
        ValueKind::String => (matches!(chosen, ScalarValue::Str(_)), "a string"),
    };
    if !fits {
        let found = format!("the value {}", describe_scalar(chosen));
        return Err(ModelError::WrongValueType {
            field: field.key().to_owned(),
            expected,
            found,
        });
    }
    tx.put(ROOT, field.key(), chosen.clone())?;
    if let ScalarValue::Boolean(value) = chosen {
        super::visit_edit::settle_dependents(tx, field.key(), *value)?;
    }
    Ok(())
}
