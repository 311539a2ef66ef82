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

// Dates and intervals.

#[test]
fn months_are_calendar_months_clamped_to_month_end() {
    let cases = [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-08-31", 6, "2027-02-28"),
        ("2027-08-31", 6, "2028-02-29"),
        ("2026-01-31", 3, "2026-04-30"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2024-02-29", 12, "2025-02-28"),
    ];
    for (start, months, expected) in cases {
        assert_eq!(
            d(start).add_months(months),
            Some(d(expected)),
            "{start} + {months}"
        );
    }
    assert_eq!(d("9999-12-01").add_months(1), None);
    assert_eq!(d("2026-01-31").add_months(i64::MAX), None);
    assert_eq!(d("2026-01-31").add_months(i64::MIN), None);
    assert_eq!(
        Interval::Months(1).after(d("9999-12-01")),
        CalendarDate::MAX
    );
    assert_eq!(Interval::Weeks(6).after(d("2026-03-01")), d("2026-04-12"));
}

#[test]
fn weekdays_and_long_dates() {
    use crate::model::date::Weekday;
    assert_eq!(d("1970-01-01").weekday(), Weekday::Thursday);
    assert_eq!(d("2026-01-05").weekday(), Weekday::Monday);
    assert_eq!(d("2026-12-27").weekday(), Weekday::Sunday);
    assert!(d("2026-12-26").is_weekend() && !d("2026-12-28").is_weekend());
    assert_eq!(d("2026-03-01").long_form(), "1 March 2026");
    assert_eq!(d("2024-12-31").long_form(), "31 December 2024");
}

#[test]
fn intervals_rules_and_jurisdictions_print_and_parse() {
    let printed: Vec<String> = [
        Interval::Days(1),
        Interval::Days(3),
        Interval::Weeks(1),
        Interval::Weeks(6),
        Interval::Months(1),
        Interval::Months(3),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        printed,
        [
            "1 day", "3 days", "1 week", "6 weeks", "1 month", "3 months"
        ]
    );
    assert_eq!("72 days".parse(), Ok(Interval::Days(72)));
    assert_eq!(" 1 Month ".parse(), Ok(Interval::Months(1)));
    assert_eq!(
        "six weeks".parse::<Interval>().map_err(|e| e.to_string()),
        Err(
            "\"six weeks\" is not an interval: write for example \"3 days\", \"6 weeks\" or \"3 months\""
                .into()
        )
    );
    assert_eq!(RuleId::V2.to_string(), "V2");
    assert_eq!(RuleId::V16.to_string(), "V16");
    assert_eq!("v10".parse(), Ok(RuleId::V10));
    assert!("V17".parse::<RuleId>().is_err());
    assert_eq!("england".parse(), Ok(Jurisdiction::England));
    assert_eq!("Wales".parse(), Ok(Jurisdiction::Wales));
    assert_eq!(" SCOTLAND ".parse(), Ok(Jurisdiction::Scotland));
    assert_eq!(Jurisdiction::default(), Jurisdiction::England);
    assert_eq!(Jurisdiction::Scotland.as_str(), "scotland");
    assert_eq!(
        "france".parse::<Jurisdiction>().map_err(|e| e.to_string()),
        Err("\"france\" is not a jurisdiction: use england, wales or scotland".into())
    );
    let statuses = [
        RequirementStatus::Upcoming,
        RequirementStatus::DueSoon,
        RequirementStatus::Overdue,
        RequirementStatus::Met,
    ]
    .map(RequirementStatus::as_str);
    assert_eq!(statuses, ["upcoming", "dueSoon", "overdue", "met"]);
    let statuses = [
        ChildVisitStatus::Overdue,
        ChildVisitStatus::DueSoon,
        ChildVisitStatus::Met,
        ChildVisitStatus::Upcoming,
        ChildVisitStatus::NoSchedule,
    ]
    .map(ChildVisitStatus::as_str);
    assert_eq!(
        statuses,
        ["overdue", "dueSoon", "met", "upcoming", "noSchedule"]
    );
}

#[test]
fn policy_defaults_are_the_handbook_ones() {
    let policy = SchedulePolicy::default();
    assert_eq!(policy.jurisdiction(), Jurisdiction::England);
    assert!(!policy.virtual_visits_count);
    assert!(!policy.review_meetings_count);
    assert!(policy.unsubmitted_visits_count);
    assert_eq!(policy.due_soon_days, 7);
    assert_eq!(policy.late_write_up_working_days, 2);
    assert!(policy.temporary_placements_restart_clock);
    assert_eq!(policy.local_interval(RuleId::V1), None);
    assert_eq!(
        policy.statutory_maximum(RuleId::V3),
        Ok(Some(Interval::Months(3)))
    );
}

// V1, V2: worked examples (a) and (b).

#[test]
fn v1_example_a_first_visit_within_a_week_of_the_placement() {
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
fn v2_example_b_six_weeks_in_the_first_year() {
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
fn a_visit_after_its_due_date_meets_it_late() {
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
fn v3_v4_example_c_after_the_first_year() {
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
fn the_rule_in_force_on_the_due_date_decides_at_the_first_anniversary() {
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
fn leap_day_placements_reach_their_anniversary_on_28_february() {
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

fn long_term_foster(start: &str, agreement: Option<&str>) -> PlacementFacts {
    let mut placed = placement("P1", start, StatutoryBasis::Standard);
    placed.intended_until_18 = true;
    placed.ltf_designated = true;
    placed.child_agreement = agreement.map(d);
    placed
}

#[test]
fn v5_example_d_long_term_foster_with_the_childs_agreement() {
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
fn v5_without_an_agreement_record_falls_back_to_v3() {
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
fn v5_needs_the_placement_to_have_lasted_a_year() {
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
fn v6_placed_with_a_parent_weekly_until_the_first_review_then_six_weeks() {
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
fn v7_example_e_connected_person_weekly_then_four_weeks() {
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

// V8 to V11.

#[test]
fn v8_care_order_with_a_parent_counts_from_the_order() {
    let mut placed = placement("P1", "2026-01-05", StatutoryBasis::CareOrderWithParent);
    placed.care_order_date = Some(d("2026-02-02"));
    // The visit before the order does not meet the visit after it.
    let child = input(placed.clone(), &["2026-01-10"]);
    let now = current(&child, &england(), "2026-02-03");
    assert_eq!(due_and_rule(&now), ("2026-02-09".into(), RuleId::V8));
    assert_eq!(now.status, RequirementStatus::DueSoon);
    assert_eq!(
        now.reason,
        "Within 1 week of the care order made on 2 February 2026 (care order, placed with a parent)"
    );
    let child = input(placed.clone(), &["2026-01-10", "2026-02-06"]);
    assert_eq!(
        due_and_rule(&current(&child, &england(), "2026-02-07")),
        ("2026-03-20".into(), RuleId::V8)
    );
    // Without an order date the placement start is used.
    placed.care_order_date = None;
    let child = input(placed, &[]);
    assert_eq!(
        current(&child, &england(), "2026-01-06").due,
        d("2026-01-12")
    );
}

#[test]
fn v9_other_living_arrangements_use_the_configured_interval() {
    let placed = placement("P1", "2026-01-05", StatutoryBasis::OtherLivingArrangements);
    let child = input(placed.clone(), &[]);
    let schedule = child_schedule(&child, &england(), d("2026-01-06"));
    assert_eq!(schedule.status, ChildVisitStatus::NoSchedule);
    assert_eq!(schedule.requirements, vec![]);
    assert!(
        schedule
            .no_schedule_reason
            .is_some_and(|why| why.contains("(V9)"))
    );

    let council = england()
        .with_local_interval(RuleId::V9, Interval::Weeks(4))
        .expect("V9 has no statutory maximum");
    assert_eq!(
        due_and_rule(&current(&child, &council, "2026-01-06")),
        ("2026-02-02".into(), RuleId::V9)
    );
    let mut own = placed;
    own.other_arrangements_interval = Some(Interval::Days(30));
    let child = input(own, &["2026-01-20"]);
    let now = current(&child, &england(), "2026-01-21");
    assert_eq!(due_and_rule(&now), ("2026-02-19".into(), RuleId::V9));
    assert_eq!(
        now.reason,
        "Within 30 days of the last visit on 20 January 2026 (other living arrangements)"
    );
}

#[test]
fn v10_each_request_is_due_at_once() {
    let mut child = input(
        placement("P1", "2025-06-01", StatutoryBasis::Standard),
        &["2025-06-03", "2026-01-20", "2026-02-05"],
    );
    child.requests = vec![
        VisitRequestFacts {
            requested_on: d("2026-02-03"),
            source: "the child".into(),
        },
        VisitRequestFacts {
            requested_on: d("2026-02-10"),
            source: "complaint".into(),
        },
        // Before the placement began: not this placement's.
        VisitRequestFacts {
            requested_on: d("2025-05-01"),
            source: String::new(),
        },
    ];
    let requirements = visit_requirements(&child, &england(), d("2026-02-12"));
    let additional: Vec<&VisitRequirement> = requirements
        .iter()
        .filter(|r| r.rule == RuleId::V10)
        .collect();
    assert_eq!(additional.len(), 2);
    assert_eq!(additional[0].due, d("2026-02-03"));
    assert_eq!(additional[0].status, RequirementStatus::Met);
    assert_eq!(additional[0].met_by.as_deref(), Some("visit-2026-02-05"));
    assert_eq!(
        additional[0].reason,
        "An additional visit was asked for on 3 February 2026 (the child): visit as soon as possible"
    );
    assert_eq!(additional[1].status, RequirementStatus::Overdue);
    assert_eq!(additional[1].placement_id.as_deref(), Some("P1"));
    let schedule = child_schedule(&child, &england(), d("2026-02-12"));
    assert_eq!(schedule.status, ChildVisitStatus::Overdue);
    assert_eq!(schedule.next_due.map(|r| r.rule), Some(RuleId::V10));
    // Requirements are in order of due date.
    let dues: Vec<CalendarDate> = requirements.iter().map(|r| r.due).collect();
    assert!(dues.windows(2).all(|pair| pair[0] <= pair[1]));
    // A request made today is due soon.
    assert_eq!(
        visit_requirements(&child, &england(), d("2026-02-10"))
            .iter()
            .find(|r| r.due == d("2026-02-10"))
            .map(|r| r.status),
        Some(RequirementStatus::DueSoon)
    );
}

#[test]
fn v11_short_breaks_need_an_agreed_interval() {
    let mut placed = placement("P1", "2026-01-05", StatutoryBasis::ShortBreaks);
    let child = input(placed.clone(), &["2026-01-20"]);
    let schedule = child_schedule(&child, &england(), d("2026-01-21"));
    assert_eq!(schedule.status, ChildVisitStatus::NoSchedule);
    assert!(
        schedule
            .no_schedule_reason
            .is_some_and(|why| why.contains("short breaks"))
    );
    assert_eq!(schedule.last_qualifying_visit, Some(d("2026-01-20")));

    placed.short_breaks_interval = Some(Interval::Days(28));
    let child = input(placed.clone(), &[]);
    let schedule = child_schedule(&child, &england(), d("2026-01-05"));
    assert_eq!(schedule.status, ChildVisitStatus::Upcoming);
    assert_eq!(
        schedule.next_due.map(|r| (r.rule, r.due)),
        Some((RuleId::V11, d("2026-02-02")))
    );
    let child = input(placed, &["2026-01-20"]);
    let now = current(&child, &england(), "2026-01-21");
    assert_eq!(due_and_rule(&now), ("2026-02-17".into(), RuleId::V11));
    assert_eq!(
        now.reason,
        "Within 28 days of the last visit on 20 January 2026 \
         (short breaks: interval agreed with the IRO and parents)"
    );
}

// V12, V13: not timing rules.

#[test]
fn v12_v13_set_no_deadline_and_an_unseen_child_is_no_visit() {
    for rule in [RuleId::V12, RuleId::V13] {
        let refused = england().with_local_interval(rule, Interval::Weeks(1));
        assert_eq!(refused, Err(ScheduleError::NoVisitInterval { rule }));
    }
    assert_eq!(
        ScheduleError::NoVisitInterval { rule: RuleId::V12 }.to_string(),
        "V12 sets no time between visits, so it has no interval to shorten"
    );
    let mut child = input(placement("P1", "2026-01-05", StatutoryBasis::Standard), &[]);
    let mut unseen = visit("2026-01-08");
    unseen.child_seen = false;
    child.visits.push(unseen);
    let schedule = child_schedule(&child, &england(), d("2026-01-13"));
    assert_eq!(schedule.status, ChildVisitStatus::Overdue);
    assert_eq!(schedule.last_qualifying_visit, None);
}

// V14: reviews.

#[test]
fn v14_review_due_dates() {
    assert_eq!(
        review_due_dates(d("2026-01-05"), &[], Jurisdiction::England),
        vec![d("2026-02-02")]
    );
    assert_eq!(
        review_due_dates(
            d("2026-01-05"),
            &[d("2026-04-20"), d("2026-01-28"), d("2025-12-01")],
            Jurisdiction::England
        ),
        vec![d("2026-02-02"), d("2026-04-28"), d("2026-10-20")]
    );
    // Twenty working days over Easter 2026 (Good Friday and Easter Monday).
    assert_eq!(
        review_due_dates(d("2026-03-20"), &[], Jurisdiction::England),
        vec![d("2026-04-21")]
    );
    // Scotland has no Easter Monday holiday: a day sooner.
    assert_eq!(
        review_due_dates(d("2026-03-20"), &[], Jurisdiction::Scotland),
        vec![d("2026-04-20")]
    );
}

#[test]
fn v14_review_schedule_with_held_and_planned_reviews() {
    let mut child = input(placement("P1", "2026-01-10", StatutoryBasis::Standard), &[]);
    child.became_looked_after = Some(d("2026-01-05"));
    child.reviews = vec![
        ReviewFacts {
            due: Some(d("2026-02-02")),
            held: Some(d("2026-02-04")),
        },
        ReviewFacts {
            due: Some(d("2026-04-01")),
            held: None,
        },
    ];
    let reviews = review_schedule(&child, &england(), d("2026-03-28"));
    assert_eq!(
        reviews,
        vec![
            ReviewDue {
                number: 1,
                due: d("2026-02-02"),
                held: Some(d("2026-02-04")),
                reason: "Within 20 working days of becoming looked after on 5 January 2026".into(),
                status: RequirementStatus::Met,
            },
            ReviewDue {
                number: 2,
                due: d("2026-04-01"),
                held: None,
                reason:
                    "Planned for 1 April 2026, sooner than the latest date allowed (4 May 2026)"
                        .into(),
                status: RequirementStatus::DueSoon,
            },
        ]
    );
    // Without a planned date, the statutory latest date; overdue once past.
    child.reviews.pop();
    let reviews = review_schedule(&child, &england(), d("2026-05-05"));
    assert_eq!(reviews[1].due, d("2026-05-04"));
    assert_eq!(
        reviews[1].reason,
        "Within 3 months of the first review on 4 February 2026"
    );
    assert_eq!(reviews[1].status, RequirementStatus::Overdue);
    // Unknown start of being looked after: the earliest placement start.
    child.became_looked_after = None;
    assert_eq!(
        review_schedule(&child, &england(), d("2026-05-05"))[0].due,
        d("2026-02-06")
    );
    assert_eq!(
        review_schedule(&ScheduleInput::default(), &england(), d("2026-05-05")),
        vec![]
    );
}

// V15: care leavers.

#[test]
fn v15_care_leaver_visits_within_7_days_before_pathway_reviews_then_2_months() {
    let mut child = ScheduleInput {
        care_leaver: Some(CareLeaverFacts {
            accommodation_from: d("2026-03-02"),
            pathway_reviews: vec![d("2026-09-01"), d("2026-04-15"), d("2025-12-01")],
        }),
        visits: vec![visit("2026-03-06"), visit("2026-04-14")],
        ..ScheduleInput::default()
    };
    let requirements = visit_requirements(&child, &england(), d("2026-04-20"));
    let reasons: Vec<(String, &str, String)> = requirements
        .iter()
        .map(|r| (r.due.to_string(), r.status.as_str(), r.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "2026-03-09".into(),
                "met",
                "Within 7 days of the accommodation first provided on 2 March 2026".into()
            ),
            (
                "2026-04-15".into(),
                "met",
                "Before the pathway plan review on 15 April 2026".into()
            ),
            (
                "2026-05-06".into(),
                "met",
                "Within 2 months of the last visit on 6 March 2026 (about 8 weeks)".into()
            ),
            (
                "2026-06-14".into(),
                "upcoming",
                "Within 2 months of the last visit on 14 April 2026 (about 8 weeks)".into()
            ),
            (
                "2026-09-01".into(),
                "upcoming",
                "Before the pathway plan review on 1 September 2026".into()
            ),
        ]
    );
    assert_eq!(requirements[1].met_by.as_deref(), Some("visit-2026-03-06"));
    assert!(
        requirements
            .iter()
            .all(|r| r.rule == RuleId::V15 && r.placement_id.is_none())
    );
    // No placement, but care-leaver visits: the status comes from them.
    let schedule = child_schedule(&child, &england(), d("2026-06-10"));
    assert_eq!(schedule.status, ChildVisitStatus::DueSoon);
    assert_eq!(schedule.next_due.map(|r| r.due), Some(d("2026-06-14")));
    assert_eq!(
        schedule.no_schedule_reason.as_deref(),
        Some("No current placement is recorded")
    );
    // A review with no visit since the one before it is missed.
    if let Some(leaver) = &mut child.care_leaver {
        leaver.pathway_reviews.push(d("2026-04-30"));
    }
    let missed = visit_requirements(&child, &england(), d("2026-05-02"))
        .into_iter()
        .find(|r| r.due == d("2026-04-30"))
        .expect("a requirement for the review of 30 April");
    assert_eq!(missed.status, RequirementStatus::Overdue);
}

// V16 and Wales.

#[test]
fn v16_scotland_one_week_then_three_months() {
    let scotland = SchedulePolicy::statutory(Jurisdiction::Scotland);
    // Every placement follows V16, whatever its basis.
    let child = input(placement("P1", "2026-01-05", StatutoryBasis::Reg24), &[]);
    assert_eq!(
        due_and_rule(&current(&child, &scotland, "2026-01-06")),
        ("2026-01-12".into(), RuleId::V16)
    );
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-09"],
    );
    let now = current(&child, &scotland, "2026-01-10");
    assert_eq!(due_and_rule(&now), ("2026-04-09".into(), RuleId::V16));
    assert_eq!(
        now.reason,
        "Within 3 months of the last visit on 9 January 2026"
    );
    let local = scotland
        .clone()
        .with_local_interval(RuleId::V16, Interval::Weeks(6))
        .expect("shorter than 3 months");
    let now = current(&child, &local, "2026-01-10");
    assert_eq!(now.due, d("2026-02-20"));
    assert_eq!(
        now.reason,
        "Within 6 weeks of the last visit on 9 January 2026 (local timescale)"
    );
    assert_eq!(
        scotland
            .with_local_interval(RuleId::V2, Interval::Weeks(4))
            .map_err(|e| e.to_string()),
        Err("V2 does not apply in Scotland".into())
    );
}

#[test]
fn wales_follows_england_without_v5() {
    let wales = SchedulePolicy::statutory(Jurisdiction::Wales);
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Reg24),
        &["2026-01-08"],
    );
    assert_eq!(current(&child, &wales, "2026-01-09").due, d("2026-01-15"));
    assert_eq!(
        wales
            .clone()
            .with_local_interval(RuleId::V5, Interval::Months(3))
            .map_err(|e| e.to_string()),
        Err("V5 does not apply in Wales".into())
    );
    assert!(
        wales
            .with_local_interval(RuleId::V7, Interval::Weeks(3))
            .is_ok()
    );
}

// Clock, placements and what counts.

#[test]
fn a_new_placement_restarts_the_clock() {
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
fn no_current_placement_means_no_schedule() {
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
fn a_temporary_placement_restarts_the_clock_unless_configured_not_to() {
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
fn virtual_visits_and_review_meetings_do_not_count_by_default() {
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
fn drafts_count_unless_configured_and_future_visits_never() {
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
fn several_visits_on_one_day_meet_one_requirement() {
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
fn the_due_soon_window() {
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

// Local intervals: worked example (f).

#[test]
fn local_intervals_example_f() {
    let three_days = england()
        .with_local_interval(RuleId::V1, Interval::Days(3))
        .expect("3 days is within 1 week");
    let child = input(placement("P1", "2026-01-05", StatutoryBasis::Standard), &[]);
    let now = current(&child, &three_days, "2026-01-05");
    assert_eq!(now.due, d("2026-01-08"));
    assert_eq!(
        now.reason,
        "Within 3 days of the start of the placement on 5 January 2026 (local timescale)"
    );
    let refused = england().with_local_interval(RuleId::V2, Interval::Weeks(8));
    assert_eq!(
        refused,
        Err(ScheduleError::LongerThanStatutory {
            rule: RuleId::V2,
            local: Interval::Weeks(8),
            maximum: Interval::Weeks(6),
        })
    );
    assert_eq!(
        refused.map_err(|e| e.to_string()),
        Err(
            "the local interval for V2 (8 weeks) is longer than the statutory maximum of 6 weeks"
                .into()
        )
    );
}

#[test]
fn local_intervals_shorten_only_their_own_rule() {
    let four_weeks = england()
        .with_local_interval(RuleId::V2, Interval::Weeks(5))
        .and_then(|policy| policy.with_local_interval(RuleId::V2, Interval::Weeks(4)))
        .expect("shorter than 6 weeks");
    assert_eq!(
        four_weeks.local_interval(RuleId::V2),
        Some(Interval::Weeks(4))
    );
    let child = input(
        placement("P1", "2026-01-05", StatutoryBasis::Standard),
        &["2026-01-09"],
    );
    let now = current(&child, &four_weeks, "2026-01-10");
    assert_eq!(now.due, d("2026-02-06"));
    assert_eq!(
        now.reason,
        "Within 4 weeks of the last visit on 9 January 2026 (first year of the placement; local timescale)"
    );
    // V1 keeps its statutory week.
    let child = input(placement("P1", "2026-01-05", StatutoryBasis::Standard), &[]);
    assert_eq!(
        current(&child, &four_weeks, "2026-01-05").due,
        d("2026-01-12")
    );
}

#[test]
fn a_placements_own_interval_caps_every_deadline_but_never_lengthens() {
    let mut placed = placement("P1", "2025-01-10", StatutoryBasis::Standard);
    placed.intended_until_18 = true;
    placed.local_interval = Some(Interval::Days(28));
    let child = input(placed.clone(), &["2026-01-31"]);
    let now = current(&child, &england(), "2026-02-01");
    assert_eq!(due_and_rule(&now), ("2026-02-28".into(), RuleId::V3));
    assert_eq!(
        now.reason,
        "Within 28 days of the last visit on 31 January 2026 \
         (placement intended to last until 18, after its first year; local timescale)"
    );
    placed.local_interval = Some(Interval::Days(200));
    let child = input(placed, &["2026-01-31"]);
    assert_eq!(
        current(&child, &england(), "2026-02-01").due,
        d("2026-04-30")
    );
}

#[test]
fn refused_local_intervals_say_why() {
    let refusal = |rule, interval| {
        england()
            .with_local_interval(rule, interval)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        refusal(RuleId::V1, Interval::Days(8)),
        Err(
            "the local interval for V1 (8 days) is longer than the statutory maximum of 1 week"
                .into()
        )
    );
    assert_eq!(
        refusal(RuleId::V2, Interval::Weeks(0)),
        Err("the local interval for V2 must be at least 1 day".into())
    );
    assert_eq!(
        refusal(RuleId::V11, Interval::Weeks(4)),
        Err(
            "the interval for V11 is agreed for each child with the IRO and parents: \
             record it on the child's placement"
                .into()
        )
    );
    assert_eq!(
        refusal(RuleId::V16, Interval::Weeks(4)),
        Err("V16 does not apply in England".into())
    );
    for rule in [RuleId::V10, RuleId::V14] {
        assert!(refusal(rule, Interval::Days(1)).is_err());
    }
    // Weeks against months: refused whenever they could be longer.
    assert!(refusal(RuleId::V3, Interval::Weeks(13)).is_err());
    assert_eq!(refusal(RuleId::V3, Interval::Weeks(12)), Ok(()));
    assert!(refusal(RuleId::V3, Interval::Months(4)).is_err());
    assert_eq!(refusal(RuleId::V3, Interval::Months(3)), Ok(()));
    assert!(refusal(RuleId::V15, Interval::Weeks(9)).is_err());
    assert_eq!(refusal(RuleId::V15, Interval::Weeks(8)), Ok(()));
    assert!(refusal(RuleId::V1, Interval::Months(1)).is_err());
    assert_eq!(refusal(RuleId::V5, Interval::Days(181)), Ok(()));
    assert!(refusal(RuleId::V5, Interval::Days(182)).is_err());
}

// Working days.

#[test]
fn bank_holidays_of_england_and_wales() {
    let list = |year| -> Vec<String> {
        bank_holidays(year, Jurisdiction::England)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let expected: [(u16, &[&str]); 8] = [
        (
            2020,
            &[
                "2020-01-01",
                "2020-04-10",
                "2020-04-13",
                "2020-05-08",
                "2020-05-25",
                "2020-08-31",
                "2020-12-25",
                "2020-12-28",
            ],
        ),
        (
            2021,
            &[
                "2021-01-01",
                "2021-04-02",
                "2021-04-05",
                "2021-05-03",
                "2021-05-31",
                "2021-08-30",
                "2021-12-27",
                "2021-12-28",
            ],
        ),
        (
            2022,
            &[
                "2022-01-03",
                "2022-04-15",
                "2022-04-18",
                "2022-05-02",
                "2022-06-02",
                "2022-06-03",
                "2022-08-29",
                "2022-09-19",
                "2022-12-26",
                "2022-12-27",
            ],
        ),
        (
            2023,
            &[
                "2023-01-02",
                "2023-04-07",
                "2023-04-10",
                "2023-05-01",
                "2023-05-08",
                "2023-05-29",
                "2023-08-28",
                "2023-12-25",
                "2023-12-26",
            ],
        ),
        (
            2024,
            &[
                "2024-01-01",
                "2024-03-29",
                "2024-04-01",
                "2024-05-06",
                "2024-05-27",
                "2024-08-26",
                "2024-12-25",
                "2024-12-26",
            ],
        ),
        (
            2025,
            &[
                "2025-01-01",
                "2025-04-18",
                "2025-04-21",
                "2025-05-05",
                "2025-05-26",
                "2025-08-25",
                "2025-12-25",
                "2025-12-26",
            ],
        ),
        (
            2026,
            &[
                "2026-01-01",
                "2026-04-03",
                "2026-04-06",
                "2026-05-04",
                "2026-05-25",
                "2026-08-31",
                "2026-12-25",
                "2026-12-28",
            ],
        ),
        (
            2027,
            &[
                "2027-01-01",
                "2027-03-26",
                "2027-03-29",
                "2027-05-03",
                "2027-05-31",
                "2027-08-30",
                "2027-12-27",
                "2027-12-28",
            ],
        ),
    ];
    for (year, holidays) in expected {
        assert_eq!(list(year), holidays, "{year}");
    }
    assert_eq!(
        bank_holidays(2026, Jurisdiction::Wales),
        bank_holidays(2026, Jurisdiction::England)
    );
    // Every year to 2030 has eight (plus the one-offs of 2022 and 2023).
    for year in 2020..=2030 {
        let extra = match year {
            2022 => 2,
            2023 => 1,
            _ => 0,
        };
        assert_eq!(
            bank_holidays(year, Jurisdiction::England).len(),
            8 + extra,
            "{year}"
        );
    }
}

#[test]
fn bank_holidays_of_scotland() {
    let list = |year| -> Vec<String> {
        bank_holidays(year, Jurisdiction::Scotland)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        list(2026),
        [
            "2026-01-01",
            "2026-01-02",
            "2026-04-03",
            "2026-05-04",
            "2026-05-25",
            "2026-08-03",
            "2026-11-30",
            "2026-12-25",
            "2026-12-28",
        ]
    );
    assert_eq!(
        list(2022),
        [
            "2022-01-03",
            "2022-01-04",
            "2022-04-15",
            "2022-05-02",
            "2022-06-02",
            "2022-06-03",
            "2022-08-01",
            "2022-09-19",
            "2022-11-30",
            "2022-12-26",
            "2022-12-27",
        ]
    );
    // 1 January a Sunday: 2 and 3 January.
    assert_eq!(&list(2023)[..2], ["2023-01-02", "2023-01-03"]);
    // St Andrew's Day on a Saturday moves to Monday.
    assert!(list(2024).contains(&"2024-12-02".to_owned()));
}

#[test]
fn working_days_skip_weekends_and_bank_holidays() {
    let england = Jurisdiction::England;
    // Easter 2026: Good Friday 3 April, Easter Monday 6 April.
    assert_eq!(
        working_days_after(d("2026-04-02"), 1, england),
        d("2026-04-07")
    );
    assert_eq!(
        working_days_after(d("2026-04-02"), 2, england),
        d("2026-04-08")
    );
    // Christmas 2026: Friday 25 December, Boxing Day moved to Monday 28.
    assert_eq!(
        working_days_after(d("2026-12-24"), 1, england),
        d("2026-12-29")
    );
    // Over New Year into 2027.
    assert_eq!(
        working_days_after(d("2026-12-31"), 1, england),
        d("2027-01-04")
    );
    assert_eq!(
        working_days_after(d("2026-04-04"), 0, england),
        d("2026-04-04")
    );
    // Scotland works on Easter Monday but not on 2 January.
    assert_eq!(
        working_days_after(d("2026-04-02"), 1, Jurisdiction::Scotland),
        d("2026-04-06")
    );
    assert_eq!(
        working_days_after(d("2025-12-31"), 1, Jurisdiction::Scotland),
        d("2026-01-05")
    );
    assert!(!is_working_day(d("2026-12-28"), england));
    assert!(is_working_day(d("2026-12-29"), england));
    assert_eq!(
        working_days_after(CalendarDate::MAX, 1, england),
        CalendarDate::MAX
    );
}

#[test]
fn late_write_ups_are_more_than_two_working_days_after_the_visit() {
    let policy = england();
    // Visit on Thursday 2 April 2026: two working days take it to Wednesday 8 April.
    assert!(!is_late_write_up(d("2026-04-02"), d("2026-04-02"), &policy));
    assert!(!is_late_write_up(d("2026-04-02"), d("2026-04-08"), &policy));
    assert!(is_late_write_up(d("2026-04-02"), d("2026-04-09"), &policy));
    let mut same_day = policy;
    same_day.late_write_up_working_days = 0;
    assert!(is_late_write_up(
        d("2026-04-02"),
        d("2026-04-03"),
        &same_day
    ));
}

// From documents.

fn visit_document(
    visit_id: &str,
    child_id: &str,
    date: &str,
    location: VisitLocation,
    submit: bool,
) -> Visit {
    let mut doc = AutoCommit::new();
    model::create_visit(
        &mut doc,
        &NewVisit {
            visit_id: visit_id.into(),
            child_id: child_id.into(),
            worker_id: "worker-1".into(),
            visit_date: d("2026-01-01"),
            created_at: Timestamp::from_millis(1_767_225_600_000),
        },
    )
    .expect("create visit");
    // Written as text so that drafts with impossible dates can be tested.
    doc.put(ROOT, "visitDate", date).expect("put date");
    model::set_child_seen(&mut doc, true).expect("seen");
    // A visit counts once its kind is recorded too (issue 15).
    model::set_visit_kind(&mut doc, model::VisitKind::Statutory).expect("kind");
    model::set_location(&mut doc, location).expect("location");
    if submit {
        model::set_status(&mut doc, VisitStatus::Submitted).expect("status");
    }
    Visit::read(&doc).expect("read visit")
}

#[test]
fn schedule_input_reads_the_documents() {
    let new_child = NewChild {
        child_id: "child-1".into(),
        la_person_id: None,
        legal_name: "Test Child".into(),
        preferred_name: None,
        date_of_birth: d("2014-05-17"),
        sex: None,
        ethnicity: None,
        first_language: None,
        interpreter_needed: None,
        communication_needs: String::new(),
        legal_status: None,
        uasc: None,
        summary: String::new(),
        placement: Some(NewPlacement {
            placement_id: "P1".into(),
            start_date: d("2026-01-05"),
            end_date: None,
            placement_type: "U1".into(),
            provider: None,
            carer_name: None,
            postcode: None,
            statutory_basis: StatutoryBasis::Reg24,
            intended_until_18: false,
            ltf_designated: false,
            child_agreement_date: None,
            care_order_date: None,
            short_breaks_interval: None,
            other_arrangements_interval: None,
            local_interval: Some(Interval::Days(21)),
        }),
        became_looked_after: Some(d("2026-01-05")),
        reviews: vec![NewCaseReview {
            review_id: "R1".into(),
            due_date: Some(d("2026-02-02")),
            held_date: Some(d("2026-01-30")),
        }],
        care_leaver: Some(NewCareLeaver {
            accommodation_from: d("2030-06-01"),
            pathway_reviews: vec![d("2030-07-01")],
        }),
    };
    let mut doc = AutoCommit::new();
    model::create_child(&mut doc, &new_child).expect("create child");
    let child = Child::read(&doc).expect("read child");
    let visits = [
        visit_document(
            "V1",
            "child-1",
            "2026-01-08",
            VisitLocation::Placement,
            true,
        ),
        visit_document("V2", "child-1", "2026-02-03", VisitLocation::Virtual, false),
        visit_document(
            "V3",
            "child-2",
            "2026-01-09",
            VisitLocation::Placement,
            true,
        ),
        visit_document(
            "V4",
            "child-1",
            "2026-02-30",
            VisitLocation::Placement,
            true,
        ),
    ];
    let facts = schedule_input(&child, &visits);
    assert_eq!(
        facts,
        ScheduleInput {
            placements: vec![PlacementFacts {
                placement_id: "P1".into(),
                start: d("2026-01-05"),
                end: None,
                placement_type: "U1".into(),
                basis: StatutoryBasis::Reg24,
                intended_until_18: false,
                ltf_designated: false,
                child_agreement: None,
                care_order_date: None,
                short_breaks_interval: None,
                other_arrangements_interval: None,
                local_interval: Some(Interval::Days(21)),
            }],
            reviews: vec![ReviewFacts {
                due: Some(d("2026-02-02")),
                held: Some(d("2026-01-30")),
            }],
            visits: vec![
                VisitFacts {
                    visit_id: "V1".into(),
                    date: d("2026-01-08"),
                    child_seen: true,
                    location_virtual: false,
                    kind_review_meeting: false,
                    submitted: true,
                    kind_recorded: true,
                    made_by: None,
                    discarded: false,
                },
                VisitFacts {
                    visit_id: "V2".into(),
                    date: d("2026-02-03"),
                    child_seen: true,
                    location_virtual: true,
                    kind_review_meeting: false,
                    submitted: false,
                    kind_recorded: true,
                    made_by: None,
                    discarded: false,
                },
            ],
            requests: vec![],
            care_leaver: Some(CareLeaverFacts {
                accommodation_from: d("2030-06-01"),
                pathway_reviews: vec![d("2030-07-01")],
            }),
            became_looked_after: Some(d("2026-01-05")),
        }
    );
    // Weekly until the review of 30 January: due a week after 8 January,
    // since the video call of 3 February does not count.
    let schedule = child_schedule(&facts, &england(), d("2026-02-03"));
    assert_eq!(
        schedule.next_due.map(|r| (r.rule, r.due)),
        Some((RuleId::V7, d("2026-01-15")))
    );
    assert_eq!(schedule.status, ChildVisitStatus::Overdue);
}

// Intervals in calendar months, and which visits count (issue 15).

#[test]
fn agreed_intervals_in_calendar_months_count_as_the_calendar_counts() {
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
fn a_visit_counts_once_its_date_kind_and_child_seen_are_recorded_and_not_if_discarded() {
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
fn each_rule_counts_only_the_visits_of_whoever_it_names() {
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
