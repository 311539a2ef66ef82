//! [`VisitRequirement`]: one visit that had to happen, or has to happen, by
//! a date, with the rule that requires it and whether it has.

use super::RuleId;
use crate::model::CalendarDate;

/// A visit required by one rule by one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRequirement {
    /// The rule that requires the visit.
    pub rule: RuleId,
    /// The placement it belongs to; `None` for care-leaver visits (V15).
    pub placement_id: Option<String>,
    /// The last day the visit can happen on time.
    pub due: CalendarDate,
    /// Why it is due then, in plain words, e.g. "Within 6 weeks of the last
    /// visit on 1 March 2026 (first year of the placement)".
    pub reason: String,
    /// Where it stands on the day the schedule was computed for.
    pub status: RequirementStatus,
    /// The visit that met it.
    pub met_by: Option<String>,
    /// The day of that visit; later than `due` when it was met late.
    pub met_on: Option<CalendarDate>,
}

impl VisitRequirement {
    /// Whether no visit has met it yet.
    pub fn is_open(&self) -> bool {
        self.status != RequirementStatus::Met
    }

    /// Whether it was met after its due date, or is overdue.
    pub fn is_late(&self) -> bool {
        match self.met_on {
            Some(met_on) => met_on > self.due,
            None => self.status == RequirementStatus::Overdue,
        }
    }
}

/// Where a requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequirementStatus {
    /// Not met, and due later than the due-soon window.
    Upcoming,
    /// Not met, and due today or within the due-soon window.
    DueSoon,
    /// Not met, and its due date has passed.
    Overdue,
    /// A qualifying visit met it (possibly late: see `met_on`).
    Met,
}

impl RequirementStatus {
    /// The code the screens and the API use: `"upcoming"`, `"dueSoon"`,
    /// `"overdue"` or `"met"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Upcoming => "upcoming",
            RequirementStatus::DueSoon => "dueSoon",
            RequirementStatus::Overdue => "overdue",
            RequirementStatus::Met => "met",
        }
    }

    /// The status of a deadline no visit has met yet, on `today`.
    pub(super) fn open(due: CalendarDate, today: CalendarDate, due_soon_days: u32) -> Self {
        let days_left = due.days_since_epoch() - today.days_since_epoch();
        if days_left < 0 {
            RequirementStatus::Overdue
        } else if days_left <= i64::from(due_soon_days) {
            RequirementStatus::DueSoon
        } else {
            RequirementStatus::Upcoming
        }
    }
}
