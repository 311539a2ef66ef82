//! Tests for the visit schedule: every rule V1 to V16 with concrete dates,
//! the domain handbook's worked examples (a) to (f), month ends, leap years,
//! new and temporary placements, what counts as a visit, the due-soon
//! window, working days over bank holidays, and refused local intervals.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};

use super::*;
use crate::model::{
    self, CalendarDate, Child, NewCareLeaver, NewCaseReview, NewChild, NewPlacement, NewVisit,
    StatutoryBasis, Visit, VisitLocation, VisitStatus,
};
use crate::sync::Timestamp;

mod calendar_months;
mod counting;
mod dates;
mod from_documents;
mod later_rules;
mod local_intervals;
mod statutory_rules;
mod working_days;

fn d(text: &str) -> CalendarDate {
    CalendarDate::parse(text).expect("test dates are real")
}

fn england() -> SchedulePolicy {
    SchedulePolicy::statutory(Jurisdiction::England)
}

fn placement(id: &str, start: &str, basis: StatutoryBasis) -> PlacementFacts {
    PlacementFacts {
        placement_id: id.into(),
        start: d(start),
        end: None,
        placement_type: "U4".into(),
        basis,
        intended_until_18: false,
        ltf_designated: false,
        child_agreement: None,
        care_order_date: None,
        short_breaks_interval: None,
        other_arrangements_interval: None,
        local_interval: None,
    }
}

fn visit(date: &str) -> VisitFacts {
    VisitFacts {
        visit_id: format!("visit-{date}"),
        date: d(date),
        child_seen: true,
        location_virtual: false,
        kind_review_meeting: false,
        submitted: true,
        kind_recorded: true,
        made_by: None,
        discarded: false,
    }
}

fn input(placement: PlacementFacts, visits: &[&str]) -> ScheduleInput {
    ScheduleInput {
        placements: vec![placement],
        visits: visits.iter().map(|date| visit(date)).collect(),
        ..ScheduleInput::default()
    }
}

/// Each requirement as (rule, due, status), for compact comparisons.
fn summary(requirements: &[VisitRequirement]) -> Vec<(RuleId, String, &'static str)> {
    requirements
        .iter()
        .map(|r| (r.rule, r.due.to_string(), r.status.as_str()))
        .collect()
}

/// The current requirement: the last open one.
fn current(input: &ScheduleInput, policy: &SchedulePolicy, today: &str) -> VisitRequirement {
    visit_requirements(input, policy, d(today))
        .into_iter()
        .rev()
        .find(VisitRequirement::is_open)
        .expect("an open requirement")
}

fn due_and_rule(requirement: &VisitRequirement) -> (String, RuleId) {
    (requirement.due.to_string(), requirement.rule)
}
