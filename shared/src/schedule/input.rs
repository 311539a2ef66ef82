//! [`ScheduleInput`]: the facts about one child that the schedule is computed
//! from, as plain values (the server reads them from its tables,
//! [`super::schedule_input`] from the documents).

use super::Interval;
use crate::model::{CalendarDate, StatutoryBasis, VisitMaker};

/// Everything the schedule needs to know about one child.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleInput {
    /// The child's placements, current and past, in any order.
    pub placements: Vec<PlacementFacts>,
    /// Reviews of the child's case, held or planned (V6, V7, V14).
    pub reviews: Vec<ReviewFacts>,
    /// Visits to the child, in any order; only qualifying ones count.
    pub visits: Vec<VisitFacts>,
    /// Requests for an additional visit (V10).
    pub requests: Vec<VisitRequestFacts>,
    /// Personal-adviser visit facts once the child is a care leaver (V15).
    pub care_leaver: Option<CareLeaverFacts>,
    /// When the child became looked after, which starts the review
    /// timetable (V14); the earliest placement start when unknown.
    pub became_looked_after: Option<CalendarDate>,
}

/// One placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementFacts {
    /// The placement's id, copied to its requirements.
    pub placement_id: String,
    /// When it started: the clock start `S`.
    pub start: CalendarDate,
    /// When it ended; `None` while it continues.
    pub end: Option<CalendarDate>,
    /// SSDA903 placement type, e.g. `"U1"`; `"T0"` to `"T4"` are temporary.
    pub placement_type: String,
    /// The regulations it is made under, which choose the rules.
    pub basis: StatutoryBasis,
    /// Whether it is intended to last until the child is 18 (V3).
    pub intended_until_18: bool,
    /// Whether it is a designated long-term foster placement (V5).
    pub ltf_designated: bool,
    /// When the child agreed to less frequent visits (V5, reg 28(3A)).
    pub child_agreement: Option<CalendarDate>,
    /// When the care order was made, for a child placed with a parent (V8).
    pub care_order_date: Option<CalendarDate>,
    /// The interval between visits agreed with the IRO and parents for short breaks
    /// (V11), in days, weeks or calendar months.
    pub short_breaks_interval: Option<Interval>,
    /// The interval between visits set for other living arrangements (V9).
    pub other_arrangements_interval: Option<Interval>,
    /// A shorter interval set for this placement; it caps every deadline
    /// and is ignored where the statutory one is shorter.
    pub local_interval: Option<Interval>,
}

/// One review of the child's case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewFacts {
    /// When it is (or was) due, as planned.
    pub due: Option<CalendarDate>,
    /// When it was held; `None` until it is.
    pub held: Option<CalendarDate>,
}

/// One visit to the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFacts {
    /// The visit's id, copied to the requirement it meets.
    pub visit_id: String,
    /// The day of the visit.
    pub date: CalendarDate,
    /// Whether the worker saw the child; a visit without seeing the child never counts.
    pub child_seen: bool,
    /// Whether it was a video call.
    pub location_virtual: bool,
    /// Whether it was a looked-after review meeting rather than a visit.
    pub kind_review_meeting: bool,
    /// Whether its record has been submitted.
    pub submitted: bool,
    /// Whether the kind of visit is recorded: a visit counts once its date, its kind and
    /// whether the child was seen are recorded, submitted or not.
    pub kind_recorded: bool,
    /// Who made it; each rule counts only the visits it names (placement rules a social
    /// worker's, V15 a personal adviser's). `None` (not recorded, as in records from
    /// before it was) counts for every rule.
    pub made_by: Option<VisitMaker>,
    /// Whether its draft was discarded as started in error: then it never counts.
    pub discarded: bool,
}

/// A request for an additional visit (V10), e.g. by the child, the carer,
/// after a complaint or an Ofsted notice of concern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRequestFacts {
    /// The day it was asked for; the visit is due at once.
    pub requested_on: CalendarDate,
    /// Who asked or why, in plain words (e.g. "the child", "complaint").
    pub source: String,
}

/// A care leaver in accommodation under s23B/24B (V15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareLeaverFacts {
    /// When the accommodation was first provided.
    pub accommodation_from: CalendarDate,
    /// Dates of pathway-plan reviews; a visit is due before each.
    pub pathway_reviews: Vec<CalendarDate>,
}
