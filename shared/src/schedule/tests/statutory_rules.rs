//! Statutory rules V1 to V7 with concrete dates and the handbook's worked examples (a) to (e).

use super::*;

// V1, V2: worked examples (a) and (b).

#[test]
pub(super) fn v1_example_a_first_visit_within_a_week_of_the_placement() {
    let child = input(placement("P1", "2026-01-05", StatutoryBasis::Standard), &[]);
    let requirements = visit_requirements(&child, &england(), d("2026-01-06"));
    assert_eq!(
        requirements,
        vec![VisitRequirement {
            rule: RuleId::V1,
            placement_id: Some("P1".into()),
            due: d("2026-01-12"),
            reason: "Within 1 week of the start of the placement on 5 January 2026".into(),
            status: RequirementStatus::DueSoon,
            met_by: None,
            met_on: None,
        }]
    );
    assert_eq!(
        current(&child, &england(), "2026-01-13").status,
        RequirementStatus::Overdue
    );
    // Day 0 is the visit day: a visit on the start day itself counts.
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-05"],
    );
    let requirements = visit_requirements(&child, &england(), d("2026-01-06"));
    assert_eq!(requirements[0].met_on, Some(d("2026-01-05")));
    assert_eq!(
        due_and_rule(&requirements[1]),
        ("2026-02-16".into(), RuleId::V2)
    );
}

#[test]
pub(super) fn v2_example_b_six_weeks_in_the_first_year() {
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-09", "2026-02-15", "2026-03-01"],
    );
    let requirements = visit_requirements(&child, &england(), d("2026-03-10"));
    assert_eq!(
        summary(&requirements),
        vec![
            (RuleId::V1, "2026-01-12".into(), "met"),
            (RuleId::V2, "2026-02-20".into(), "met"),
            (RuleId::V2, "2026-03-29".into(), "met"),
            (RuleId::V2, "2026-04-12".into(), "upcoming"),
        ]
    );
    assert_eq!(
        requirements[3].reason,
        "Within 6 weeks of the last visit on 1 March 2026 (first year of the placement)"
    );
    assert_eq!(requirements[2].met_by.as_deref(), Some("visit-2026-03-01"));
    assert!(requirements.iter().all(|r| !r.is_late()));
    let schedule = child_schedule(&child, &england(), d("2026-03-10"));
    assert_eq!(schedule.status, ChildVisitStatus::Met);
    assert_eq!(schedule.next_due.map(|r| r.due), Some(d("2026-04-12")));
    assert_eq!(schedule.last_qualifying_visit, Some(d("2026-03-01")));
}

#[test]
pub(super) fn a_visit_after_its_due_date_meets_it_late() {
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-15"],
    );
    let requirements = visit_requirements(&child, &england(), d("2026-01-20"));
    assert_eq!(requirements[0].status, RequirementStatus::Met);
    assert_eq!(requirements[0].due, d("2026-01-12"));
    assert_eq!(requirements[0].met_on, Some(d("2026-01-15")));
    assert!(requirements[0].is_late());
    assert_eq!(requirements[1].due, d("2026-02-26"));
}

// V3, V4: worked example (c) and the first anniversary.

#[test]
pub(super) fn v3_v4_example_c_after_the_first_year() {
    let mut placed = placement("P1", "2025-01-10", StatutoryBasis::Standard);
    placed.intended_until_18 = true;
    let child = input(placed.clone(), &["2026-01-31"]);
    let now = current(&child, &england(), "2026-02-01");
    assert_eq!(due_and_rule(&now), ("2026-04-30".into(), RuleId::V3));
    assert_eq!(
        now.reason,
        "Within 3 months of the last visit on 31 January 2026 \
         (placement intended to last until 18, after its first year)"
    );
    placed.intended_until_18 = false;
    let child = input(placed, &["2026-01-31"]);
    let now = current(&child, &england(), "2026-02-01");
    assert_eq!(due_and_rule(&now), ("2026-03-14".into(), RuleId::V4));
    assert_eq!(
        now.reason,
        "Within 6 weeks of the last visit on 31 January 2026 (after the first year of the placement)"
    );
}

