//! A visit as the sections a manager reads, in plain words, and the
//! differences between two versions of it.
//!
//! [`visit_sections`] renders every field of a [`Visit`] as one
//! [`VisitSection`]: a fixed order, a label in plain words and a plain-text
//! value (dates as "23 November 2026", answers as Yes/No, lists one item per
//! line). The same renderings decide whether a signed-off record has changed
//! since ([`differences`]), so every answer that can change is part of some
//! section's text: two visits with the same sections say the same thing.

use super::Visit;
use super::date::CalendarDate;
use super::wording::{Worded, YES_NO};
use crate::sync::Timestamp;

/// One section of a visit record as a manager reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSection {
    /// The document key of the field, e.g. `"seenAlone"`.
    pub field: &'static str,
    /// The section's name in plain words, e.g. "Seen alone".
    pub label: &'static str,
    /// The answer as plain text; "Not answered" when there is none yet.
    pub value: String,
}

/// A section that reads differently in two versions of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDifference {
    /// The document key of the field.
    pub field: &'static str,
    /// The section's name in plain words.
    pub label: &'static str,
    /// The section in the earlier (usually the signed-off) version.
    pub signed: String,
    /// The section now.
    pub current: String,
}

/// Every field of a visit as a section, in reading order: the visit itself,
/// then the record keeping (status, times, references).
pub fn visit_sections(visit: &Visit) -> Vec<VisitSection> {
    Section::ALL
        .into_iter()
        .map(|section| VisitSection {
            field: section.key(),
            label: section.label(),
            value: section.render(visit),
        })
        .collect()
}

/// The sections that read differently in `new` than in `old`, in reading
/// order. The record keeping that submitting changes by itself (`status`,
/// `submittedAt`) is not compared: only what the record says.
pub fn differences(old: &Visit, new: &Visit) -> Vec<SectionDifference> {
    Section::ALL
        .into_iter()
        .filter(|section| section.is_content())
        .filter_map(|section| {
            let signed = section.render(old);
            let current = section.render(new);
            (signed != current).then(|| SectionDifference {
                field: section.key(),
                label: section.label(),
                signed,
                current,
            })
        })
        .collect()
}

/// The plain-words name of the section held at root key `key`, e.g. "Seen alone".
pub(crate) fn field_label(key: &str) -> Option<&'static str> {
    Section::ALL
        .into_iter()
        .find(|section| section.key() == key)
        .map(Section::label)
}

/// The sections of a visit, one per field of [`Visit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Section {
    VisitDate,
    VisitKind,
    MadeBy,
    Location,
    Announced,
    Purpose,
    PersonsPresent,
    ChildSeen,
    SeenAlone,
    NotAloneReason,
    NotAloneDetail,
    BedroomSeen,
    BedroomDetail,
    Observations,
    Voice,
    Analysis,
    Actions,
    WelfareSafeguarded,
    Status,
    SubmittedAt,
    CreatedAt,
    VisitId,
    ChildId,
    WorkerId,
}

impl Section {
    /// Every section, in reading order.
    pub(crate) const ALL: [Section; 24] = [
        Self::VisitDate,
        Self::VisitKind,
        Self::MadeBy,
        Self::Location,
        Self::Announced,
        Self::Purpose,
        Self::PersonsPresent,
        Self::ChildSeen,
        Self::SeenAlone,
        Self::NotAloneReason,
        Self::NotAloneDetail,
        Self::BedroomSeen,
        Self::BedroomDetail,
        Self::Observations,
        Self::Voice,
        Self::Analysis,
        Self::Actions,
        Self::WelfareSafeguarded,
        Self::Status,
        Self::SubmittedAt,
        Self::CreatedAt,
        Self::VisitId,
        Self::ChildId,
        Self::WorkerId,
    ];

