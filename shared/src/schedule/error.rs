//! [`ScheduleError`]: why a schedule setting or a configuration value was refused.
//!
//! The messages are read by the manager or administrator who set up the
//! council's timescales, so they name the rule (e.g. "V2") and the statutory
//! limit in plain words (e.g. "6 weeks").

use thiserror::Error;

use super::{Interval, Jurisdiction, RuleId};

/// Why a visit-schedule setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    /// A local interval would allow longer between visits than the law does.
    #[error(
        "the local interval for {rule} ({local}) is longer than the statutory maximum of {maximum}"
    )]
    LongerThanStatutory {
        /// The rule the interval was set for.
        rule: RuleId,
        /// The interval asked for.
        local: Interval,
        /// The longest interval the rule allows.
        maximum: Interval,
    },
    /// A local interval of nothing (0 days, weeks or months).
    #[error("the local interval for {rule} must be at least 1 day")]
    EmptyInterval {
        /// The rule the interval was set for.
        rule: RuleId,
    },
    /// The rule is not part of the chosen jurisdiction's regulations.
    #[error("{rule} does not apply in {jurisdiction}")]
    NotInJurisdiction {
        /// The rule.
        rule: RuleId,
        /// The jurisdiction the policy is for.
        jurisdiction: Jurisdiction,
    },
    /// The rule does not set a time between visits (e.g. V12, seeing the child alone).
    #[error("{rule} sets no time between visits, so it has no interval to shorten")]
    NoVisitInterval {
        /// The rule.
        rule: RuleId,
    },
    /// The rule's interval is agreed child by child (V11, short breaks).
    #[error(
        "the interval for {rule} is agreed for each child with the IRO and parents: record it on the child's placement"
    )]
    AgreedForEachChild {
        /// The rule.
        rule: RuleId,
    },
    /// Text that names no jurisdiction.
    #[error("{value:?} is not a jurisdiction: use england, wales or scotland")]
    UnknownJurisdiction {
        /// The text given.
        value: String,
    },
    /// Text that names no rule.
    #[error("{value:?} is not a visit rule: use V1 to V16")]
    UnknownRule {
        /// The text given.
        value: String,
    },
    /// Text that is not an interval.
    #[error(
        "{value:?} is not an interval: write for example \"3 days\", \"6 weeks\" or \"3 months\""
    )]
    UnknownInterval {
        /// The text given.
        value: String,
    },
}
