//! [`visit_requirements`]: every visit the rules require of the child's
//! current placement (and, for a care leaver, of the personal adviser), each
//! matched with the visit that met it.

use super::regime::{Deadline, Regime};
use super::{
    CareLeaverFacts, PlacementFacts, RequirementStatus, RuleId, ScheduleInput, SchedulePolicy,
    VisitFacts, VisitRequirement,
};
use crate::model::{CalendarDate, VisitMaker};
use crate::small_sort::sort_small_by;

/// The requirements of the child's current placement and of any care-leaver
/// visits, as of `today`, in order of due date (a requirement met earlier
/// comes before an open one due the same day). The last open requirement of
/// the placement is the current one.
///
/// Each qualifying visit meets the requirement open when it happened and
/// starts the next one, so the list is the placement's history of visits
/// (met on time or late) followed by what is due now. Earlier placements
/// produce nothing; see the module documentation for what counts.
pub fn visit_requirements(
    input: &ScheduleInput,
    policy: &SchedulePolicy,
    today: CalendarDate,
) -> Vec<VisitRequirement> {
    Plan::compute(input, policy, today).requirements
}

/// The requirements, and why there is no placement schedule when there is none.
pub(super) struct Plan {
    /// As returned by [`visit_requirements`].
    pub(super) requirements: Vec<VisitRequirement>,
    /// Why the current placement has no visit schedule, in plain words.
    pub(super) no_schedule: Option<String>,
}

impl Plan {
    /// Works out the requirements for `today`.
    pub(super) fn compute(
        input: &ScheduleInput,
        policy: &SchedulePolicy,
        today: CalendarDate,
    ) -> Plan {
        let visits = qualifying_visits(input, policy, today);
        let mut requirements = Vec::new();
        let mut no_schedule = None;
        match current_placement(&input.placements, today) {
            None => no_schedule = Some("No current placement is recorded".to_owned()),
            Some(current) => {
                let placement_id = Some(current.placement_id.clone());
                let start = match Regime::for_placement(input, current, policy, today) {
                    Ok(regime) => {
                        let walk = Walk {
                            visits: &by(&visits, VisitMaker::SocialWorker),
                            placement_id: placement_id.clone(),
                            policy,
                            today,
                        };
                        walk.run(&regime, &mut requirements);
                        regime.start()
                    }
                    Err(why) => {
                        no_schedule = Some(why);
                        current.start
                    }
                };
                let social_worker = by(&visits, VisitMaker::SocialWorker);
                additional_visits(input, start, &social_worker, placement_id, policy, today)
                    .for_each(|requirement| requirements.push(requirement));
            }
        }
        if let Some(leaver) = &input.care_leaver {
            let adviser = by(&visits, VisitMaker::PersonalAdviser);
            let walk = Walk {
                visits: &adviser,
                placement_id: None,
                policy,
                today,
            };
            walk.run(&Regime::for_care_leaver(leaver, policy), &mut requirements);
            requirements.extend(pathway_review_visits(leaver, &adviser, policy, today));
        }
        sort_small_by(&mut requirements, |a, b| {
            (a.due, a.is_open()) < (b.due, b.is_open())
        });
        Plan {
            requirements,
            no_schedule,
        }
    }
}

/// The visits that count, oldest first (ties by id, so the result does not
/// depend on the input's order): the child was seen, the kind of visit is recorded, on
/// or before `today`, not discarded, and the policy counts its kind.
pub(super) fn qualifying_visits<'a>(
    input: &'a ScheduleInput,
    policy: &SchedulePolicy,
    today: CalendarDate,
) -> Vec<&'a VisitFacts> {
    let mut visits: Vec<&VisitFacts> = input
        .visits
        .iter()
        .filter(|visit| {
            visit.child_seen
                && visit.kind_recorded
                && !visit.discarded
                && visit.date <= today
                && (policy.virtual_visits_count || !visit.location_virtual)
                && (policy.review_meetings_count || !visit.kind_review_meeting)
                && (policy.unsubmitted_visits_count || visit.submitted)
        })
        .collect();
    sort_small_by(&mut visits, |a, b| {
        (a.date, &a.visit_id) < (b.date, &b.visit_id)
    });
    visits
}

/// The visits made by `maker` (or by whoever, when not recorded).
fn by<'a>(visits: &[&'a VisitFacts], maker: VisitMaker) -> Vec<&'a VisitFacts> {
    visits
        .iter()
        .copied()
        .filter(|visit| visit.made_by.is_none_or(|made_by| made_by == maker))
        .collect()
}

