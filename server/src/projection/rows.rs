//! [`DocumentRows`]: what one document contributes to the projection tables, read from
//! the document alone (pure; no SQL here).
//!
//! The live projection (written with each accepted change) and the rebuild (from stored
//! documents) both go through [`DocumentRows::of`], so they cannot drift apart by
//! construction; `tests/tests/e2e/projection.rs` checks it on real data all the same.
//!
//! What the visit schedule needs is kept as the schedule's own facts
//! ([`PlacementFacts`], [`ReviewFacts`], [`CareLeaverFacts`], [`VisitFacts`]), made by the
//! one conversion from documents in `shared::schedule` that the worker's device uses
//! too: the tables store those facts field for field and the dashboard reads them back
//! field for field (`tables`, `dashboard`), so the two cannot read a document
//! differently.

use automerge::{Automerge, ReadDoc};
use shared::model::{
    self, CalendarDate, Child, ReviewState, VisitLocation, VisitStatus, VisitSummary,
    oversight_entries, single_value_conflicts,
};
use shared::schedule::{
    CareLeaverFacts, PlacementFacts, ReviewFacts, SchedulePolicy, VisitFacts, child_facts,
    is_late_write_up, review_facts, visit_facts,
};
use shared::sync::Timestamp;

/// The rows of one document.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentRows {
    /// A child document.
    Child(Box<ChildRows>),
    /// A visit document.
    Visit(Box<VisitRows>),
    /// Neither (an empty or unknown document): it has no rows.
    Other,
}

/// A child document's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRows {
    /// The council's case reference (`childId`).
    pub child_ref: String,
    /// Legal name.
    pub legal_name: Option<String>,
    /// Preferred name.
    pub preferred_name: Option<String>,
    /// Date of birth as stored.
    pub date_of_birth: Option<String>,
    /// When the child became looked after (the schedule's fact: a real date).
    pub became_looked_after: Option<CalendarDate>,
    /// Care-leaver facts.
    pub care_leaver: Option<CareLeaverFacts>,
    /// The current placement's facts.
    pub placement: Option<PlacementFacts>,
    /// Reviews of the child's case.
    pub reviews: Vec<ReviewRow>,
}

/// A review row: the review's id and its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    /// The review's id.
    pub review_id: String,
    /// Its facts.
    pub facts: ReviewFacts,
}

/// A visit document's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRows {
    /// The visit's id.
    pub visit_id: String,
    /// The child's case reference.
    pub child_ref: String,
    /// The visiting worker's username.
    pub worker_ref: String,
    /// Visit date as stored.
    pub visit_date: Option<String>,
    /// Visit kind code.
    pub visit_kind: Option<String>,
    /// Location code.
    pub location: Option<String>,
    /// Child seen.
    pub child_seen: Option<bool>,
    /// Child seen alone.
    pub seen_alone: Option<bool>,
    /// `draft` or `submitted`.
    pub status: Option<String>,
    /// Where the record stands with its manager.
    pub review_state: &'static str,
    /// Device time the record was created, ms.
    pub created_at: Option<i64>,
    /// Device time it was last submitted, ms.
    pub submitted_at: Option<i64>,
    /// Written up later than the allowed working days after the visit.
    pub late: bool,
    /// What the schedule knows of it (`None` without a real date).
    pub facts: Option<VisitFacts>,
    /// Answers two devices gave differently, not yet settled by a person.
    pub open_conflicts: usize,
    /// Who made it (`socialWorker`, `personalAdviser`), as recorded.
    pub made_by: Option<String>,
    /// Whether its draft was discarded.
    pub discarded: bool,
    /// Why it was discarded and by whom (`reason`, `workerId`), for the audit log.
    pub discard: Option<(String, String)>,
    /// The heads projected, hex, comma separated.
    pub heads: String,
    /// Actions agreed.
    pub actions: Vec<ActionRow>,
    /// Sign-offs and returns.
    pub sign_offs: Vec<SignOffRow>,
    /// Amendments after sign-off.
    pub amendments: Vec<AmendmentRow>,
}

/// An action row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    /// The action's id.
    pub action_id: String,
    /// What will be done.
    pub description: String,
    /// Owner type code.
    pub owner_type: Option<String>,
    /// Who owns it.
    pub owner_name: String,
    /// Due date as stored.
    pub due_date: Option<String>,
    /// Status code.
    pub status: Option<String>,
}

/// A sign-off (or return) row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffRow {
    /// The entry's id.
    pub entry_id: String,
    /// `signedOff` or `returned`.
    pub decision: String,
    /// The manager's comment or reason.
    pub comment: String,
    /// The manager's username.
    pub manager_ref: String,
    /// The version decided on, hex, comma separated.
    pub heads: String,
    /// Server time, ms.
    pub at: i64,
}

/// An amendment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentRow {
    /// The entry's id.
    pub entry_id: String,
    /// Why the worker changed a signed-off record.
    pub reason: String,
    /// The worker's username.
    pub worker_ref: String,
    /// Device time, ms.
    pub at: i64,
}

