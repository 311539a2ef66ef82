//! [`Jurisdiction`]: whose regulations set the visit schedule.

use std::fmt;
use std::str::FromStr;

use super::ScheduleError;

/// The nation whose regulations apply; England unless configured otherwise.
///
/// Wales follows England's structure (CPPCR (Wales) 2015 reg 31) without
/// the long-term foster placement rule (V5); Scotland has its own single
/// rule (V16, LAC (Scotland) Regs 2009 reg 46) and its own bank holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jurisdiction {
    /// England: CPPCR 2010, Care Leavers (England) Regs 2010.
    #[default]
    England,
    /// Wales: CPPCR (Wales) 2015.
    Wales,
    /// Scotland: Looked After Children (Scotland) Regs 2009.
    Scotland,
}

impl Jurisdiction {
    /// The configuration spelling: `"england"`, `"wales"` or `"scotland"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::England => "england",
            Jurisdiction::Wales => "wales",
            Jurisdiction::Scotland => "scotland",
        }
    }
}

impl FromStr for Jurisdiction {
    type Err = ScheduleError;

    /// Parses `"england"`, `"wales"` or `"scotland"`, ignoring case and
    /// surrounding spaces.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "england" => Ok(Jurisdiction::England),
            "wales" => Ok(Jurisdiction::Wales),
            "scotland" => Ok(Jurisdiction::Scotland),
            _ => Err(ScheduleError::UnknownJurisdiction {
                value: text.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Jurisdiction {
    /// The name as written in a sentence, e.g. `"Scotland"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Jurisdiction::England => "England",
            Jurisdiction::Wales => "Wales",
            Jurisdiction::Scotland => "Scotland",
        })
    }
}