    /// The root key of the document holding this section.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::VisitDate => "visitDate",
            Self::VisitKind => "visitKind",
            Self::MadeBy => "madeBy",
            Self::Location => "location",
            Self::Announced => "announced",
            Self::Purpose => "purpose",
            Self::PersonsPresent => "personsPresent",
            Self::ChildSeen => "childSeen",
            Self::SeenAlone => "seenAlone",
            Self::NotAloneReason => "notAloneReason",
            Self::NotAloneDetail => "notAloneDetail",
            Self::BedroomSeen => "bedroomSeen",
            Self::BedroomDetail => "bedroomDetail",
            Self::Observations => "observations",
            Self::Voice => "voice",
            Self::Analysis => "analysis",
            Self::Actions => "actions",
            Self::WelfareSafeguarded => "welfareSafeguarded",
            Self::Status => "status",
            Self::SubmittedAt => "submittedAt",
            Self::CreatedAt => "createdAt",
            Self::VisitId => "visitId",
            Self::ChildId => "childId",
            Self::WorkerId => "workerId",
        }
    }

    /// The field's label in plain words, the one wording every screen and
    /// print uses.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::VisitDate => "Date of the visit",
            Self::VisitKind => "Kind of visit",
            Self::MadeBy => "Visit made by",
            Self::Location => "Where the child was seen",
            Self::Announced => "Visit announced to the carer",
            Self::Purpose => "Purpose of the visit",
            Self::PersonsPresent => "Who else was there",
            Self::ChildSeen => "Child seen",
            Self::SeenAlone => "Seen alone",
            Self::NotAloneReason => "Why the child was not seen alone",
            Self::NotAloneDetail => "More about not being seen alone",
            Self::BedroomSeen => "Bedroom seen",
            Self::BedroomDetail => "About the bedroom",
            Self::Observations => "What the worker saw",
            Self::Voice => "The child's words",
            Self::Analysis => "The worker's analysis",
            Self::Actions => "What will happen next",
            Self::WelfareSafeguarded => "Welfare safeguarded by the placement",
            Self::Status => "Record status",
            Self::SubmittedAt => "Submitted",
            Self::CreatedAt => "Record started",
            Self::VisitId => "Visit reference",
            Self::ChildId => "Child reference",
            Self::WorkerId => "Worker reference",
        }
    }

    /// Whether the section is what the record says, rather than where it is
    /// in its life (which submitting changes by itself).
    fn is_content(self) -> bool {
        !matches!(self, Self::Status | Self::SubmittedAt)
    }

    fn render(self, visit: &Visit) -> String {
        match self {
            Self::VisitDate => visit.visit_date.as_deref().map_or_else(not_answered, date),
            Self::VisitKind => answer(visit.visit_kind.map(Worded::words)),
            Self::MadeBy => answer(visit.made_by.map(Worded::words)),
            Self::Location => answer(visit.location.map(Worded::words)),
            Self::Announced => yes_no(visit.announced),
            Self::Purpose => text(&visit.purpose),
            Self::PersonsPresent => lines(visit.persons_present.iter().map(|person| {
                match (person.name.is_empty(), person.role.is_empty()) {
                    (_, true) => person.name.clone(),
                    (true, false) => format!("({})", person.role),
                    (false, false) => format!("{} ({})", person.name, person.role),
                }
            })),
            Self::ChildSeen => yes_no(visit.child_seen),
            Self::SeenAlone => yes_no(visit.seen_alone),
            Self::NotAloneReason => answer(visit.not_alone_reason.map(Worded::words)),
            Self::NotAloneDetail => text(&visit.not_alone_detail),
            Self::BedroomSeen => answer(visit.bedroom_seen.map(Worded::words)),
            Self::BedroomDetail => text(&visit.bedroom_detail),
            Self::Observations => text(&visit.observations),
            Self::Voice => voice(visit),
            Self::Analysis => text(&visit.analysis),
            Self::Actions => lines(visit.actions.iter().map(|action| {
                let mut line = if action.description.is_empty() {
                    "(no description)".to_owned()
                } else {
                    action.description.clone()
                };
                let owner = match (action.owner_name.as_str(), action.owner_type) {
                    ("", None) => None,
                    ("", Some(kind)) => Some(in_sentence(kind.words())),
                    (name, None) => Some(name.to_owned()),
                    (name, Some(kind)) => Some(format!("{name} ({})", in_sentence(kind.words()))),
                };
                if let Some(owner) = owner {
                    line.push_str(&format!("; by {owner}"));
                }
                if let Some(due) = &action.due_date {
                    line.push_str(&format!("; due {}", date(due)));
                }
                if let Some(status) = action.status {
                    line.push_str(&format!("; {}", in_sentence(status.words())));
                }
                line
            })),
            Self::WelfareSafeguarded => yes_no(visit.welfare_safeguarded),
            Self::Status => match &visit.discarded {
                Some(discard) => format!("Discarded: {}", discard.reason),
                None => answer(visit.status.map(Worded::words)),
            },
            Self::SubmittedAt => visit.submitted_at.map_or_else(not_answered, date_time),
            Self::CreatedAt => visit.created_at.map_or_else(not_answered, date_time),
            Self::VisitId => visit.visit_id.clone(),
            Self::ChildId => visit.child_id.clone(),
            Self::WorkerId => visit.worker_id.clone(),
        }
    }
}

