//! The one error type of the model layer.
//!
//! Reading never panics on document content: anything unexpected in a
//! document (a wrong type, an unknown code, a newer schema) becomes a
//! [`ModelError`] naming the field. Edits report out-of-range positions the
//! same way instead of passing them on to automerge.

use automerge::{AutomergeError, ChangeHash};
use thiserror::Error;

/// Why a document could not be read or edited through the typed model.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The root `type` key names another kind of document, or is missing.
    #[error("expected a {expected} document but its type is {found:?}")]
    WrongDocumentType {
        /// The document type the caller asked for, e.g. `"visit"`.
        expected: &'static str,
        /// The `type` found in the document, `None` when the key is missing.
        found: Option<String>,
    },
    /// The document was written by a newer (or unknown) schema version.
    #[error(
        "{document} schema version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedSchemaVersion {
        /// The document type, e.g. `"visit"`.
        document: &'static str,
        /// The `schemaVersion` found in the document.
        found: i64,
        /// The version this build understands.
        supported: u64,
    },
    /// A field that every document of this type must have is missing.
    #[error("required field {field} is missing")]
    MissingField {
        /// Path of the field, e.g. `"visitId"` or `"voice[2].entryId"`.
        field: String,
    },
    /// A field holds a value of the wrong kind, e.g. a number where a
    /// yes/no answer belongs.
    #[error("field {field} holds {found} where {expected} was expected")]
    WrongValueType {
        /// Path of the field.
        field: String,
        /// What the schema says belongs there, e.g. `"a boolean"`.
        expected: &'static str,
        /// What was found, e.g. `"a list"` or `"the number 3.5"`.
        found: String,
    },
    /// A coded field holds a code this build does not know.
    #[error("field {field} has unknown code {value:?}")]
    UnknownCode {
        /// Path of the field.
        field: String,
        /// The code found in the document.
        value: String,
    },
    /// An edit named a list entry that does not exist.
    #[error("index {index} is out of range for {field} (length {len})")]
    IndexOutOfRange {
        /// Path of the list, e.g. `"voice"`.
        field: String,
        /// The index asked for.
        index: usize,
        /// The length of the list.
        len: usize,
    },
    /// A text edit reaches past the end of the text.
    #[error("deleting {delete} at position {pos} is out of bounds for {field} (length {len})")]
    TextRangeOutOfBounds {
        /// Path of the text field.
        field: String,
        /// Where the edit starts, in the document's text units.
        pos: usize,
        /// How many units the edit deletes.
        delete: usize,
        /// The length of the text.
        len: usize,
    },
    /// A scale answer outside 0 to 10.
    #[error("scale value {value} is outside 0 to 10")]
    ScaleOutOfRange {
        /// The value that was refused.
        value: u8,
    },
    /// A document can only be created in an empty automerge document.
    #[error("cannot create a {document} document over existing content")]
    DocumentNotEmpty {
        /// The document type that was being created.
        document: &'static str,
    },
    /// Heads that name no version of this document: a change it does not
    /// hold, or no change at all.
    #[error("this record has no version at heads [{}]", join_heads(.heads))]
    UnknownHeads {
        /// The heads asked for.
        heads: Vec<ChangeHash>,
    },
    /// A manager decided on a version of the record that was not submitted.
    #[error("only a submitted record can be signed off or returned")]
    NotSubmitted,
    /// An amendment to a record without a reason for it (domain requirement D4).
    #[error("an amendment needs a reason")]
    EmptyAmendmentReason,
    /// A list entry is no longer where the screen saw it (another device changed the
    /// list meanwhile), so the edit that named it was not made.
    #[error("{field}[{index}] is no longer the entry you chose; look again and retry")]
    EntryMoved {
        /// The list, e.g. `"actions"`.
        field: String,
        /// The index asked for.
        index: usize,
    },
    /// A draft is discarded only with a reason.
    #[error("say why you are discarding this draft")]
    EmptyDiscardReason,
    /// Only a draft that was never submitted can be discarded.
    #[error("only a draft that was never submitted can be discarded")]
    NotADraft,
    /// An entry id already names a different entry in an append-only list.
    #[error("{field} already holds a different entry with id {entry_id:?}")]
    DuplicateEntry {
        /// The list, e.g. `"oversight"`.
        field: &'static str,
        /// The id that is taken.
        entry_id: String,
    },
    /// A manager's correction (a move or an expunge) without a reason: the record must say
    /// why it was changed.
    #[error("say why you are correcting this record")]
    EmptyCorrectionReason,
    /// A move to the child the record is already filed under.
    #[error("the record is already filed under child {child_id}")]
    AlreadyFiledUnder {
        /// The child named as the move's target.
        child_id: String,
    },
    /// An expunge naming no passage, or an empty one (which would match everywhere).
    #[error("name each passage to remove; an empty passage removes nothing")]
    EmptyPassage,
    /// A passage to expunge that the record does not hold as it stands now.
    #[error("the record does not contain the passage {0:?}: copy it exactly as it reads")]
    PassageNotFound(String),
    /// Automerge refused an operation, e.g. because an object id is stale.
    #[error("automerge operation failed")]
    Automerge(#[from] AutomergeError),
}

/// Change hashes as hex, separated by commas, for messages.
fn join_heads(heads: &[ChangeHash]) -> String {
    heads
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
