//! The one wording of a visit: the plain words for each field, each coded
//! answer and each section of the form.
//!
//! Everything a person reads about a visit takes its words from here: the
//! device's screens (client-wasm hands [`field_labels`], [`choices`] and
//! [`FormSection`] to the JavaScript as one table), the manager's review, the
//! print and exports, and subject access ([`visit_sections`](super::visit_sections)).
//! A word changed here changes everywhere at once.

use super::visit_sections::Section;
use super::{
    ActionOwnerType, ActionStatus, BedroomSeen, Coded, NotAloneReason, VisitKind, VisitLocation,
    VisitMaker, VisitStatus, VoiceTopic,
};

/// A coded answer with the words a person reads for it.
pub trait Worded: Coded {
    /// The answer in plain words, capitalised as it stands alone (a radio
    /// label, a summary row), e.g. "Visit after a complaint".
    fn words(self) -> &'static str;
}

/// The two answers of a yes/no question, as code and words.
pub const YES_NO: [(&str, &str); 2] = [("yes", "Yes"), ("no", "No")];

/// Every value of `T` as `(code, words)`, in schema order.
pub fn worded<T: Worded>() -> Vec<(&'static str, &'static str)> {
    T::ALL
        .iter()
        .map(|value| (value.code(), value.words()))
        .collect()
}

/// The choices of each coded question, keyed by the field that stores it.
/// Yes/no questions get [`YES_NO`]; an action's owner and status are keyed
/// `ownerType` and `actionStatus`, a voice entry's topics `topics`.
pub fn choices() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let yes_no = || YES_NO.to_vec();
    vec![
        ("visitKind", worded::<VisitKind>()),
        ("madeBy", worded::<VisitMaker>()),
        ("location", worded::<VisitLocation>()),
        ("announced", yes_no()),
        ("childSeen", yes_no()),
        ("seenAlone", yes_no()),
        ("notAloneReason", worded::<NotAloneReason>()),
        ("bedroomSeen", worded::<BedroomSeen>()),
        ("welfareSafeguarded", yes_no()),
        ("topics", worded::<VoiceTopic>()),
        ("ownerType", worded::<ActionOwnerType>()),
        ("actionStatus", worded::<ActionStatus>()),
    ]
}

/// Every field of a visit as `(document key, label)`, in reading order.
pub fn field_labels() -> Vec<(&'static str, &'static str)> {
    Section::ALL
        .into_iter()
        .map(|section| (section.key(), section.label()))
        .collect()
}

/// The sections of the visit form, in the order the task list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormSection {
    /// Date, kind, who made it, where, announced, purpose.
    Details,
    /// Who else was there.
    People,
    /// Whether the child was seen, and seen alone.
    Seen,
    /// Whether the bedroom was seen.
    Bedroom,
    /// What the worker saw.
    Observations,
    /// The child's words.
    Voice,
    /// The worker's analysis.
    Analysis,
    /// What will happen next.
    Actions,
    /// Whether the placement safeguards the child's welfare.
    Welfare,
}

impl FormSection {
    /// Every section, in task-list order.
    pub const ALL: [FormSection; 9] = [
        Self::Details,
        Self::People,
        Self::Seen,
        Self::Bedroom,
        Self::Observations,
        Self::Voice,
        Self::Analysis,
        Self::Actions,
        Self::Welfare,
    ];

    /// The section's key in the form's address, e.g. `"seen"`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Details => "details",
            Self::People => "people",
            Self::Seen => "seen",
            Self::Bedroom => "bedroom",
            Self::Observations => "observations",
            Self::Voice => "voice",
            Self::Analysis => "analysis",
            Self::Actions => "actions",
            Self::Welfare => "welfare",
        }
    }

    /// The section's title in the worker's own voice, e.g. "What I saw".
    pub fn title(self) -> &'static str {
        match self {
            Self::Details => "Visit details and purpose",
            Self::People => "Who was present",
            Self::Seen => "Seen, and seen alone",
            Self::Bedroom => "Bedroom",
            Self::Observations => "What I saw",
            Self::Voice => "The child's voice",
            Self::Analysis => "Analysis",
            Self::Actions => "Actions",
            Self::Welfare => "Welfare safeguarded",
        }
    }

    /// The section holding the field at root key `key`; the record keeping
    /// (status, times, references) and unknown keys belong to the details.
    pub fn of_field(key: &str) -> FormSection {
        let section = Section::ALL
            .into_iter()
            .find(|section| section.key() == key);
        match section {
            Some(Section::PersonsPresent) => Self::People,
            Some(
                Section::ChildSeen
                | Section::SeenAlone
                | Section::NotAloneReason
                | Section::NotAloneDetail,
            ) => Self::Seen,
            Some(Section::BedroomSeen | Section::BedroomDetail) => Self::Bedroom,
            Some(Section::Observations) => Self::Observations,
            Some(Section::Voice) => Self::Voice,
            Some(Section::Analysis) => Self::Analysis,
            Some(Section::Actions) => Self::Actions,
            Some(Section::WelfareSafeguarded) => Self::Welfare,
            _ => Self::Details,
        }
    }
}

impl Worded for VisitKind {
    fn words(self) -> &'static str {
        match self {
            Self::Statutory => "Statutory visit",
            Self::Requested => "Requested visit",
            Self::PostComplaint => "Visit after a complaint",
            Self::Other => "Other visit",
        }
    }
}

impl Worded for VisitMaker {
    fn words(self) -> &'static str {
        match self {
            Self::SocialWorker => "The child's social worker",
            Self::PersonalAdviser => "A personal adviser",
        }
    }
}

impl Worded for VisitLocation {
    fn words(self) -> &'static str {
        match self {
            Self::Placement => "Where the child lives",
            Self::School => "At school",
            Self::Community => "Somewhere else in the community",
            Self::Virtual => "By video call",
        }
    }
}

impl Worded for NotAloneReason {
    fn words(self) -> &'static str {
        match self {
            Self::Refused => "The child refused",
            Self::Inappropriate => "It was not appropriate for the child's age or understanding",
            Self::Unable => "It was not possible",
        }
    }
}

impl Worded for BedroomSeen {
    fn words(self) -> &'static str {
        match self {
            Self::Yes => "Yes",
            Self::No => "No",
            Self::NotApplicable => "Does not apply",
        }
    }
}

impl Worded for VoiceTopic {
    fn words(self) -> &'static str {
        match self {
            Self::Home => "Home",
            Self::School => "School",
            Self::FamilyTime => "Family time",
            Self::Friends => "Friends",
            Self::Health => "Health",
            Self::Feelings => "Feelings",
            Self::Safety => "Safety",
            Self::HopesPlans => "Hopes and plans",
            Self::MySocialWorker => "My social worker",
        }
    }
}

impl Worded for ActionOwnerType {
    fn words(self) -> &'static str {
        match self {
            Self::Worker => "Social worker",
            Self::Carer => "Carer",
            Self::Child => "The child",
            Self::OtherAgency => "Another agency",
        }
    }
}

impl Worded for ActionStatus {
    fn words(self) -> &'static str {
        match self {
            Self::Open => "Still to do",
            Self::Done => "Done",
            Self::Cancelled => "No longer needed",
        }
    }
}

impl Worded for VisitStatus {
    fn words(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Submitted => "Submitted",
        }
    }
}
