//! [`Regime`]: the deadlines one visit clock sets. It knows which rule
//! applies to a placement (or to a care leaver), when the first visit is due,
//! and when the next one is due after each visit; matching deadlines with
//! visits is [`super::plan`]'s job.
//!
//! Where the rule changes over time (the first anniversary of a placement,
//! the first review, the child's agreement to less frequent visits), the
//! next deadline after a visit is the earliest one whose rule is in force on
//! that deadline's own date ("the rule in force on the due date", the domain
//! handbook's proposal).

use std::borrow::Cow;
use std::fmt;

use super::{
    CareLeaverFacts, Interval, Jurisdiction, PlacementFacts, RuleId, ScheduleInput, SchedulePolicy,
};
use crate::model::{CalendarDate, StatutoryBasis};
use crate::small_sort::sort_small_by;

/// The deadlines of one clock (a placement's, or a care leaver's).
pub(super) struct Regime<'a> {
    policy: &'a SchedulePolicy,
    /// Visits on or after this day count, and the first deadline runs from it.
    start: CalendarDate,
    /// What the first deadline counts from, for its reason.
    first_anchor: Anchor,
    /// The placement's own shorter interval (`local_interval`).
    placement_cap: Option<Interval>,
    kind: Kind,
}

/// A deadline before it is matched with a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Deadline {
    /// The rule that sets it.
    pub(super) rule: RuleId,
    /// The last day for the visit.
    pub(super) due: CalendarDate,
    /// Why, in plain words (formatted only for the deadline kept: most candidate
    /// deadlines are discarded, and formatting is the engine's main cost).
    pub(super) reason: Reason,
}

/// Why a deadline falls when it does; displays as "Within 6 weeks of the last visit on
/// 1 March 2026 (first year of the placement)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reason {
    interval: Interval,
    from: Anchor,
    context: Cow<'static, str>,
    local: bool,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Within {} of {}", self.interval, self.from)?;
        match (self.context.is_empty(), self.local) {
            (true, false) => Ok(()),
            (true, true) => f.write_str(" (local timescale)"),
            (false, false) => write!(f, " ({})", self.context),
            (false, true) => write!(f, " ({}; local timescale)", self.context),
        }
    }
}

/// The rule families, each with what it needs to know.
enum Kind {
    /// V1 first, then V2 in the first year and V3, V4 or V5 after it.
    Standard {
        anniversary: CalendarDate,
        intended_until_18: bool,
        /// The child's agreement to less frequent visits, when V5 can apply at all.
        agreement: Option<CalendarDate>,
    },
    /// V6 or V7: weekly until the first review, then `then`.
    UntilFirstReview {
        rule: RuleId,
        then: Interval,
        first_review: Option<CalendarDate>,
    },
    /// One rule with a first deadline and then a regular interval (V8, V9, V11, V16).
    Regular {
        rule: RuleId,
        first: Interval,
        then: Interval,
        context: &'static str,
    },
    /// V15: within 7 days, then 2 months (the visits before each pathway
    /// review are separate requirements, see [`super::plan`]).
    CareLeaver,
}

/// What a deadline counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    PlacementStart(CalendarDate),
    CareOrder(CalendarDate),
    Accommodation(CalendarDate),
    LastVisit(CalendarDate),
}

