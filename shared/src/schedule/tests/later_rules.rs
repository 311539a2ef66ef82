//! Rules V8 to V16 and Wales: placement with parents, other arrangements, short breaks,
//! reviews and care leavers.

use super::*;

// V8 to V11.

#[test]
pub(super) fn v8_care_order_with_a_parent_counts_from_the_order() {
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
pub(super) fn v9_other_living_arrangements_use_the_configured_interval() {
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
pub(super) fn v10_each_request_is_due_at_once() {
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
pub(super) fn v11_short_breaks_need_an_agreed_interval() {
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
pub(super) fn v12_v13_set_no_deadline_and_an_unseen_child_is_no_visit() {
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
pub(super) fn v14_review_due_dates() {
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
pub(super) fn v14_review_schedule_with_held_and_planned_reviews() {
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
pub(super) fn v15_care_leaver_visits_within_7_days_before_pathway_reviews_then_2_months() {
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
pub(super) fn v16_scotland_one_week_then_three_months() {
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
pub(super) fn wales_follows_england_without_v5() {
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