const NOT_ANSWERED: &str = "Not answered";

fn not_answered() -> String {
    NOT_ANSWERED.to_owned()
}

fn answer(words: Option<&str>) -> String {
    words.unwrap_or(NOT_ANSWERED).to_owned()
}

fn yes_no(value: Option<bool>) -> String {
    answer(value.map(yes_no_words))
}

fn yes_no_words(yes: bool) -> &'static str {
    YES_NO[usize::from(!yes)].1
}

fn text(value: &str) -> String {
    if value.is_empty() {
        not_answered()
    } else {
        value.to_owned()
    }
}

/// One item per line; "None recorded" for no items.
fn lines(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "None recorded".to_owned()
    } else {
        items.join("\n")
    }
}

/// The child's words in quotes, then the paraphrase, topics, scale and
/// whether it was read back; entries apart by a blank line.
fn voice(visit: &Visit) -> String {
    let entries: Vec<String> = visit
        .voice
        .iter()
        .map(|entry| {
            let mut parts = Vec::new();
            if entry.words.is_empty() {
                parts.push("(no words recorded)".to_owned());
            } else {
                parts.push(format!("\u{201c}{}\u{201d}", entry.words));
            }
            if !entry.paraphrase.is_empty() {
                parts.push(format!("Paraphrase: {}", entry.paraphrase));
            }
            if !entry.topics.is_empty() {
                let topics: Vec<&str> = entry.topics.iter().copied().map(Worded::words).collect();
                parts.push(format!("Topics: {}", topics.join(", ")));
            }
            if let Some(scale) = entry.scale {
                let question = entry.scale_question.trim();
                if question.is_empty() {
                    parts.push(format!("Scale: {scale} out of 10"));
                } else {
                    parts.push(format!("Scale ({question}): {scale} out of 10"));
                }
            }
            if let Some(read_back) = entry.read_back {
                parts.push(format!(
                    "Read back to the child: {}",
                    yes_no_words(read_back)
                ));
            }
            parts.join("\n")
        })
        .collect();
    if entries.is_empty() {
        "None recorded".to_owned()
    } else {
        entries.join("\n\n")
    }
}

/// A stored `"YYYY-MM-DD"` as "23 November 2026"; text that is not a real
/// date is shown as stored.
fn date(stored: &str) -> String {
    CalendarDate::parse(stored).map_or_else(|| stored.to_owned(), CalendarDate::long_form)
}

/// A device time as "23 November 2026 at 14:05 UTC".
fn date_time(time: Timestamp) -> String {
    const DAY_MS: u64 = 86_400_000;
    let millis = time.as_millis();
    let day = i64::try_from(millis / DAY_MS).unwrap_or(i64::MAX);
    let minutes = (millis % DAY_MS) / 60_000;
    match CalendarDate::from_days_since_epoch(day) {
        Some(date) => format!(
            "{} at {:02}:{:02} UTC",
            date.long_form(),
            minutes / 60,
            minutes % 60
        ),
        None => format!("{millis} ms after 1970"),
    }
}

/// Words that stand alone ("Still to do") as they read inside a sentence
/// ("; still to do"). The words are ASCII, so no Unicode case tables are needed (they
/// would cost the wasm kilobytes).
fn in_sentence(words: &str) -> String {
    let mut text = words.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    text
}
