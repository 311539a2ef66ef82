//! [`schedule_input`]: the schedule's facts read from a child document and
//! that child's visit documents.

use super::{CareLeaverFacts, PlacementFacts, ReviewFacts, ScheduleInput, VisitFacts};
use crate::model::{CalendarDate, Child, StatutoryBasis, Visit, VisitLocation, VisitStatus};

/// The facts in `child` and in those of `visits` that are about this child.
///
/// Documents are drafts written offline, so anything the schedule cannot
/// use is left out rather than refused: a placement without a real start
/// date, a visit of another child or without a real date, a review or
/// pathway-review date that is not a real date, care-leaver facts without a
/// real accommodation date. A placement end date that is not a real date
/// counts as not recorded. A placement without a statutory basis is treated
/// as standard (V1 to V5). The visit document has no review-meeting kind, so
/// no visit is one, and ad-hoc visit requests (V10) are not in the documents:
/// `requests` is empty for the caller to fill.
pub fn schedule_input(child: &Child, visits: &[Visit]) -> ScheduleInput {
    let date = |text: &Option<String>| text.as_deref().and_then(CalendarDate::parse);
    let placements = child
        .placement
        .iter()
        .filter_map(|placement| {
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
                short_breaks_interval_days: placement.short_breaks_interval_days,
                other_arrangements_interval_days: placement.other_arrangements_interval_days,
                local_interval_days: placement.local_interval_days,
            })
        })
        .collect();
    let reviews = child
        .reviews
        .iter()
        .map(|review| ReviewFacts {
            due: date(&review.due_date),
            held: date(&review.held_date),
        })
        .filter(|review| review.due.is_some() || review.held.is_some())
        .collect();
    let visits = visits
        .iter()
        .filter(|visit| visit.child_id == child.child_id)
        .filter_map(|visit| {
            Some(VisitFacts {
                visit_id: visit.visit_id.clone(),
                date: date(&visit.visit_date)?,
                child_seen: visit.child_seen == Some(true),
                location_virtual: visit.location == Some(VisitLocation::Virtual),
                kind_review_meeting: false,
                // Any status past a draft (submitted, or later ones) has been submitted.
                submitted: visit
                    .status
                    .is_some_and(|status| status != VisitStatus::Draft),
            })
        })
        .collect();
    let care_leaver = child.care_leaver.as_ref().and_then(|leaver| {
        Some(CareLeaverFacts {
            accommodation_from: date(&leaver.accommodation_from)?,
            pathway_reviews: leaver
                .pathway_reviews
                .iter()
                .filter_map(|text| CalendarDate::parse(text))
                .collect(),
        })
    });
    ScheduleInput {
        placements,
        reviews,
        visits,
        requests: Vec::new(),
        care_leaver,
        became_looked_after: date(&child.became_looked_after),
    }
}
