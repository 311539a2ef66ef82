//! What restarts the clock, what counts as a visit, and the due-soon window.

use super::*;

// Clock, placements and what counts.

#[test]
pub(super) fn a_new_placement_restarts_the_clock() {
    let mut first = placement("P1", "2025-01-10", StatutoryBasis::Standard);
    first.end = Some(d("2026-01-31"));
    let second = placement("P2", "2026-02-01", StatutoryBasis::Standard);
    let child = ScheduleInput {
        placements: vec![second, first],
        visits: vec![visit("2025-01-12"), visit("2026-01-20")],
        ..ScheduleInput::default()
    };
    let schedule = child_schedule(&child, &england(), d("2026-02-05"));
    assert_eq!(
        summary(&schedule.requirements),
        vec![(RuleId::V1, "2026-02-08".into(), "dueSoon")]
    );
    assert_eq!(schedule.requirements[0].placement_id.as_deref(), Some("P2"));
    assert_eq!(schedule.last_qualifying_visit, Some(d("2026-01-20")));
    assert_eq!(schedule.status, ChildVisitStatus::DueSoon);
    // Even with no end recorded on the first, the later placement is current.
    let mut unended = child.clone();
    unended.placements[1].end = None;
    assert_eq!(
        visit_requirements(&unended, &england(), d("2026-02-05"))[0]
            .placement_id
            .as_deref(),
        Some("P2")
    );
    // Before the second began, the first was current.
    assert_eq!(
        current(&child, &england(), "2026-01-25")
            .placement_id
            .as_deref(),
        Some("P1")
    );
}

#[test]
pub(super) fn no_current_placement_means_no_schedule() {
    let mut ended = placement("P1", "2025-01-10", StatutoryBasis::Standard);
    ended.end = Some(d("2026-01-31"));
    let child = input(ended, &["2026-01-20"]);
    let schedule = child_schedule(&child, &england(), d("2026-02-05"));
    assert_eq!(schedule.status, ChildVisitStatus::NoSchedule);
    assert_eq!(schedule.next_due, None);
    assert_eq!(schedule.last_qualifying_visit, Some(d("2026-01-20")));
    let future = input(placement("P1", "2026-03-01", StatutoryBasis::Standard), &[]);
    assert_eq!(
        child_schedule(&future, &england(), d("2026-02-05")).status,
        ChildVisitStatus::NoSchedule
    );
}

#[test]
pub(super) fn a_temporary_placement_restarts_the_clock_unless_configured_not_to() {
    let mut home = placement("P1", "2025-03-01", StatutoryBasis::Standard);
    home.end = Some(d("2026-01-31"));
    let mut respite = placement("T", "2026-02-01", StatutoryBasis::Standard);
    respite.placement_type = "T2".into();
    let child = ScheduleInput {
        placements: vec![home, respite],
        visits: vec![visit("2025-03-03"), visit("2026-01-20")],
        ..ScheduleInput::default()
    };
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-02-02")),
        ("2026-02-08".into(), RuleId::V1)
    );
    let mut continues = england();
    continues.temporary_placements_restart_clock = false;
    let now = current(&child, &continues, "2026-02-02");
    // The clock of 1 March 2025 continues: six weeks from 20 January 2026
    // falls after the anniversary, and the placement is not intended to 18.
    assert_eq!(due_and_rule(&now), ("2026-03-03".into(), RuleId::V4));
    assert_eq!(now.placement_id.as_deref(), Some("T"));
}

#[test]
pub(super) fn virtual_visits_and_review_meetings_do_not_count_by_default() {
    let placed = placement("P1", "2026-01-05", StatutoryBasis::Standard);
    let mut video = visit("2026-01-08");
    video.location_virtual = true;
    let mut review = visit("2026-01-09");
    review.kind_review_meeting = true;
    for (facts, count) in [(video, "virtual"), (review, "review")] {
        let child = ScheduleInput {
            placements: vec![placed.clone()],
            visits: vec![facts],
            ..ScheduleInput::default()
        };
        let schedule = child_schedule(&child, &england(), d("2026-01-13"));
        assert_eq!(schedule.status, ChildVisitStatus::Overdue, "{count}");
        let mut counting = england();
        counting.virtual_visits_count = count == "virtual";
        counting.review_meetings_count = count == "review";
        let schedule = child_schedule(&child, &counting, d("2026-01-13"));
        assert_eq!(schedule.status, ChildVisitStatus::Met, "{count}");
    }
}

#[test]
pub(super) fn drafts_count_unless_configured_and_future_visits_never() {
    let mut child = input(placement("P1", "2026-01-05", StatutoryBasis::Standard), &[]);
    let mut draft = visit("2026-01-08");
    draft.submitted = false;
    child.visits.push(draft);
    child.visits.push(visit("2026-01-20"));
    assert_eq!(
        child_schedule(&child, &england(), d("2026-01-13")).status,
        ChildVisitStatus::Met
    );
    let mut submitted_only = england();
    submitted_only.unsubmitted_visits_count = false;
    let schedule = child_schedule(&child, &submitted_only, d("2026-01-13"));
    assert_eq!(schedule.status, ChildVisitStatus::Overdue);
    // The visit dated 20 January is after "today": it has not happened.
    assert_eq!(schedule.last_qualifying_visit, None);
}

#[test]
pub(super) fn several_visits_on_one_day_meet_one_requirement() {
    let mut child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-08"],
    );
    let mut second = visit("2026-01-08");
    second.visit_id = "a-first-by-id".into();
    child.visits.push(second);
    let requirements = visit_requirements(&child, &england(), d("2026-01-09"));
    assert_eq!(requirements.len(), 2);
    assert_eq!(requirements[0].met_by.as_deref(), Some("a-first-by-id"));
}

#[test]
pub(super) fn the_due_soon_window() {
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-09"],
    );
    let status = |today: &str, policy: &SchedulePolicy| current(&child, policy, today).status;
    // Due 20 February 2026.
    assert_eq!(
        status("2026-02-12", &england()),
        RequirementStatus::Upcoming
    );
    assert_eq!(status("2026-02-13", &england()), RequirementStatus::DueSoon);
    assert_eq!(status("2026-02-20", &england()), RequirementStatus::DueSoon);
    assert_eq!(status("2026-02-21", &england()), RequirementStatus::Overdue);
    assert_eq!(
        child_schedule(&child, &england(), d("2026-02-12")).status,
        ChildVisitStatus::Met
    );
    let mut fortnight = england();
    fortnight.due_soon_days = 14;
    assert_eq!(status("2026-02-12", &fortnight), RequirementStatus::DueSoon);
    assert_eq!(
        child_schedule(&child, &fortnight, d("2026-02-12")).status,
        ChildVisitStatus::DueSoon
    );
}
