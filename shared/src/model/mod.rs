//! Doorstep's domain documents as automerge schemas with typed accessors.
//!
//! Each record is one automerge document with a fixed camelCase layout that
//! the JavaScript (automerge-repo) client writes too. This module turns those
//! documents into plain Rust values and back, by hand, without a derive
//! layer, so the stored layout stays exactly as documented.
//!
//! # Layout
//! - [`visit`]: the [`Visit`] document and its coded answers; reading.
//! - [`visit_edit`]: [`create_visit`] and the typed edits the UI makes.
//! - [`child`]: the [`Child`] document with its [`Placement`], [`CaseReview`]s and
//!   [`CareLeaver`] facts; reading and writing.
//! - [`problem`]: [`Problem`]s that stop a record being submitted.
//! - [`conflict`]: answers two devices set differently, and settling them.
//! - [`oversight`]: managers' sign-offs and returns, workers' amendments,
//!   earlier versions ([`visit_at`]) and where a record stands ([`review`]).
//! - [`visit_sections`](mod@visit_sections): a visit as the plain-words
//!   [`VisitSection`]s a manager reads, and the [`SectionDifference`]s between versions.
//! - [`wording`]: the one wording of a visit's fields, coded answers and form sections
//!   ([`Worded`], [`FormSection`]), which the screens and the prints share.
//! - [`provenance`]: who last changed each section, and when; who wrote an answer
//!   ([`ChangeAuthor`], [`change_origin`]).
//! - [`removal`]: removing list entries (kept in the `removals` log) and discarding a
//!   draft started in error.
//! - `typing`: [`merge_typing`], a keystroke applied to text that changed meanwhile
//!   ([`type_text`], [`type_item_text`]).
//! - [`date`]: [`CalendarDate`], the `"YYYY-MM-DD"` dates in documents.
//! - [`integrity`]: who may write which field; the checks run on every change a peer sends.
//! - [`correction`]: a misfiled visit moved to the right child, or rebuilt without expunged
//!   passages as a new document, and a device's offline edits carried over onto it.
//! - `ownership`: [`visit_child_id`], which child a new document belongs to (access checks).
//! - `read`, `write`: tolerant readers and checked writers used by the above.
//!
//! # Typical workflow
//! ```
//! use automerge::{transaction::Transactable, AutoCommit};
//! use shared::model::{self, CalendarDate, NewVisit, TextField, Visit};
//! use shared::sync::Timestamp;
//!
//! let mut doc = AutoCommit::new();
//! let visit_date = CalendarDate::parse("2024-03-01").expect("a real date");
//! let new_visit = NewVisit {
//!     visit_id: "visit-1".into(),
//!     child_id: "child-1".into(),
//!     worker_id: "worker-1".into(),
//!     visit_date,
//!     created_at: Timestamp::from_millis(1_709_280_000_000),
//! };
//! model::create_visit(&mut doc, &new_visit)?;
//! model::append_text(&mut doc, TextField::Purpose, "Six-weekly statutory visit")?;
//! model::set_seen_alone(&mut doc, true)?;
//! let visit = Visit::read(&doc)?;
//! let problems = visit.problems_for_submission("2024-03-02");
//! assert!(problems.iter().any(|problem| problem.field == "observations"));
//! # Ok::<(), shared::model::ModelError>(())
//! ```
//!
//! Reading is tolerant of how JavaScript writes values (strings as text
//! objects, numbers as floats) and never panics: anything it cannot
//! understand is a [`ModelError`] naming the field.

pub mod child;
mod coded;
pub mod conflict;
pub mod correction;
pub mod date;
mod error;
pub mod integrity;
pub mod oversight;
mod ownership;
pub mod problem;
pub mod provenance;
mod read;
pub mod removal;
mod typing;
pub mod visit;
pub mod visit_edit;
pub mod visit_sections;
pub mod wording;
mod write;

#[cfg(test)]
mod correction_tests;
#[cfg(test)]
mod date_tests;
#[cfg(test)]
mod integrity_tests;
#[cfg(test)]
mod merge_tests;
#[cfg(test)]
mod oversight_tests;
#[cfg(test)]
mod problem_tests;
#[cfg(test)]
mod record_tests;
#[cfg(test)]
mod round_trip_tests;
#[cfg(test)]
mod section_tests;
#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod wording_tests;

pub use child::{
    CHILD_DOCUMENT_TYPE, CHILD_SCHEMA_VERSION, CareLeaver, CaseReview, Child, NewCareLeaver,
    NewCaseReview, NewChild, NewPlacement, Placement, PlacementProvider, StatutoryBasis,
    add_case_review, create_child, set_care_leaver, set_placement,
};
pub use coded::Coded;
pub use conflict::{
    ConflictCandidate, FieldConflict, VisitScalarField, resolve_conflict, single_value_conflicts,
};
pub use date::{CalendarDate, is_leap_year, uk_civil_date};
pub use error::ModelError;
pub use integrity::{IntegrityViolation, check_new_visit, check_peer_change};
pub use oversight::{
    Amendment, OversightDecision, OversightEntry, Review, ReviewState, add_amendment,
    amendment_required, amendments, oversight_entries, record_amendment, record_oversight,
    record_oversight_by, review, visit_at,
};
pub use ownership::{visit_child_id, visit_created_at, visit_worker_id};
pub use problem::{Problem, new_action_problems, submission_problems};
pub use provenance::{
    ChangeAuthor, ChangeOrigin, SectionProvenance, batch_of_each_change, change_origin,
    section_provenance,
};
pub use removal::{
    Removal, RemovedBy, VisitList, discard_of, discard_visit, removals, remove_list_entry,
};
pub use typing::merge_typing;
pub use visit::{
    Action, ActionOwnerType, ActionStatus, BedroomSeen, Discard, NotAloneReason, PersonPresent,
    VISIT_DOCUMENT_TYPE, VISIT_SCHEMA_VERSION, Visit, VisitKind, VisitLocation, VisitMaker,
    VisitStatus, VisitSummary, VoiceEntry, VoiceTopic,
};
pub use visit_edit::{
    ItemTextField, NewAction, NewVisit, TextField, add_action, add_person, add_person_present,
    add_voice_entry, add_voice_topic, append_child_words, append_text, create_visit,
    remove_voice_topic, set_action_due_date, set_action_due_text, set_action_owner_type,
    set_action_status, set_announced, set_bedroom_seen, set_child_seen, set_location, set_made_by,
    set_not_alone_reason, set_paraphrase, set_seen_alone, set_status, set_visit_date,
    set_visit_kind, set_voice_read_back, set_voice_scale, set_welfare_safeguarded,
    splice_child_words, splice_item_text, splice_text, submit_visit, type_item_text, type_text,
    update_item_text, update_text,
};
pub use visit_sections::{SectionDifference, VisitSection, differences, visit_sections};
pub use wording::{FormSection, Worded};
