//! Tests for [`CalendarDate`](super::CalendarDate): the Gregorian calendar, day
//! arithmetic and UK civil dates.

use super::test_fixtures::*;
use super::*;

#[test]
fn calendar_dates_follow_the_gregorian_calendar() {
    for (text, real) in [
        ("2024-02-29", true),
        ("2000-02-29", true),
        ("2023-02-29", false),
        ("1900-02-29", false),
        ("2023-02-28", true),
        ("2024-12-31", true),
        ("2024-13-01", false),
        ("2024-00-10", false),
        ("2024-01-00", false),
        ("2024-06-31", false),
        ("0000-01-01", false),
        ("2024-1-01", false),
        ("2024/01/01", false),
        ("2024-01-01 ", false),
        ("+024-01-01", false),
        ("２０２4-01", false),
        ("", false),
    ] {
        assert_eq!(CalendarDate::parse(text).is_some(), real, "{text:?}");
    }
    assert_eq!(date("0999-01-02").to_string(), "0999-01-02");
    assert!(date("2023-12-31") < date("2024-01-01"));
    assert!(is_leap_year(2024) && is_leap_year(2000) && !is_leap_year(1900) && !is_leap_year(2023));
}

#[test]
fn day_arithmetic_crosses_month_ends_and_leap_days() {
    assert_eq!(date("1970-01-01").days_since_epoch(), 0);
    assert_eq!(date("2000-03-01").days_since_epoch(), 11_017);
    assert_eq!(date("2024-02-28").add_days(1), Some(date("2024-02-29")));
    assert_eq!(date("2023-02-28").add_days(1), Some(date("2023-03-01")));
    assert_eq!(date("2026-12-31").add_days(1), Some(date("2027-01-01")));
    assert_eq!(date("2026-03-01").add_days(-1), Some(date("2026-02-28")));
    assert_eq!(date("1969-12-31").days_since_epoch(), -1);
    assert_eq!(date("0001-01-01").add_days(-1), None);
}

proptest::proptest! {
    #[test]
    fn days_since_epoch_round_trips(days in -719_162i64..2_932_896) {
        let date = CalendarDate::from_days_since_epoch(days).expect("in range");
        proptest::prop_assert_eq!(date.days_since_epoch(), days);
    }
}

#[test]
fn uk_dates_follow_british_summer_time() {
    let at = |day_text: &str, hour: u64, minute: u64| {
        let day = u64::try_from(date(day_text).days_since_epoch()).expect("after 1970");
        day * 86_400_000 + hour * 3_600_000 + minute * 60_000
    };
    let uk = |millis| uk_civil_date(millis).to_string();
    // Winter: local time is UTC.
    assert_eq!(uk(at("2026-12-31", 23, 30)), "2026-12-31");
    assert_eq!(uk(at("2026-03-28", 23, 30)), "2026-03-28");
    // Summer time starts at 01:00 UTC on the last Sunday of March (29 March 2026).
    assert_eq!(uk(at("2026-03-29", 0, 59)), "2026-03-29");
    assert_eq!(uk(at("2026-03-29", 23, 0)), "2026-03-30");
    assert_eq!(uk(at("2026-06-30", 23, 30)), "2026-07-01");
    assert_eq!(uk(at("2026-06-30", 22, 59)), "2026-06-30");
    // It ends at 01:00 UTC on the last Sunday of October (25 October 2026).
    assert_eq!(uk(at("2026-10-24", 23, 30)), "2026-10-25");
    assert_eq!(uk(at("2026-10-25", 23, 30)), "2026-10-25");
    // Another year's last Sundays: 31 March 2024 and 27 October 2024.
    assert_eq!(uk(at("2024-03-30", 23, 30)), "2024-03-30");
    assert_eq!(uk(at("2024-03-31", 23, 30)), "2024-04-01");
    assert_eq!(uk(at("2024-10-26", 23, 30)), "2024-10-27");
    assert_eq!(uk(at("2024-10-27", 23, 30)), "2024-10-27");
}
