//! [`ChildSchedule`]: one child's visit status at a glance, for caseload
//! lists and the manager's dashboard.

use super::plan::{Plan, qualifying_visits};
use super::{RequirementStatus, ScheduleInput, SchedulePolicy, VisitRequirement};
use crate::model::CalendarDate;

/// A child's visit schedule and overall status on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSchedule {
    /// Every requirement, as [`super::visit_requirements`] returns them.
    pub requirements: Vec<VisitRequirement>,
    /// The open requirement due first, if any.
    pub next_due: Option<VisitRequirement>,
    /// The latest qualifying visit on or before the day, in any placement.
    pub last_qualifying_visit: Option<CalendarDate>,
    /// The overall status.
    pub status: ChildVisitStatus,
    /// Why the current placement has no visit schedule, in plain words
    /// (no current placement, or short breaks without an agreed interval).
    pub no_schedule_reason: Option<String>,
}

/// A child's overall visit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildVisitStatus {
    /// An open requirement is past its due date.
    Overdue,
    /// An open requirement is due within the due-soon window.
    DueSoon,
    /// A requirement has been met and the next is not yet due soon.
    Met,
    /// Nothing has been met yet and the next is not yet due soon.
    Upcoming,
    /// There is nothing to schedule: no current placement, or a rule whose
    /// interval is not recorded (e.g. short breaks without an agreed interval).
    NoSchedule,
}

impl ChildVisitStatus {
    /// The code the screens and the API use: `"overdue"`, `"dueSoon"`,
    /// `"met"`, `"upcoming"` or `"noSchedule"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChildVisitStatus::Overdue => "overdue",
            ChildVisitStatus::DueSoon => "dueSoon",
            ChildVisitStatus::Met => "met",
            ChildVisitStatus::Upcoming => "upcoming",
            ChildVisitStatus::NoSchedule => "noSchedule",
        }
    }
}

/// The child's schedule and status as of `today`.
pub fn child_schedule(
    input: &ScheduleInput,
    policy: &SchedulePolicy,
    today: CalendarDate,
) -> ChildSchedule {
    let Plan {
        requirements,
        no_schedule,
    } = Plan::compute(input, policy, today);
    let open = || {
        requirements
            .iter()
            .filter(|requirement| requirement.is_open())
    };
    let next_due = open().min_by_key(|requirement| requirement.due).cloned();
    let has_open = |status| open().any(|requirement| requirement.status == status);
    let status = if requirements.is_empty() {
        ChildVisitStatus::NoSchedule
    } else if has_open(RequirementStatus::Overdue) {
        ChildVisitStatus::Overdue
    } else if has_open(RequirementStatus::DueSoon) {
        ChildVisitStatus::DueSoon
    } else if requirements
        .iter()
        .any(|requirement| !requirement.is_open())
    {
        ChildVisitStatus::Met
    } else {
        ChildVisitStatus::Upcoming
    };
    ChildSchedule {
        last_qualifying_visit: qualifying_visits(input, policy, today)
            .last()
            .map(|visit| visit.date),
        next_due,
        status,
        no_schedule_reason: no_schedule,
        requirements,
    }
}
