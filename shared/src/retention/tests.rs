//! Tests of the retention rules: each rule of each jurisdiction, leap days, and
//! properties over generated dates.

use proptest::prelude::*;

use super::*;

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).expect("date")
}

fn check(
    jurisdiction: Jurisdiction,
    born: &str,
    died: Option<&str>,
    until: &str,
    basis: RetentionBasis,
) {
    let got = RetentionRule::statutory(jurisdiction).retain_until(date(born), died.map(date));
    assert_eq!(
        got.retain_until,
        date(until),
        "{jurisdiction:?} {born} {died:?}"
    );
    assert_eq!(got.basis, basis);
}

const BIRTHDAY_75: RetentionBasis = RetentionBasis::Birthday { years: 75 };
const BIRTHDAY_100: RetentionBasis = RetentionBasis::Birthday { years: 100 };

#[test]
fn england_and_wales_keep_a_record_until_the_75th_birthday() {
    for jurisdiction in [Jurisdiction::England, Jurisdiction::Wales] {
        check(jurisdiction, "2014-05-17", None, "2089-05-17", BIRTHDAY_75);
    }
}

#[test]
fn england_and_wales_keep_15_years_after_a_death_before_18() {
    for jurisdiction in [Jurisdiction::England, Jurisdiction::Wales] {
        let basis = RetentionBasis::Death { years: 15 };
        check(
            jurisdiction,
            "2014-05-17",
            Some("2020-03-02"),
            "2035-03-02",
            basis,
        );
        // The day before the 18th birthday is still before 18.
        check(
            jurisdiction,
            "2000-05-17",
            Some("2018-05-16"),
            "2033-05-16",
            basis,
        );
    }
}

#[test]
fn a_death_at_18_or_later_leaves_the_birthday_rule() {
    check(
        Jurisdiction::England,
        "2000-05-17",
        Some("2018-05-17"),
        "2075-05-17",
        BIRTHDAY_75,
    );
    check(
        Jurisdiction::Scotland,
        "2000-05-17",
        Some("2030-01-01"),
        "2100-05-17",
        BIRTHDAY_100,
    );
}

#[test]
fn scotland_keeps_until_the_100th_birthday_or_25_years_after_a_death_before_18() {
    check(
        Jurisdiction::Scotland,
        "2014-05-17",
        None,
        "2114-05-17",
        BIRTHDAY_100,
    );
    let basis = RetentionBasis::Death { years: 25 };
    check(
        Jurisdiction::Scotland,
        "2014-05-17",
        Some("2020-03-02"),
        "2045-03-02",
        basis,
    );
}

#[test]
fn a_leap_day_birthday_falls_on_1_march_in_a_common_year() {
    // 2087 is not a leap year; 2112 (Scotland's 100th of 2012) is.
    check(
        Jurisdiction::England,
        "2012-02-29",
        None,
        "2087-03-01",
        BIRTHDAY_75,
    );
    check(
        Jurisdiction::Scotland,
        "2012-02-29",
        None,
        "2112-02-29",
        BIRTHDAY_100,
    );
    // The death rule's 18th birthday moves too: dying on 28 February 2030 is before 18
    // (the 18th birthday is 1 March 2030).
    let basis = RetentionBasis::Death { years: 15 };
    check(
        Jurisdiction::England,
        "2012-02-29",
        Some("2030-02-28"),
        "2045-02-28",
        basis,
    );
    check(
        Jurisdiction::England,
        "2012-02-29",
        Some("2030-03-01"),
        "2087-03-01",
        BIRTHDAY_75,
    );
}

#[test]
fn a_leap_day_death_counts_from_1_march_in_a_common_year() {
    let basis = RetentionBasis::Death { years: 15 };
    check(
        Jurisdiction::Wales,
        "2010-01-01",
        Some("2020-02-29"),
        "2035-03-01",
        basis,
    );
    let basis = RetentionBasis::Death { years: 25 };
    check(
        Jurisdiction::Scotland,
        "2010-01-01",
        Some("2020-02-29"),
        "2045-03-01",
        basis,
    );
}

#[test]
fn a_death_recorded_before_the_birth_is_ignored() {
    check(
        Jurisdiction::England,
        "2014-05-17",
        Some("2013-01-01"),
        "2089-05-17",
        BIRTHDAY_75,
    );
}

#[test]
fn retention_expires_on_its_date_not_before() {
    let retention =
        RetentionRule::statutory(Jurisdiction::England).retain_until(date("1950-06-01"), None);
    assert!(!retention.expired(date("2025-05-31")));
    assert!(retention.expired(date("2025-06-01")));
}

fn any_date() -> impl Strategy<Value = CalendarDate> {
    (0i64..80_000).prop_map(|days| CalendarDate::from_days_since_epoch(days).expect("date"))
}

fn any_jurisdiction() -> impl Strategy<Value = Jurisdiction> {
    prop_oneof![
        Just(Jurisdiction::England),
        Just(Jurisdiction::Wales),
        Just(Jurisdiction::Scotland)
    ]
}

proptest! {
    #[test]
    fn a_record_is_never_deletable_before_the_child_is_18_or_dead(
        jurisdiction in any_jurisdiction(), born in any_date(), death_after in proptest::option::of(0i64..40_000)
    ) {
        let died = death_after.and_then(|days| born.add_days(days));
        let retention = RetentionRule::statutory(jurisdiction).retain_until(born, died);
        prop_assert!(retention.retain_until > born);
        match died {
            Some(death) if death < anniversary(born, 18) => {
                prop_assert!(retention.retain_until > death);
                prop_assert!(retention.retain_until.days_since_epoch() - death.days_since_epoch() >= 15 * 365);
            }
            _ => prop_assert_eq!(retention.retain_until, anniversary(born, RetentionRule::statutory(jurisdiction).birthday_years)),
        }
    }

    #[test]
    fn an_anniversary_keeps_the_day_or_moves_a_leap_day_to_1_march(born in any_date(), years in 1u16..120) {
        let later = anniversary(born, years);
        prop_assert_eq!(later.year(), born.year() + years);
        if born.month() == 2 && born.day() == 29 && !crate::model::is_leap_year(later.year()) {
            prop_assert_eq!((later.month(), later.day()), (3, 1));
        } else {
            prop_assert_eq!((later.month(), later.day()), (born.month(), born.day()));
        }
    }

    #[test]
    fn scotland_never_keeps_less_than_england(born in any_date(), death_after in proptest::option::of(0i64..40_000)) {
        let died = death_after.and_then(|days| born.add_days(days));
        let england = RetentionRule::statutory(Jurisdiction::England).retain_until(born, died);
        let scotland = RetentionRule::statutory(Jurisdiction::Scotland).retain_until(born, died);
        prop_assert!(scotland.retain_until >= england.retain_until);
    }
}
