//! [`RuleId`]: the visit-scheduling rules V1 to V16 of the domain handbook.

use std::fmt;
use std::str::FromStr;

use super::ScheduleError;

/// One rule of the domain handbook's section 2, shown to users as `"V1"` ... `"V16"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// Visit within one week of the start of any placement (CPPCR 28(2)(a)).
    V1,
    /// First year of a placement: at most 6 weeks between visits (28(2)(b)).
    V2,
    /// After the first year, placement intended to last until 18: at most 3 months (28(2)(c)(i)).
    V3,
    /// After the first year, any other placement: at most 6 weeks (28(2)(c)(ii)).
    V4,
    /// Long-term foster placement in place a year, child agrees: at most 6 months (28(3A)).
    V5,
    /// Placed with a parent before assessment (reg 19): weekly until the first review, then 6 weeks (28(3)).
    V6,
    /// Connected person with temporary approval (reg 24), or interim care order with a parent:
    /// weekly until the first review, then 4 weeks (28(4)).
    V7,
    /// Care order, living with a parent: within a week of the order, then 6 weeks (28(5)).
    V8,
    /// Someone else responsible for living arrangements (e.g. YOI, hospital): a set interval (28(6)).
    V9,
    /// Additional visits when reasonably requested, or after a complaint (28(7)).
    V10,
    /// Short breaks (reg 48): the interval agreed with the IRO and parents.
    V11,
    /// Speak to the child in private at each visit (reg 29); not a timing rule.
    V12,
    /// Welfare not safeguarded: review the case (reg 30); not a timing rule.
    V13,
    /// Review timings (reg 33): 20 working days, then 3 months, then 6 months.
    V14,
    /// Care leaver in accommodation: within 7 days, before each pathway review, then 2 months.
    V15,
    /// Scotland: within a week of placement, then at most 3 months (LAC (Scotland) reg 46).
    V16,
}

impl RuleId {
    /// Every rule, V1 first.
    pub const ALL: [RuleId; 16] = [
        RuleId::V1,
        RuleId::V2,
        RuleId::V3,
        RuleId::V4,
        RuleId::V5,
        RuleId::V6,
        RuleId::V7,
        RuleId::V8,
        RuleId::V9,
        RuleId::V10,
        RuleId::V11,
        RuleId::V12,
        RuleId::V13,
        RuleId::V14,
        RuleId::V15,
        RuleId::V16,
    ];

    /// The rule's name as shown to users, e.g. `"V2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::V1 => "V1",
            RuleId::V2 => "V2",
            RuleId::V3 => "V3",
            RuleId::V4 => "V4",
            RuleId::V5 => "V5",
            RuleId::V6 => "V6",
            RuleId::V7 => "V7",
            RuleId::V8 => "V8",
            RuleId::V9 => "V9",
            RuleId::V10 => "V10",
            RuleId::V11 => "V11",
            RuleId::V12 => "V12",
            RuleId::V13 => "V13",
            RuleId::V14 => "V14",
            RuleId::V15 => "V15",
            RuleId::V16 => "V16",
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = ScheduleError;

    /// Parses `"V1"` ... `"V16"`, ignoring case and surrounding spaces.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim();
        RuleId::ALL
            .into_iter()
            .find(|rule| rule.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ScheduleError::UnknownRule {
                value: text.to_owned(),
            })
    }
}