impl<'a> Regime<'a> {
    /// The clock of `current`, the child's current placement, or, when the
    /// rule has no interval to count, why there is no schedule (in plain words).
    pub(super) fn for_placement(
        input: &ScheduleInput,
        current: &PlacementFacts,
        policy: &'a SchedulePolicy,
        today: CalendarDate,
    ) -> Result<Self, String> {
        let start = clock_start(&input.placements, current, policy);
        let placement_cap = current
            .local_interval
            .filter(|interval| !interval.is_empty());
        let regime = |start: CalendarDate, first_anchor: Anchor, kind: Kind| Regime {
            policy,
            start,
            first_anchor,
            placement_cap,
            kind,
        };
        let from_start = Anchor::PlacementStart(start);
        if policy.jurisdiction() == Jurisdiction::Scotland {
            let kind = Kind::Regular {
                rule: RuleId::V16,
                first: Interval::Weeks(1),
                then: Interval::Months(3),
                context: "",
            };
            return Ok(regime(start, from_start, kind));
        }
        let first_review = input
            .reviews
            .iter()
            .filter_map(|review| review.held)
            .filter(|held| *held >= start && *held <= today)
            .min();
        let until_first_review = |rule, then| Kind::UntilFirstReview {
            rule,
            then,
            first_review,
        };
        let agreed = |interval: Option<Interval>| interval.filter(|interval| !interval.is_empty());
        Ok(match current.basis {
            StatutoryBasis::Standard => {
                let v5_possible =
                    current.ltf_designated && policy.jurisdiction() != Jurisdiction::Wales;
                let kind = Kind::Standard {
                    anniversary: Interval::Months(12).after(start),
                    intended_until_18: current.intended_until_18,
                    agreement: current
                        .child_agreement
                        .filter(|agreed| v5_possible && *agreed <= today),
                };
                regime(start, from_start, kind)
            }
            StatutoryBasis::Reg19 => regime(
                start,
                from_start,
                until_first_review(RuleId::V6, Interval::Weeks(6)),
            ),
            StatutoryBasis::Reg24 | StatutoryBasis::IcoWithParent => regime(
                start,
                from_start,
                until_first_review(RuleId::V7, Interval::Weeks(4)),
            ),
            StatutoryBasis::CareOrderWithParent => {
                let kind = Kind::Regular {
                    rule: RuleId::V8,
                    first: Interval::Weeks(1),
                    then: Interval::Weeks(6),
                    context: "care order, placed with a parent",
                };
                match current.care_order_date.filter(|order| *order >= start) {
                    Some(order) => regime(order, Anchor::CareOrder(order), kind),
                    None => regime(start, from_start, kind),
                }
            }
            StatutoryBasis::OtherLivingArrangements => {
                let interval = agreed(current.other_arrangements_interval)
                    .or_else(|| policy.local_interval(RuleId::V9))
                    .ok_or_else(|| {
                        "No visit interval is recorded for these living arrangements (V9): \
                         record one on the placement or set the council's interval"
                            .to_owned()
                    })?;
                let kind = Kind::Regular {
                    rule: RuleId::V9,
                    first: interval,
                    then: interval,
                    context: "other living arrangements",
                };
                regime(start, from_start, kind)
            }
            StatutoryBasis::ShortBreaks => {
                let interval = agreed(current.short_breaks_interval).ok_or_else(|| {
                    "No visit interval agreed with the IRO and parents is recorded for \
                     these short breaks (V11)"
                        .to_owned()
                })?;
                let kind = Kind::Regular {
                    rule: RuleId::V11,
                    first: interval,
                    then: interval,
                    context: "short breaks: interval agreed with the IRO and parents",
                };
                regime(start, from_start, kind)
            }
        })
    }

    /// The regular personal-adviser visits of a care leaver (V15).
    pub(super) fn for_care_leaver(leaver: &CareLeaverFacts, policy: &'a SchedulePolicy) -> Self {
        Regime {
            policy,
            start: leaver.accommodation_from,
            first_anchor: Anchor::Accommodation(leaver.accommodation_from),
            placement_cap: None,
            kind: Kind::CareLeaver,
        }
    }

    /// The first day a visit counts on.
    pub(super) fn start(&self) -> CalendarDate {
        self.start
    }

    /// The deadline for the first visit.
    pub(super) fn first(&self) -> Deadline {
        let from = self.first_anchor;
        match &self.kind {
            Kind::Standard { .. } => self.deadline(RuleId::V1, from, Interval::Weeks(1), ""),
            Kind::UntilFirstReview { rule, .. } => {
                self.deadline(*rule, from, Interval::Weeks(1), WEEKLY)
            }
            Kind::Regular {
                rule,
                first,
                context,
                ..
            } => self.deadline(*rule, from, *first, *context),
            Kind::CareLeaver => self.deadline(RuleId::V15, from, Interval::Days(7), ""),
        }
    }

