//! [`Interval`]: a length of time between visits, in the units the
//! regulations use.
//!
//! Days and weeks are fixed numbers of days (a week is 7 days, six weeks 42).
//! Months are calendar months clamped to the end of a shorter month, so the
//! number of days a month spans depends on where it starts (31 January plus
//! one month is 28 or 29 February).

use std::fmt;
use std::str::FromStr;

use super::ScheduleError;
use crate::model::CalendarDate;

/// A length of time between visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// A number of days.
    Days(u32),
    /// A number of weeks of 7 days.
    Weeks(u32),
    /// A number of calendar months, clamped to month end.
    Months(u32),
}

impl Interval {
    /// The date this interval after `date`; the last representable date
    /// when that would be past the year 9999.
    pub fn after(self, date: CalendarDate) -> CalendarDate {
        match self {
            Interval::Days(days) => date.add_days(i64::from(days)),
            Interval::Weeks(weeks) => date.add_days(i64::from(weeks) * 7),
            Interval::Months(months) => date.add_months(i64::from(months)),
        }
        .unwrap_or(CalendarDate::MAX)
    }

    /// Whether the interval is no time at all (0 days, weeks or months).
    pub fn is_empty(self) -> bool {
        matches!(
            self,
            Interval::Days(0) | Interval::Weeks(0) | Interval::Months(0)
        )
    }

    /// Whether this interval can ever end later than `other` from the same
    /// start date: months compare with months by count, otherwise by the
    /// longest span of this one against the shortest span of `other`.
    pub fn can_exceed(self, other: Interval) -> bool {
        match (self, other) {
            (Interval::Months(mine), Interval::Months(theirs)) => mine > theirs,
            _ => self.span_days().1 > other.span_days().0,
        }
    }

    /// The fewest and the most days this interval spans, over every start date.
    fn span_days(self) -> (i64, i64) {
        match self {
            Interval::Days(days) => (i64::from(days), i64::from(days)),
            Interval::Weeks(weeks) => (i64::from(weeks) * 7, i64::from(weeks) * 7),
            // Beyond a century the exact figure no longer matters.
            Interval::Months(months) if months > 1200 => {
                (i64::from(months) * 28, i64::from(months) * 31)
            }
            Interval::Months(months) => {
                // Four years starting with a leap year show every pattern of
                // month lengths (a century year that is not a leap year
                // behaves like any other common year).
                let first = CalendarDate::new(2024, 1, 1).map_or(0, |d| d.days_since_epoch());
                (first..first + 4 * 366)
                    .filter_map(CalendarDate::from_days_since_epoch)
                    .map(|start| {
                        Interval::Months(months).after(start).days_since_epoch()
                            - start.days_since_epoch()
                    })
                    .fold((i64::MAX, i64::MIN), |(low, high), span| {
                        (low.min(span), high.max(span))
                    })
            }
        }
    }
}

impl fmt::Display for Interval {
    /// Plain words: `"1 day"`, `"3 days"`, `"6 weeks"`, `"3 months"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, unit) = match *self {
            Interval::Days(count) => (count, "day"),
            Interval::Weeks(count) => (count, "week"),
            Interval::Months(count) => (count, "month"),
        };
        let plural = if count == 1 { "" } else { "s" };
        write!(f, "{count} {unit}{plural}")
    }
}

impl FromStr for Interval {
    type Err = ScheduleError;

    /// Parses what [`Display`](fmt::Display) writes: a whole number and
    /// `day(s)`, `week(s)` or `month(s)`, e.g. `"72 days"` or `"1 month"`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || ScheduleError::UnknownInterval {
            value: text.to_owned(),
        };
        let lower = text.trim().to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let (Some(count), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(unknown());
        };
        let count: u32 = count.parse().map_err(|_| unknown())?;
        match unit {
            "day" | "days" => Ok(Interval::Days(count)),
            "week" | "weeks" => Ok(Interval::Weeks(count)),
            "month" | "months" => Ok(Interval::Months(count)),
            _ => Err(unknown()),
        }
    }
}
