//! Dates, intervals, weekdays and the policy's defaults.

use super::*;

// Dates and intervals.

#[test]
pub(super) fn months_are_calendar_months_clamped_to_month_end() {
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
pub(super) fn weekdays_and_long_dates() {
    use crate::model::date::Weekday;
    assert_eq!(d("1970-01-01").weekday(), Weekday::Thursday);
    assert_eq!(d("2026-01-05").weekday(), Weekday::Monday);
    assert_eq!(d("2026-12-27").weekday(), Weekday::Sunday);
    assert!(d("2026-12-26").is_weekend() && !d("2026-12-28").is_weekend());
    assert_eq!(d("2026-03-01").long_form(), "1 March 2026");
    assert_eq!(d("2024-12-31").long_form(), "31 December 2024");
}

#[test]
pub(super) fn intervals_rules_and_jurisdictions_print_and_parse() {
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
pub(super) fn policy_defaults_are_the_handbook_ones() {
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
