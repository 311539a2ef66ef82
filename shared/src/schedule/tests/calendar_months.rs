//! Intervals in calendar months, and which visits count (issue 15).

use super::*;

// Intervals in calendar months, and which visits count (issue 15).

#[test]
pub(super) fn agreed_intervals_in_calendar_months_count_as_the_calendar_counts() {
    let mut placed = placement("P1", "2026-01-31", StatutoryBasis::ShortBreaks);
    placed.short_breaks_interval = Some(Interval::Months(3));
    let child = input(placed.clone(), &[]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-02-01")),
        ("2026-04-30".into(), RuleId::V11)
    );
    let child = input(placed.clone(), &["2026-04-30"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-05-01")),
        ("2026-07-30".into(), RuleId::V11)
    );
    let mut other = placed;
    other.basis = StatutoryBasis::OtherLivingArrangements;
    other.short_breaks_interval = None;
    other.other_arrangements_interval = Some(Interval::Months(1));
    let child = input(other, &["2026-01-31"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-02-01")),
        ("2026-02-28".into(), RuleId::V9)
    );
}

#[test]
pub(super) fn a_visit_counts_once_its_date_kind_and_child_seen_are_recorded_and_not_if_discarded() {
    let placed = placement("P1", "2026-01-05", StatutoryBasis::Standard);
    let today = "2026-01-20";
    let with = |change: fn(&mut VisitFacts)| {
        let mut child = input(placed.clone(), &["2026-01-08"]);
        change(&mut child.visits[0]);
        child_schedule(&child, &england(), d(today))
    };
    let counted = with(|_| {});
    assert_eq!(counted.last_qualifying_visit, Some(d("2026-01-08")));
    assert_eq!(counted.status, ChildVisitStatus::Met);
    // A draft counts (submitted or not) once date, kind and child seen are recorded.
    let draft = with(|visit| visit.submitted = false);
    assert_eq!(draft.last_qualifying_visit, Some(d("2026-01-08")));
    for not_yet in [
        with(|visit| visit.kind_recorded = false),
        with(|visit| visit.child_seen = false),
        with(|visit| visit.discarded = true),
    ] {
        assert_eq!(not_yet.last_qualifying_visit, None);
        assert_eq!(not_yet.status, ChildVisitStatus::Overdue);
    }
}

#[test]
pub(super) fn each_rule_counts_only_the_visits_of_whoever_it_names() {
    use crate::model::VisitMaker;
    let placed = placement("P1", "2026-01-05", StatutoryBasis::Standard);
    let mut child = input(placed, &["2026-01-08"]);
    child.care_leaver = Some(CareLeaverFacts {
        accommodation_from: d("2026-01-05"),
        pathway_reviews: vec![],
    });
    let rules_met = |maker: Option<VisitMaker>| {
        let mut child = child.clone();
        child.visits[0].made_by = maker;
        let mut met: Vec<RuleId> = visit_requirements(&child, &england(), d("2026-01-10"))
            .into_iter()
            .filter(|r| !r.is_open())
            .map(|r| r.rule)
            .collect();
        met.sort_by_key(ToString::to_string);
        met
    };
    assert_eq!(rules_met(Some(VisitMaker::SocialWorker)), [RuleId::V1]);
    assert_eq!(rules_met(Some(VisitMaker::PersonalAdviser)), [RuleId::V15]);
    // Not recorded (records from before it was): counts for both.
    assert_eq!(rules_met(None), [RuleId::V1, RuleId::V15]);
}
