//! Working days: [`working_days_after`] counts days that are neither
//! weekends nor bank holidays, for review timings (V14) and late write-ups.
//!
//! Bank holidays are computed, not looked up, so every year has them: the
//! fixed days (moved to the next free weekday when they fall at a weekend),
//! Easter, the May and August Mondays, and the one-off changes of 2020 (early
//! May moved to VE Day), 2022 (Platinum Jubilee, the State Funeral) and 2023
//! (the Coronation). England and Wales share one list; Scotland has its own
//! (2 January and St Andrew's Day, the summer holiday on the first Monday of
//! August, no Easter Monday). One-off holidays announced after 2023 must be
//! added to [`ONE_OFF`] when they are announced.

use super::{Jurisdiction, SchedulePolicy};
use crate::model::CalendarDate;
use crate::model::date::Weekday;

/// The day `n` working days after `date` (weekends and bank holidays of
/// `jurisdiction` skipped); `date` itself when `n` is 0, whatever day it is.
pub fn working_days_after(date: CalendarDate, n: u32, jurisdiction: Jurisdiction) -> CalendarDate {
    let mut day = date;
    let mut holidays = (day.year(), bank_holidays(day.year(), jurisdiction));
    let mut left = n;
    while left > 0 {
        let Some(next) = day.add_days(1) else {
            return CalendarDate::MAX;
        };
        day = next;
        if holidays.0 != day.year() {
            holidays = (day.year(), bank_holidays(day.year(), jurisdiction));
        }
        if !day.is_weekend() && !holidays.1.contains(&day) {
            left -= 1;
        }
    }
    day
}

/// Whether `date` is a weekday that is not a bank holiday in `jurisdiction`.
pub fn is_working_day(date: CalendarDate, jurisdiction: Jurisdiction) -> bool {
    !date.is_weekend() && !bank_holidays(date.year(), jurisdiction).contains(&date)
}

/// Whether a visit's record was written up late: more than the policy's
/// working days (default 2) after the visit.
pub fn is_late_write_up(
    visit_date: CalendarDate,
    written_up: CalendarDate,
    policy: &SchedulePolicy,
) -> bool {
    written_up
        > working_days_after(
            visit_date,
            policy.late_write_up_working_days,
            policy.jurisdiction(),
        )
}

/// The bank holidays of `year` in `jurisdiction`, in date order.
pub fn bank_holidays(year: u16, jurisdiction: Jurisdiction) -> Vec<CalendarDate> {
    let date = |month, day| CalendarDate::new(year, month, day);
    let scotland = jurisdiction == Jurisdiction::Scotland;
    let fixed: Vec<CalendarDate> = if scotland {
        [(1, 1), (1, 2), (11, 30), (12, 25), (12, 26)]
            .iter()
            .filter_map(|&(month, day)| date(month, day))
            .collect()
    } else {
        [(1, 1), (12, 25), (12, 26)]
            .iter()
            .filter_map(|&(month, day)| date(month, day))
            .collect()
    };
    // Fixed days on weekdays stay; those at a weekend move, in order, to
    // the next weekday that is not already a holiday.
    let mut holidays: Vec<CalendarDate> = fixed
        .iter()
        .copied()
        .filter(|day| !day.is_weekend())
        .collect();
    for day in fixed.iter().copied().filter(|day| day.is_weekend()) {
        let mut substitute = day;
        while substitute.is_weekend() || holidays.contains(&substitute) {
            match substitute.add_days(1) {
                Some(next) => substitute = next,
                None => break,
            }
        }
        holidays.push(substitute);
    }
    if let Some(easter) = easter_sunday(year) {
        holidays.extend(easter.add_days(-2));
        if !scotland {
            holidays.extend(easter.add_days(1));
        }
    }
    let early_may = nth_monday(year, 5, 1);
    let spring = last_monday(year, 5);
    let summer = if scotland {
        nth_monday(year, 8, 1)
    } else {
        last_monday(year, 8)
    };
    holidays.extend([early_may, spring, summer].into_iter().flatten());
    for &(moved_from, moved_to) in MOVED {
        if let (Some(from), Some(to)) = (parse(moved_from), parse(moved_to))
            && from.year() == year
        {
            holidays.retain(|day| *day != from);
            holidays.push(to);
        }
    }
    holidays.extend(
        ONE_OFF
            .iter()
            .filter_map(|text| parse(text))
            .filter(|day| day.year() == year),
    );
    holidays.sort_unstable();
    holidays.dedup();
    holidays
}

/// Regular holidays moved in a given year (the same across the UK).
const MOVED: &[(&str, &str)] = &[
    // Early May bank holiday moved to VE Day's 75th anniversary.
    ("2020-05-04", "2020-05-08"),
    // Spring bank holiday moved for the Platinum Jubilee.
    ("2022-05-30", "2022-06-02"),
];

/// Extra one-off bank holidays (the same across the UK).
const ONE_OFF: &[&str] = &[
    // Platinum Jubilee.
    "2022-06-03",
    // State Funeral of Queen Elizabeth II.
    "2022-09-19",
    // Coronation of King Charles III.
    "2023-05-08",
];

fn parse(text: &str) -> Option<CalendarDate> {
    CalendarDate::parse(text)
}

/// Easter Sunday (anonymous Gregorian algorithm).
fn easter_sunday(year: u16) -> Option<CalendarDate> {
    let y = u32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    // Never below zero: h is at most 29 and k at most 3.
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l + 114 - 7 * m;
    let month = u8::try_from(n / 31).ok()?;
    let day = u8::try_from(n % 31 + 1).ok()?;
    CalendarDate::new(year, month, day)
}

/// The `n`th Monday (from 1) of `month`.
fn nth_monday(year: u16, month: u8, n: u8) -> Option<CalendarDate> {
    let first = CalendarDate::new(year, month, 1)?;
    let offset = (7 - weekday_index(first)) % 7;
    first.add_days(i64::from(offset) + 7 * (i64::from(n) - 1))
}

/// The last Monday of `month`.
fn last_monday(year: u16, month: u8) -> Option<CalendarDate> {
    let next_month = if month == 12 {
        CalendarDate::new(year.checked_add(1)?, 1, 1)?
    } else {
        CalendarDate::new(year, month + 1, 1)?
    };
    let last = next_month.add_days(-1)?;
    last.add_days(-i64::from(weekday_index(last)))
}

/// Monday 0 to Sunday 6.
fn weekday_index(date: CalendarDate) -> u8 {
    match date.weekday() {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
        Weekday::Saturday => 5,
        Weekday::Sunday => 6,
    }
}
