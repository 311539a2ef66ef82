//! Local shorter intervals: worked example (f), and the ones refused.

use super::*;

// Local intervals: worked example (f).

#[test]
pub(super) fn local_intervals_example_f() {
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
pub(super) fn local_intervals_shorten_only_their_own_rule() {
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
pub(super) fn a_placements_own_interval_caps_every_deadline_but_never_lengthens() {
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
pub(super) fn refused_local_intervals_say_why() {
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
