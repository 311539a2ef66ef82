//! How long a child's record must be kept (`../shared/domain.md` D1): the pure rule,
//! from the child's date of birth and, where the child has died, the date of death.
//!
//! | jurisdiction | rule | basis |
//! |---|---|---|
//! | England | the 75th birthday; if the child died before 18, 15 years from the death | CPPCR 2010 reg 50 |
//! | Wales | the same as England | CPPCR (Wales) 2015 reg 64 |
//! | Scotland | the 100th birthday; if the child died before 18, 25 years from the death | LAC (Scotland) Regs 2009 reg 43 |
//!
//! A record may be deleted on or after its [`RetentionRule::retain_until`] date, never
//! before. "15 years beginning with the date of death" ends the day before the 15th
//! anniversary, so the anniversary is the first day deletion is allowed, as the 75th
//! birthday is for the birthday rule: one meaning for both.
//!
//! **Leap days.** A child born on 29 February reaches an age, in a year without one, on
//! 1 March (the rule Scots law writes down in the Age of Legal Capacity (Scotland) Act
//! 1991 s6(2), and the reading of the Family Law Reform Act 1969 s9 used in England and
//! Wales). A death on 29 February counts its anniversaries the same way. So an anniversary
//! that falls on a 29 February that does not exist is 1 March, never 28 February: the
//! later of the two, which keeps the record the longer.
//!
//! Only the server computes this (the device never needs it), so it adds nothing to the
//! wasm.

use crate::model::CalendarDate;
use crate::schedule::Jurisdiction;

#[cfg(test)]
mod tests;

/// Which rule decided a retention date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionBasis {
    /// Kept until a birthday (75th, or 100th in Scotland).
    Birthday {
        /// The birthday in years.
        years: u16,
    },
    /// The child died before 18: kept for a number of years from the death.
    Death {
        /// Years kept after the death.
        years: u16,
    },
}

impl RetentionBasis {
    /// A sentence for a person: "75th birthday", "15 years after death before 18".
    pub fn describe(self) -> String {
        match self {
            RetentionBasis::Birthday { years } => format!("{years}th birthday"),
            RetentionBasis::Death { years } => format!("{years} years after death before 18"),
        }
    }
}

/// The computed retention of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The first day the record may be deleted.
    pub retain_until: CalendarDate,
    /// Which rule gave it.
    pub basis: RetentionBasis,
}

impl Retention {
    /// Whether the record may be deleted on `today` (retention is over).
    pub fn expired(self, today: CalendarDate) -> bool {
        today >= self.retain_until
    }
}

/// The retention rules of one jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionRule {
    /// Kept until this birthday.
    pub birthday_years: u16,
    /// If the child died before 18, kept this many years from the death instead.
    pub after_death_years: u16,
}

/// The age before which a death changes the rule.
pub const DEATH_RULE_BEFORE_AGE: u16 = 18;

impl RetentionRule {
    /// The statutory rule of `jurisdiction`.
    pub fn statutory(jurisdiction: Jurisdiction) -> Self {
        match jurisdiction {
            Jurisdiction::England | Jurisdiction::Wales => RetentionRule {
                birthday_years: 75,
                after_death_years: 15,
            },
            Jurisdiction::Scotland => RetentionRule {
                birthday_years: 100,
                after_death_years: 25,
            },
        }
    }

    /// When the record of a child born on `date_of_birth` (and, if recorded, died on
    /// `date_of_death`) may first be deleted. A death on or after the 18th birthday leaves
    /// the birthday rule in force; a date of death before the date of birth is a recording
    /// error and is ignored in favour of the longer birthday rule.
    pub fn retain_until(
        self,
        date_of_birth: CalendarDate,
        date_of_death: Option<CalendarDate>,
    ) -> Retention {
        let eighteenth = anniversary(date_of_birth, DEATH_RULE_BEFORE_AGE);
        match date_of_death {
            Some(death) if death >= date_of_birth && death < eighteenth => Retention {
                retain_until: anniversary(death, self.after_death_years),
                basis: RetentionBasis::Death {
                    years: self.after_death_years,
                },
            },
            _ => Retention {
                retain_until: anniversary(date_of_birth, self.birthday_years),
                basis: RetentionBasis::Birthday {
                    years: self.birthday_years,
                },
            },
        }
    }
}

/// The `years`th anniversary of `date`; 29 February becomes 1 March in a year without
/// it (see the module doc). Saturates at [`CalendarDate::MAX`].
pub fn anniversary(date: CalendarDate, years: u16) -> CalendarDate {
    let Some(year) = date.year().checked_add(years) else {
        return CalendarDate::MAX;
    };
    CalendarDate::new(year, date.month(), date.day())
        .or_else(|| CalendarDate::new(year, 3, 1))
        .unwrap_or(CalendarDate::MAX)
}