impl DocumentRows {
    /// Reads the rows of `doc`. A document that is neither a readable child nor a readable
    /// visit has none (drafts are partial, so unreadable parts are left out, not refused).
    pub fn of(doc: &Automerge, policy: &SchedulePolicy) -> DocumentRows {
        match document_type(doc).as_deref() {
            Some(model::CHILD_DOCUMENT_TYPE) => match Child::read(doc) {
                Ok(child) => DocumentRows::Child(Box::new(child_rows(&child))),
                Err(_) => DocumentRows::Other,
            },
            Some(model::VISIT_DOCUMENT_TYPE) => match VisitSummary::read(doc) {
                Ok(visit) => DocumentRows::Visit(Box::new(visit_rows(doc, &visit, policy))),
                Err(_) => DocumentRows::Other,
            },
            _ => DocumentRows::Other,
        }
    }
}

fn document_type(doc: &Automerge) -> Option<String> {
    match doc.get(automerge::ROOT, "type").ok()?? {
        (automerge::Value::Scalar(scalar), _) => match scalar.as_ref() {
            automerge::ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn child_rows(child: &Child) -> ChildRows {
    let facts = child_facts(child);
    ChildRows {
        child_ref: child.child_id.clone(),
        legal_name: child.legal_name.clone(),
        preferred_name: child.preferred_name.clone(),
        date_of_birth: child.date_of_birth.clone(),
        became_looked_after: facts.became_looked_after,
        care_leaver: facts.care_leaver,
        // A child document holds one placement, the current one.
        placement: facts.placements.into_iter().next(),
        reviews: child
            .reviews
            .iter()
            .filter_map(|review| {
                Some(ReviewRow {
                    review_id: review.review_id.clone(),
                    facts: review_facts(review)?,
                })
            })
            .collect(),
    }
}

fn visit_rows(doc: &Automerge, visit: &VisitSummary, policy: &SchedulePolicy) -> VisitRows {
    let entries = oversight_entries(doc).unwrap_or_default();
    // Comparing versions costs a fork of the document: only visits a manager has decided
    // on need it; the others' state follows from their status.
    let review_state = if entries.is_empty() {
        match visit.status {
            Some(VisitStatus::Submitted) => ReviewState::Submitted,
            _ => ReviewState::Draft,
        }
    } else {
        model::review(doc)
            .map(|review| review.state)
            .unwrap_or(ReviewState::Submitted)
    };
    let late = match (
        visit.visit_date.as_deref().and_then(CalendarDate::parse),
        visit.submitted_at,
    ) {
        (Some(date), Some(submitted)) => is_late_write_up(date, date_of(submitted), policy),
        _ => false,
    };
    let heads: Vec<String> = doc.get_heads().iter().map(ToString::to_string).collect();
    VisitRows {
        visit_id: visit.visit_id.clone(),
        child_ref: visit.child_id.clone(),
        worker_ref: visit.worker_id.clone(),
        visit_date: visit.visit_date.clone(),
        visit_kind: visit
            .visit_kind
            .map(|kind| model::Coded::code(kind).to_owned()),
        location: visit
            .location
            .map(|location: VisitLocation| model::Coded::code(location).to_owned()),
        child_seen: visit.child_seen,
        seen_alone: visit.seen_alone,
        status: visit
            .status
            .map(|status| model::Coded::code(status).to_owned()),
        review_state: review_state.as_str(),
        created_at: visit.created_at.map(|time| time.as_millis() as i64),
        submitted_at: visit.submitted_at.map(|time| time.as_millis() as i64),
        late,
        facts: visit_facts(visit),
        open_conflicts: single_value_conflicts(doc).len(),
        made_by: visit
            .made_by
            .map(|maker| model::Coded::code(maker).to_owned()),
        discarded: visit.discarded,
        discard: model::discard_of(doc)
            .ok()
            .flatten()
            .map(|discard| (discard.reason, discard.worker_id)),
        heads: heads.join(","),
        actions: visit
            .actions
            .iter()
            .map(|action| ActionRow {
                action_id: action.action_id.clone(),
                description: action.description.clone(),
                owner_type: action
                    .owner_type
                    .map(|owner| model::Coded::code(owner).to_owned()),
                owner_name: action.owner_name.clone(),
                due_date: action.due_date.clone(),
                status: action
                    .status
                    .map(|status| model::Coded::code(status).to_owned()),
            })
            .collect(),
        sign_offs: entries
            .iter()
            .map(|entry| SignOffRow {
                entry_id: entry.entry_id.clone(),
                decision: model::Coded::code(entry.decision).to_owned(),
                comment: entry.comment.clone(),
                manager_ref: entry.manager_id.clone(),
                heads: join_heads(&entry.heads),
                at: entry.at.as_millis() as i64,
            })
            .collect(),
        amendments: model::amendments(doc)
            .unwrap_or_default()
            .iter()
            .map(|amendment| AmendmentRow {
                entry_id: amendment.entry_id.clone(),
                reason: amendment.reason.clone(),
                worker_ref: amendment.worker_id.clone(),
                at: amendment.at.as_millis() as i64,
            })
            .collect(),
    }
}

/// Change hashes as the projection stores them: hex, comma separated.
pub fn join_heads(heads: &[automerge::ChangeHash]) -> String {
    heads
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The UK calendar date of a timestamp (statutory timescales run on local dates).
pub fn date_of(time: Timestamp) -> CalendarDate {
    model::uk_civil_date(time.as_millis())
}