#[test]
pub(super) fn the_rule_in_force_on_the_due_date_decides_at_the_first_anniversary() {
    let mut placed = placement("P1", "2025-01-10", StatutoryBasis::Standard);
    placed.intended_until_18 = true;
    // Six weeks after 20 November 2025 is still in the first year: V2.
    let child = input(placed.clone(), &["2025-11-20"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2025-11-21")),
        ("2026-01-01".into(), RuleId::V2)
    );
    // Six weeks after 20 December 2025 would be after the anniversary
    // (10 January 2026), where V3 is in force: 3 months.
    let child = input(placed, &["2025-12-20"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2025-12-21")),
        ("2026-03-20".into(), RuleId::V3)
    );
}

#[test]
pub(super) fn leap_day_placements_reach_their_anniversary_on_28_february() {
    let mut placed = placement("P1", "2024-02-29", StatutoryBasis::Standard);
    placed.intended_until_18 = true;
    let child = input(placed.clone(), &[]);
    assert_eq!(
        current(&child, &england(), "2024-03-01").due,
        d("2024-03-07")
    );
    // Anniversary 28 February 2025: 21 February is still in the first year.
    let child = input(placed.clone(), &["2025-01-10"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2025-01-11")),
        ("2025-02-21".into(), RuleId::V2)
    );
    let child = input(placed, &["2025-01-20"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2025-01-21")),
        ("2025-04-20".into(), RuleId::V3)
    );
}

// V5: worked example (d).

pub(super) fn long_term_foster(start: &str, agreement: Option<&str>) -> PlacementFacts {
    let mut placed = placement("P1", start, StatutoryBasis::Standard);
    placed.intended_until_18 = true;
    placed.ltf_designated = true;
    placed.child_agreement = agreement.map(d);
    placed
}

#[test]
pub(super) fn v5_example_d_long_term_foster_with_the_childs_agreement() {
    let child = input(
        long_term_foster("2024-09-01", Some("2025-10-01")),
        &["2026-02-28"],
    );
    let now = current(&child, &england(), "2026-03-01");
    assert_eq!(due_and_rule(&now), ("2026-08-28".into(), RuleId::V5));
    assert_eq!(
        now.reason,
        "Within 6 months of the last visit on 28 February 2026 \
         (long-term foster placement; the child agreed to less frequent visits)"
    );
    // Six months from the end of August ends at the end of February.
    let child = input(
        long_term_foster("2024-09-01", Some("2025-10-01")),
        &["2026-08-31"],
    );
    assert_eq!(
        current(&child, &england(), "2026-09-01").due,
        d("2027-02-28")
    );
}

#[test]
pub(super) fn v5_without_an_agreement_record_falls_back_to_v3() {
    let no_agreement = input(long_term_foster("2024-09-01", None), &["2026-02-28"]);
    assert_eq!(
        due_and_rule(&current(&no_agreement, &england(), "2026-03-01")),
        ("2026-05-28".into(), RuleId::V3)
    );
    // An agreement dated after today is not in force yet.
    let future = input(
        long_term_foster("2024-09-01", Some("2026-06-01")),
        &["2026-02-28"],
    );
    assert_eq!(current(&future, &england(), "2026-03-01").rule, RuleId::V3);
    // Not designated long-term foster: the agreement alone changes nothing.
    let mut not_ltf = long_term_foster("2024-09-01", Some("2025-10-01"));
    not_ltf.ltf_designated = false;
    let child = input(not_ltf, &["2026-02-28"]);
    assert_eq!(current(&child, &england(), "2026-03-01").rule, RuleId::V3);
    // Wales has no V5.
    let wales = SchedulePolicy::statutory(Jurisdiction::Wales);
    let child = input(
        long_term_foster("2024-09-01", Some("2025-10-01")),
        &["2026-02-28"],
    );
    assert_eq!(current(&child, &wales, "2026-03-01").rule, RuleId::V3);
}

#[test]
pub(super) fn v5_needs_the_placement_to_have_lasted_a_year() {
    let child = input(
        long_term_foster("2025-09-01", Some("2025-10-01")),
        &["2026-02-28"],
    );
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-03-01")),
        ("2026-04-11".into(), RuleId::V2)
    );
}

// V6, V7: weekly until the first review; worked example (e).

#[test]
pub(super) fn v6_placed_with_a_parent_weekly_until_the_first_review_then_six_weeks() {
    let placed = placement("P1", "2026-01-05", StatutoryBasis::Reg19);
    let child = input(placed.clone(), &["2026-01-08", "2026-01-14"]);
    let now = current(&child, &england(), "2026-01-15");
    assert_eq!(due_and_rule(&now), ("2026-01-21".into(), RuleId::V6));
    assert_eq!(
        now.reason,
        "Within 1 week of the last visit on 14 January 2026 (weekly until the first review)"
    );
    let mut child = input(placed, &["2026-01-08", "2026-01-14", "2026-01-21"]);
    child.reviews.push(ReviewFacts {
        due: Some(d("2026-02-02")),
        held: Some(d("2026-01-20")),
    });
    assert_eq!(
        summary(&visit_requirements(&child, &england(), d("2026-01-25"))),
        vec![
            (RuleId::V6, "2026-01-12".into(), "met"),
            (RuleId::V6, "2026-01-15".into(), "met"),
            (RuleId::V6, "2026-02-25".into(), "met"),
            (RuleId::V6, "2026-03-04".into(), "upcoming"),
        ]
    );
    assert_eq!(
        current(&child, &england(), "2026-01-25").reason,
        "Within 6 weeks of the last visit on 21 January 2026 (after the first review on 20 January 2026)"
    );
}

#[test]
pub(super) fn v7_example_e_connected_person_weekly_then_four_weeks() {
    let placed = placement("P1", "2026-01-05", StatutoryBasis::Reg24);
    let child = input(placed.clone(), &["2026-01-08"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-01-09")),
        ("2026-01-15".into(), RuleId::V7)
    );
    let weekly = [
        "2026-01-08",
        "2026-01-15",
        "2026-01-22",
        "2026-01-29",
        "2026-02-05",
        "2026-02-12",
    ];
    let mut child = input(placed, &weekly);
    // A review held before the placement began is not its first review.
    child.reviews.push(ReviewFacts {
        due: None,
        held: Some(d("2025-12-01")),
    });
    assert_eq!(
        current(&child, &england(), "2026-02-13").due,
        d("2026-02-19")
    );
    child.reviews.push(ReviewFacts {
        due: None,
        held: Some(d("2026-02-10")),
    });
    let now = current(&child, &england(), "2026-02-13");
    assert_eq!(due_and_rule(&now), ("2026-03-12".into(), RuleId::V7));
    // An interim care order with a parent follows the same rule.
    let ico = input(
        placement("P1", "2026-01-05", StatutoryBasis::IcoWithParent),
        &[],
    );
    assert_eq!(
        due_and_rule(&current(&ico, &england(), "2026-01-05")),
        ("2026-01-12".into(), RuleId::V7)
    );
}