    /// The deadline for the next visit after a visit on `visit`.
    pub(super) fn after(&self, visit: CalendarDate) -> Deadline {
        let from = Anchor::LastVisit(visit);
        match &self.kind {
            Kind::Standard {
                anniversary,
                intended_until_18,
                agreement,
            } => {
                let anniversary = *anniversary;
                let v5_agreed = |due: CalendarDate| agreement.is_some_and(|agreed| agreed <= due);
                let options = [
                    (
                        RuleId::V2,
                        Interval::Weeks(6),
                        "first year of the placement",
                    ),
                    (
                        RuleId::V5,
                        Interval::Months(6),
                        "long-term foster placement; the child agreed to less frequent visits",
                    ),
                    (
                        RuleId::V3,
                        Interval::Months(3),
                        "placement intended to last until 18, after its first year",
                    ),
                    (
                        RuleId::V4,
                        Interval::Weeks(6),
                        "after the first year of the placement",
                    ),
                ];
                earliest_in_force(options.map(|(rule, interval, context)| {
                    let deadline = self.deadline(rule, from, interval, context);
                    let due = deadline.due;
                    let in_force = match rule {
                        RuleId::V2 => due < anniversary,
                        RuleId::V5 => due >= anniversary && v5_agreed(due),
                        RuleId::V3 => due >= anniversary && !v5_agreed(due) && *intended_until_18,
                        _ => due >= anniversary && !v5_agreed(due) && !*intended_until_18,
                    };
                    (deadline, in_force)
                }))
            }
            Kind::UntilFirstReview {
                rule,
                then,
                first_review,
            } => {
                let weekly = self.deadline(*rule, from, Interval::Weeks(1), WEEKLY);
                let weekly_in_force = first_review.is_none_or(|review| weekly.due < review);
                let mut options = vec![(weekly, weekly_in_force)];
                if let Some(review) = *first_review {
                    let context = format!("after the first review on {}", review.long_form());
                    let later = self.deadline(*rule, from, *then, context);
                    let in_force = later.due >= review;
                    options.push((later, in_force));
                }
                earliest_in_force(options)
            }
            Kind::Regular {
                rule,
                then,
                context,
                ..
            } => self.deadline(*rule, from, *then, *context),
            Kind::CareLeaver => {
                self.deadline(RuleId::V15, from, Interval::Months(2), "about 8 weeks")
            }
        }
    }

    /// The deadline `statutory` after `from`, or sooner where the council's
    /// interval for `rule` or the placement's own interval ends sooner.
    fn deadline(
        &self,
        rule: RuleId,
        from: Anchor,
        statutory: Interval,
        context: impl Into<Cow<'static, str>>,
    ) -> Deadline {
        let date = from.date();
        let mut due = statutory.after(date);
        let mut interval = statutory;
        let mut local = false;
        let caps = [self.policy.local_interval(rule), self.placement_cap];
        for cap in caps.into_iter().flatten() {
            let capped = cap.after(date);
            if capped < due {
                (due, interval, local) = (capped, cap, true);
            }
        }
        let reason = Reason {
            interval,
            from,
            context: context.into(),
            local,
        };
        Deadline { rule, due, reason }
    }
}

/// The reason note of the weekly phase of V6 and V7.
const WEEKLY: &str = "weekly until the first review";

/// Where the clock of `current` starts: its own start, or, for a temporary
/// placement that does not restart the clock, the start of the placement it
/// interrupts (following a run of temporary placements back to it).
fn clock_start(
    placements: &[PlacementFacts],
    current: &PlacementFacts,
    policy: &SchedulePolicy,
) -> CalendarDate {
    if policy.temporary_placements_restart_clock {
        return current.start;
    }
    let mut placement = current;
    while is_temporary(placement) {
        let day_before = placement.start.add_days(-1).unwrap_or(placement.start);
        let interrupted = placements
            .iter()
            .filter(|earlier| earlier.start < placement.start)
            .filter(|earlier| earlier.end.is_none_or(|end| end >= day_before))
            .max_by_key(|earlier| earlier.start);
        match interrupted {
            Some(earlier) => placement = earlier,
            None => break,
        }
    }
    placement.start
}

/// Whether the placement is an SSDA903 temporary move (T0 to T4).
fn is_temporary(placement: &PlacementFacts) -> bool {
    matches!(
        placement
            .placement_type
            .trim()
            .to_ascii_uppercase()
            .as_str(),
        "T0" | "T1" | "T2" | "T3" | "T4"
    )
}

/// The earliest deadline whose rule is in force on its own due date; the
/// earliest of all if none is (which the rules above never produce).
fn earliest_in_force(options: impl IntoIterator<Item = (Deadline, bool)>) -> Deadline {
    let mut options: Vec<(Deadline, bool)> = options.into_iter().collect();
    sort_small_by(&mut options, |(a, _), (b, _)| a.due < b.due);
    let index = options
        .iter()
        .position(|(_, in_force)| *in_force)
        .unwrap_or(0);
    options.swap_remove(index).0
}

impl Anchor {
    fn date(self) -> CalendarDate {
        match self {
            Anchor::PlacementStart(date)
            | Anchor::CareOrder(date)
            | Anchor::Accommodation(date)
            | Anchor::LastVisit(date) => date,
        }
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, date) = match *self {
            Anchor::PlacementStart(date) => ("the start of the placement", date),
            Anchor::CareOrder(date) => ("the care order made", date),
            Anchor::Accommodation(date) => ("the accommodation first provided", date),
            Anchor::LastVisit(date) => ("the last visit", date),
        };
        write!(f, "{what} on {}", date.long_form())
    }
}
