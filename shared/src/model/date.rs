//! Calendar dates as stored in documents: `"YYYY-MM-DD"`.
//!
//! Dates are plain strings in the documents (the JavaScript client writes the
//! same text), so they are parsed here by hand rather than with a date crate.
//! A [`CalendarDate`] is always a real date in the proleptic Gregorian
//! calendar between the years 1 and 9999; ordering follows the calendar.

use std::fmt;

/// A real calendar date with no time of day and no time zone.
///
/// Fields are ordered year, month, day so the derived ordering is
/// chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CalendarDate {
    /// The date, or `None` when it does not exist (for example 29 February
    /// in a year that is not a leap year, or a year outside 1 to 9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Self { year, month, day })
    }

    /// Parses exactly `"YYYY-MM-DD"` (ASCII digits, zero padded); `None` when
    /// the text has another shape or names a date that does not exist.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u16> {
            bytes[range].iter().try_fold(0u16, |total, &byte| {
                byte.is_ascii_digit()
                    .then(|| total * 10 + u16::from(byte - b'0'))
            })
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).ok()?;
        let day = u8::try_from(number(8..10)?).ok()?;
        Self::new(year, month, day)
    }

    /// The year, 1 to 9999.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 (January) to 12 (December).
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, starting at 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let month = i64::from(self.month);
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year =
            (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` days after 1970-01-01, or `None` outside the years 1 to 9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// The date `days` days later (earlier when negative), or `None` outside the years 1 to 9999.
    pub fn add_days(self, days: i64) -> Option<Self> {
        Self::from_days_since_epoch(self.days_since_epoch() + days)
    }

    /// The same day `months` calendar months later (earlier when negative),
    /// clamped to the end of a shorter month: 31 January + 1 month is 28
    /// February (29 in a leap year), 31 August + 6 months is the end of
    /// February. `None` outside the years 1 to 9999.
    pub fn add_months(self, months: i64) -> Option<Self> {
        let index = (i64::from(self.year) * 12 + i64::from(self.month) - 1).checked_add(months)?;
        let year = u16::try_from(index.div_euclid(12)).ok()?;
        let month = u8::try_from(index.rem_euclid(12) + 1).ok()?;
        if !(1..=9999).contains(&year) {
            return None;
        }
        Self::new(year, month, self.day.min(days_in_month(year, month)))
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday, three days after a Monday.
        Weekday::ALL[(self.days_since_epoch() + 3).rem_euclid(7) as usize]
    }

    /// Whether the date is a Saturday or a Sunday.
    pub fn is_weekend(self) -> bool {
        matches!(self.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The date as people write it, e.g. `"1 March 2026"` (GOV.UK style).
    pub fn long_form(self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let month = MONTHS[usize::from(self.month - 1)];
        format!("{} {month} {}", self.day, self.year)
    }

    /// The last representable date, 31 December 9999.
    pub const MAX: CalendarDate = CalendarDate {
        year: 9999,
        month: 12,
        day: 31,
    };
}

/// A day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The calendar date in the UK (Europe/London) at `millis` after 1970-01-01 00:00 UTC.
///
/// Statutory timescales run on the local calendar: a visit due "today" is overdue from
/// midnight UK time, which in summer is 23:00 UTC the evening before. The UK keeps Greenwich
/// Mean Time in winter and British Summer Time (one hour ahead) from 01:00 UTC on the last
/// Sunday of March to 01:00 UTC on the last Sunday of October.
pub fn uk_civil_date(millis: u64) -> CalendarDate {
    const HOUR: u64 = 3_600_000;
    const DAY: u64 = 24 * HOUR;
    let utc_date = date_from_days((millis / DAY) as i64);
    let year = utc_date.year();
    let summer_starts = last_sunday(year, 3).days_since_epoch() as u64 * DAY + HOUR;
    let summer_ends = last_sunday(year, 10).days_since_epoch() as u64 * DAY + HOUR;
    let local = if (summer_starts..summer_ends).contains(&millis) {
        millis + HOUR
    } else {
        millis
    };
    date_from_days((local / DAY) as i64)
}

/// The last Sunday of a month (used for the clock changes).
fn last_sunday(year: u16, month: u8) -> CalendarDate {
    let last = CalendarDate::new(year, month, days_in_month(year, month))
        .unwrap_or_else(|| date_from_days(0));
    let back = match last.weekday() {
        Weekday::Sunday => 0,
        Weekday::Monday => 1,
        Weekday::Tuesday => 2,
        Weekday::Wednesday => 3,
        Weekday::Thursday => 4,
        Weekday::Friday => 5,
        Weekday::Saturday => 6,
    };
    last.add_days(-back).unwrap_or(last)
}

/// The date `days` after 1970-01-01, clamped into the range a [`CalendarDate`] holds.
fn date_from_days(days: i64) -> CalendarDate {
    CalendarDate::from_days_since_epoch(days).unwrap_or_else(|| {
        let bound = if days < 0 { (1, 1, 1) } else { (9999, 12, 31) };
        CalendarDate::new(bound.0, bound.1, bound.2).unwrap_or(EPOCH)
    })
}

/// 1 January 1970.
const EPOCH: CalendarDate = CalendarDate {
    year: 1970,
    month: 1,
    day: 1,
};

/// Whether `year` has a 29 February in the Gregorian calendar.
pub fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
