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
//! Text fields are not covered here: automerge merges them by character.

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, Value};

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
    pub const ALL: [VisitScalarField; 16] = [
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

/// A key that holds more than one value after a merge.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldConflict {
    /// The key in conflict.
    pub field: VisitScalarField,
    /// Every value it holds, in automerge's (deterministic) order.
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
}

/// Every single-value root key of a visit that holds more than one value.
///
/// A value that is a map or list (never valid for these keys) still counts
/// towards the conflict but is not offered as a candidate.
pub fn single_value_conflicts(doc: &impl ReadDoc) -> Vec<FieldConflict> {
    VisitScalarField::ALL
        .into_iter()
        .filter_map(|field| {
            // Reading a key of the root map cannot fail; treat a failure as no values.
            let values = doc.get_all(ROOT, field.key()).unwrap_or_default();
            (values.len() > 1).then(|| FieldConflict {
                field,
                candidates: values
                    .iter()
                    .filter_map(|(value, id)| {
                        let scalar = match value {
                            Value::Scalar(scalar) => scalar.as_ref().clone(),
                            Value::Object(ObjType::Text) => {
                                ScalarValue::Str(doc.text(id).ok()?.into())
                            }
                            Value::Object(_) => return None,
                        };
                        Some(ConflictCandidate {
                            display: render_value(doc, value, id),
                            value: scalar,
                        })
                    })
                    .collect(),
            })
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
    Ok(tx.put(ROOT, field.key(), chosen.clone())?)
}
