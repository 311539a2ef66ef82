//! [`SchedulePolicy`]: the statutory visit timescales of one jurisdiction,
//! the council's shorter local timescales, and the choices the domain
//! handbook leaves open (its **\[verify\]** items).

use super::{Interval, Jurisdiction, RuleId, ScheduleError};

/// How visits are scheduled for one council.
///
/// Start from [`SchedulePolicy::statutory`], shorten intervals with
/// [`SchedulePolicy::with_local_interval`] (which refuses anything longer
/// than the law allows), and change the open choices through the public
/// fields. Every field's default is the one the domain handbook names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// Whose regulations apply; fixed at construction so that local
    /// intervals are always checked against the right statutory maximum.
    jurisdiction: Jurisdiction,
    /// The council's own intervals, at most one per rule.
    local: Vec<(RuleId, Interval)>,
    /// Whether a visit by video call counts as a statutory visit.
    /// Default `false`: the 2020 coronavirus easements for remote visits
    /// have expired (domain handbook, open question 2).
    pub virtual_visits_count: bool,
    /// Whether a looked-after review meeting counts as a visit. Default
    /// `false` (local practice: a review is not a visit).
    pub review_meetings_count: bool,
    /// Whether a visit counts while its record is still a draft. Default
    /// `true`: the visit happened once it is recorded with a date; whether the
    /// write-up is late is a separate flag ([`super::is_late_write_up`]).
    pub unsubmitted_visits_count: bool,
    /// How many days before its due date an open requirement shows as due
    /// soon. Default 7.
    pub due_soon_days: u32,
    /// How many working days after the visit its record may be written up
    /// before it is flagged late. Default 2 (domain handbook D5).
    pub late_write_up_working_days: u32,
    /// Whether a temporary placement (SSDA903 types T0 to T4) restarts the
    /// visit clock like any new placement. Default `true`, the literal reading
    /// of "within one week of the start of any placement"; with `false`, a
    /// temporary placement continues the clock of the placement it follows.
    pub temporary_placements_restart_clock: bool,
}

impl SchedulePolicy {
    /// The statutory timescales of `jurisdiction` with no local changes and
    /// the defaults described on each field.
    pub fn statutory(jurisdiction: Jurisdiction) -> SchedulePolicy {
        SchedulePolicy {
            jurisdiction,
            local: Vec::new(),
            virtual_visits_count: false,
            review_meetings_count: false,
            unsubmitted_visits_count: true,
            due_soon_days: 7,
            late_write_up_working_days: 2,
            temporary_placements_restart_clock: true,
        }
    }

    /// Sets the council's own interval for `rule`, replacing any earlier one.
    ///
    /// A local interval shortens every deadline the rule sets: for V1 the
    /// first visit ("within 3 days"), for V2 the gap between visits in the
    /// first year ("4 weeks"), for rules with a first visit and a regular
    /// interval (V6, V7, V8, V15, V16) both, each to whichever is sooner. For
    /// V9 (other living arrangements), which has no statutory interval, it is
    /// the council's interval, used when a placement records none.
    ///
    /// # Errors
    /// [`ScheduleError::LongerThanStatutory`] when the interval could be
    /// longer than the rule allows, [`ScheduleError::EmptyInterval`] for no
    /// time at all, [`ScheduleError::NotInJurisdiction`] for a rule of another
    /// jurisdiction, [`ScheduleError::AgreedForEachChild`] for V11 and
    /// [`ScheduleError::NoVisitInterval`] for V10, V12, V13 and V14.
    pub fn with_local_interval(
        mut self,
        rule: RuleId,
        interval: Interval,
    ) -> Result<SchedulePolicy, ScheduleError> {
        if let Some(maximum) = self.statutory_maximum(rule)?
            && interval.can_exceed(maximum)
        {
            return Err(ScheduleError::LongerThanStatutory {
                rule,
                local: interval,
                maximum,
            });
        }
        if interval.is_empty() {
            return Err(ScheduleError::EmptyInterval { rule });
        }
        self.local.retain(|(existing, _)| *existing != rule);
        self.local.push((rule, interval));
        Ok(self)
    }

    /// Whose regulations apply.
    pub fn jurisdiction(&self) -> Jurisdiction {
        self.jurisdiction
    }

    /// Every interval the council set, one per rule, in the order they were set.
    pub fn local_intervals(&self) -> &[(RuleId, Interval)] {
        &self.local
    }

    /// The council's own interval for `rule`, if one is set.
    pub fn local_interval(&self, rule: RuleId) -> Option<Interval> {
        self.local
            .iter()
            .find(|(existing, _)| *existing == rule)
            .map(|(_, interval)| *interval)
    }

    /// The longest interval `rule` allows in this jurisdiction (for rules
    /// with a first visit and a regular interval, the regular one); `Ok(None)`
    /// for V9, whose interval the council sets.
    ///
    /// # Errors
    /// The same refusals as [`Self::with_local_interval`] for rules that have
    /// no interval to shorten here.
    pub fn statutory_maximum(&self, rule: RuleId) -> Result<Option<Interval>, ScheduleError> {
        let jurisdiction = self.jurisdiction;
        let not_here = || ScheduleError::NotInJurisdiction { rule, jurisdiction };
        let scotland = jurisdiction == Jurisdiction::Scotland;
        match rule {
            RuleId::V10 | RuleId::V12 | RuleId::V13 | RuleId::V14 => {
                Err(ScheduleError::NoVisitInterval { rule })
            }
            RuleId::V15 => Ok(Some(Interval::Months(2))),
            RuleId::V16 if scotland => Ok(Some(Interval::Months(3))),
            RuleId::V16 => Err(not_here()),
            _ if scotland => Err(not_here()),
            RuleId::V5 if jurisdiction == Jurisdiction::Wales => Err(not_here()),
            RuleId::V11 => Err(ScheduleError::AgreedForEachChild { rule }),
            RuleId::V9 => Ok(None),
            RuleId::V1 => Ok(Some(Interval::Weeks(1))),
            RuleId::V3 => Ok(Some(Interval::Months(3))),
            RuleId::V5 => Ok(Some(Interval::Months(6))),
            RuleId::V7 => Ok(Some(Interval::Weeks(4))),
            RuleId::V2 | RuleId::V4 | RuleId::V6 | RuleId::V8 => Ok(Some(Interval::Weeks(6))),
        }
    }
}

impl Default for SchedulePolicy {
    /// England's statutory timescales.
    fn default() -> Self {
        SchedulePolicy::statutory(Jurisdiction::England)
    }
}
