//! Working days over bank holidays, and the late write-up test.

use super::*;

// Working days.

#[test]
pub(super) fn bank_holidays_of_england_and_wales() {
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
pub(super) fn bank_holidays_of_scotland() {
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
pub(super) fn working_days_skip_weekends_and_bank_holidays() {
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
pub(super) fn late_write_ups_are_more_than_two_working_days_after_the_visit() {
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