/// The latest placement that has started by `today` and not ended before it
/// (the later one in the input wins a tie).
pub(super) fn current_placement(
    placements: &[PlacementFacts],
    today: CalendarDate,
) -> Option<&PlacementFacts> {
    placements
        .iter()
        .enumerate()
        .filter(|(_, placement)| {
            placement.start <= today && placement.end.is_none_or(|end| end >= today)
        })
        .max_by_key(|(index, placement)| (placement.start, *index))
        .map(|(_, placement)| placement)
}

/// Matching one clock's deadlines with the visits.
struct Walk<'a> {
    visits: &'a [&'a VisitFacts],
    placement_id: Option<String>,
    policy: &'a SchedulePolicy,
    today: CalendarDate,
}

impl Walk<'_> {
    /// Each visit from the clock's start meets the open deadline and opens
    /// the next; several visits on one day meet one deadline.
    fn run(&self, regime: &Regime<'_>, out: &mut Vec<VisitRequirement>) {
        let mut deadline = regime.first();
        let mut last_day = None;
        for visit in self
            .visits
            .iter()
            .filter(|visit| visit.date >= regime.start())
        {
            if last_day == Some(visit.date) {
                continue;
            }
            out.push(self.met(deadline, visit));
            deadline = regime.after(visit.date);
            last_day = Some(visit.date);
        }
        out.push(self.open(deadline));
    }

    fn met(&self, deadline: Deadline, visit: &VisitFacts) -> VisitRequirement {
        VisitRequirement {
            rule: deadline.rule,
            placement_id: self.placement_id.clone(),
            due: deadline.due,
            reason: deadline.reason.to_string(),
            status: RequirementStatus::Met,
            met_by: Some(visit.visit_id.clone()),
            met_on: Some(visit.date),
        }
    }

    fn open(&self, deadline: Deadline) -> VisitRequirement {
        VisitRequirement {
            rule: deadline.rule,
            placement_id: self.placement_id.clone(),
            due: deadline.due,
            reason: deadline.reason.to_string(),
            status: RequirementStatus::open(deadline.due, self.today, self.policy.due_soon_days),
            met_by: None,
            met_on: None,
        }
    }
}

/// One V15 requirement per pathway-plan review from the accommodation date:
/// a visit is due by the review, met by the first qualifying visit since the
/// previous review (since the accommodation date for the first), late when
/// that visit came after the review.
fn pathway_review_visits(
    leaver: &CareLeaverFacts,
    visits: &[&VisitFacts],
    policy: &SchedulePolicy,
    today: CalendarDate,
) -> Vec<VisitRequirement> {
    let mut reviews: Vec<CalendarDate> = leaver
        .pathway_reviews
        .iter()
        .copied()
        .filter(|review| *review >= leaver.accommodation_from)
        .collect();
    sort_small_by(&mut reviews, |a, b| a < b);
    reviews.dedup();
    let mut previous: Option<CalendarDate> = None;
    let mut requirements = Vec::with_capacity(reviews.len());
    for review in reviews {
        let met = visits.iter().find(|visit| match previous {
            Some(previous) => visit.date > previous,
            None => visit.date >= leaver.accommodation_from,
        });
        requirements.push(VisitRequirement {
            rule: RuleId::V15,
            placement_id: None,
            due: review,
            reason: format!("Before the pathway plan review on {}", review.long_form()),
            status: match met {
                Some(_) => RequirementStatus::Met,
                None => RequirementStatus::open(review, today, policy.due_soon_days),
            },
            met_by: met.map(|visit| visit.visit_id.clone()),
            met_on: met.map(|visit| visit.date),
        });
        previous = Some(review);
    }
    requirements
}

/// One V10 requirement per request made since `start`: due the day it was
/// made, met by the first qualifying visit on or after that day.
fn additional_visits<'a>(
    input: &'a ScheduleInput,
    start: CalendarDate,
    visits: &'a [&'a VisitFacts],
    placement_id: Option<String>,
    policy: &'a SchedulePolicy,
    today: CalendarDate,
) -> impl Iterator<Item = VisitRequirement> + 'a {
    input
        .requests
        .iter()
        .filter(move |request| request.requested_on >= start)
        .map(move |request| {
            let asked = request.requested_on;
            let source = request.source.trim();
            let reason = if source.is_empty() {
                format!(
                    "An additional visit was asked for on {}: visit as soon as possible",
                    asked.long_form()
                )
            } else {
                format!(
                    "An additional visit was asked for on {} ({source}): visit as soon as possible",
                    asked.long_form()
                )
            };
            let met = visits.iter().find(|visit| visit.date >= asked);
            VisitRequirement {
                rule: RuleId::V10,
                placement_id: placement_id.clone(),
                due: asked,
                reason,
                status: match met {
                    Some(_) => RequirementStatus::Met,
                    None => RequirementStatus::open(asked, today, policy.due_soon_days),
                },
                met_by: met.map(|visit| visit.visit_id.clone()),
                met_on: met.map(|visit| visit.date),
            }
        })
}
