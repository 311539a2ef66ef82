//! The one conversion from documents to the schedule's facts: [`child_facts`] reads a
//! child document's facts, [`visit_facts`] one visit's, and [`schedule_input`] puts them
//! together. The device (the worker's caseload) and the server (the projection the
//! dashboard reads) both go through these functions, so the two can only disagree if
//! their documents do.

use super::{
    CareLeaverFacts, ChildSchedule, PlacementFacts, ReviewFacts, ScheduleInput, SchedulePolicy,
    VisitFacts, child_schedule,
};
use crate::model::{
    CalendarDate, CareLeaver, CaseReview, Child, Placement, StatutoryBasis, Visit, VisitLocation,
    VisitStatus, VisitSummary,
};

/// The facts in `child` and in those of `visits` that are about this child.
///
/// Documents are drafts written offline, so anything the schedule cannot
/// use is left out rather than refused (see [`child_facts`] and [`visit_facts`]).
/// Ad-hoc visit requests (V10) are not in the documents: `requests` is empty for the
/// caller to fill.
pub fn schedule_input(child: &Child, visits: &[Visit]) -> ScheduleInput {
    let summaries: Vec<VisitSummary> = visits.iter().map(Visit::summary).collect();
    schedule_input_of_summaries(child, &summaries)
}

/// The child's schedule on `today` from their documents: what the worker's device shows
/// on the caseload, and what the team dashboard shows for the same documents (the
/// dashboard reads the same facts back from its projection).
pub fn documents_schedule(
    child: &Child,
    visits: &[VisitSummary],
    policy: &SchedulePolicy,
    today: CalendarDate,
) -> ChildSchedule {
    child_schedule(&schedule_input_of_summaries(child, visits), policy, today)
}

/// As [`schedule_input`], from visit summaries (what listings hold).
pub fn schedule_input_of_summaries(child: &Child, visits: &[VisitSummary]) -> ScheduleInput {
    let mut input = child_facts(child);
    input.visits = visits
        .iter()
        .filter(|visit| visit.child_id == child.child_id)
        .filter_map(visit_facts)
        .collect();
    input
}

/// The child document's facts: placements, reviews, care-leaver facts and when the child
/// became looked after (no visits, no requests).
///
/// Left out: a placement without a real start date, a review or pathway-review date that
/// is not a real date, care-leaver facts without a real accommodation date. A placement
/// end date that is not a real date counts as not recorded. A placement without a
/// statutory basis is treated as standard (V1 to V5).
pub fn child_facts(child: &Child) -> ScheduleInput {
    ScheduleInput {
        placements: child.placement.iter().filter_map(placement_facts).collect(),
        reviews: child.reviews.iter().filter_map(review_facts).collect(),
        visits: Vec::new(),
        requests: Vec::new(),
        care_leaver: child.care_leaver.as_ref().and_then(care_leaver_facts),
        became_looked_after: date(&child.became_looked_after),
    }
}

/// A placement's facts, or `None` without a real start date (see [`child_facts`]).
pub fn placement_facts(placement: &Placement) -> Option<PlacementFacts> {
    Some(PlacementFacts {
        placement_id: placement.placement_id.clone(),
        start: date(&placement.start_date)?,
        end: date(&placement.end_date),
        placement_type: placement.placement_type.clone().unwrap_or_default(),
        basis: placement
            .statutory_basis
            .unwrap_or(StatutoryBasis::Standard),
        intended_until_18: placement.intended_until_18.unwrap_or(false),
        ltf_designated: placement.ltf_designated.unwrap_or(false),
        child_agreement: date(&placement.child_agreement_date),
        care_order_date: date(&placement.care_order_date),
        short_breaks_interval: placement.short_breaks_interval,
        other_arrangements_interval: placement.other_arrangements_interval,
        local_interval: placement.local_interval,
    })
}

/// A review's facts, or `None` when neither of its dates is a real date.
pub fn review_facts(review: &CaseReview) -> Option<ReviewFacts> {
    let facts = ReviewFacts {
        due: date(&review.due_date),
        held: date(&review.held_date),
    };
    (facts.due.is_some() || facts.held.is_some()).then_some(facts)
}

/// Care-leaver facts, or `None` without a real accommodation date; pathway-review dates
/// that are not real dates are left out.
pub fn care_leaver_facts(leaver: &CareLeaver) -> Option<CareLeaverFacts> {
    Some(CareLeaverFacts {
        accommodation_from: date(&leaver.accommodation_from)?,
        pathway_reviews: leaver
            .pathway_reviews
            .iter()
            .filter_map(|text| CalendarDate::parse(text))
            .collect(),
    })
}

/// A stored date, if it is a real one.
fn date(text: &Option<String>) -> Option<CalendarDate> {
    text.as_deref().and_then(CalendarDate::parse)
}

/// One visit's facts, or `None` when it has no real date (it cannot count yet). The
/// visit document has no review-meeting kind, so no visit is one.
pub fn visit_facts(visit: &VisitSummary) -> Option<VisitFacts> {
    Some(VisitFacts {
        visit_id: visit.visit_id.clone(),
        date: visit.visit_date.as_deref().and_then(CalendarDate::parse)?,
        child_seen: visit.child_seen == Some(true),
        location_virtual: visit.location == Some(VisitLocation::Virtual),
        kind_review_meeting: false,
        // Any status past a draft (submitted, or later ones) has been submitted.
        submitted: visit
            .status
            .is_some_and(|status| status != VisitStatus::Draft),
        kind_recorded: visit.visit_kind.is_some(),
        made_by: visit.made_by,
        discarded: visit.discarded,
    })
}
