//! What must be fixed before a record is complete, in plain words.
//!
//! Drafts may be partial; these checks run when a worker asks to submit.
//! Each [`Problem`] names the field by its document path (so the UI can link
//! the error summary to the field) and carries a message in the GOV.UK Design
//! System style: "Enter ..." for a missing text, "Select ..." for a missing
//! choice, "... must be a real date" for an impossible date. Problems come in
//! the order the fields appear on the form.
//!
//! [`submission_problems`] adds what only the document knows: answers two devices gave
//! differently (a person must choose before the record goes to a manager, domain
//! requirement D13) come first.

use automerge::ReadDoc;

use super::visit_sections::field_label;
use super::{BedroomSeen, CalendarDate, Child, ModelError, Visit, single_value_conflicts};

/// Everything that stops the visit in `doc` being submitted: every open conflict (its
/// field named by the conflicting key, e.g. `"seenAlone"`), then
/// [`Visit::problems_for_submission`].
///
/// # Errors
/// The errors of [`Visit::read`].
pub fn submission_problems(doc: &impl ReadDoc, today: &str) -> Result<Vec<Problem>, ModelError> {
    let visit = Visit::read(doc)?;
    let mut problems: Vec<Problem> = single_value_conflicts(doc)
        .into_iter()
        .map(|conflict| {
            let key = conflict.field.key();
            let label = field_label(key).unwrap_or(key);
            Problem {
                field: key.to_owned(),
                message: format!(
                    "Choose the right answer for \u{201c}{label}\u{201d}: two devices gave different answers"
                ),
            }
        })
        .collect();
    problems.extend(visit.problems_for_submission(today));
    Ok(problems)
}

/// One thing to fix before a record is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path of the field in the document, e.g. `"seenAlone"` or
    /// `"actions[0].dueDate"`.
    pub field: String,
    /// What to do, for the person filling in the form.
    pub message: String,
}

impl Visit {
    /// Everything that stops this visit being submitted, empty when it is
    /// ready. `today` is the device's date as `"YYYY-MM-DD"`; if it is not a
    /// real date the "not in the future" rule is skipped.
    pub fn problems_for_submission(&self, today: &str) -> Vec<Problem> {
        let mut problems = Problems::default();
        let visit_date = problems.date(
            "visitDate",
            self.visit_date.as_deref(),
            "the date of the visit",
            "Date of the visit",
        );
        if let (Some(visit_date), Some(today)) = (visit_date, CalendarDate::parse(today))
            && visit_date > today
        {
            problems.add(
                "visitDate",
                "Date of the visit must be today or in the past",
            );
        }
        if self.discarded.is_some() {
            problems.add(
                "discarded",
                "This draft was discarded, so it cannot be submitted",
            );
        }
        problems.answer("visitKind", self.visit_kind, "Select the kind of visit");
        problems.answer("location", self.location, "Select where you saw the child");
        problems.text("purpose", &self.purpose, "Enter the purpose of the visit");
        problems.answer(
            "childSeen",
            self.child_seen,
            "Select whether the child was seen",
        );
        if self.child_seen == Some(true) {
            problems.answer(
                "seenAlone",
                self.seen_alone,
                "Select whether the child was seen alone",
            );
            if self.seen_alone == Some(false) {
                problems.answer(
                    "notAloneReason",
                    self.not_alone_reason,
                    "Select why the child was not seen alone",
                );
            }
        }
        problems.answer(
            "bedroomSeen",
            self.bedroom_seen,
            "Select whether the child's bedroom was seen",
        );
        if self.bedroom_seen == Some(BedroomSeen::No) {
            problems.text(
                "bedroomDetail",
                &self.bedroom_detail,
                "Enter why the child's bedroom was not seen",
            );
        }
        problems.text(
            "observations",
            &self.observations,
            "Enter what you saw during the visit",
        );
        let child_spoke = self
            .voice
            .iter()
            .any(|entry| !entry.words.trim().is_empty());
        if self.child_seen != Some(false) && !child_spoke {
            problems.add(
                "voice",
                "Enter what the child said, in their own words, or explain why not",
            );
        }
        for (index, entry) in self.voice.iter().enumerate() {
            if entry.scale.is_some_and(|scale| !(0..=10).contains(&scale)) {
                let message = format!(
                    "Scale score for entry {} of what the child said must be between 0 and 10",
                    index + 1
                );
                problems.add(format!("voice[{index}].scale"), message);
            }
            if entry.scale.is_some() && entry.scale_question.trim().is_empty() {
                let message = format!(
                    "Enter the question the scale answered for entry {} of what the child said",
                    index + 1
                );
                problems.add(format!("voice[{index}].scaleQuestion"), message);
            }
        }
        problems.text(
            "analysis",
            &self.analysis,
            "Enter your analysis of the visit",
        );
        for (index, action) in self.actions.iter().enumerate() {
            let number = index + 1;
            let path = |key: &str| format!("actions[{index}].{key}");
            problems.text(
                path("description"),
                &action.description,
                &format!("Enter what will be done for action {number}"),
            );
            problems.text(
                path("ownerName"),
                &action.owner_name,
                &format!("Enter who is responsible for action {number}"),
            );
            let due = format!("the due date for action {number}");
            problems.date(
                path("dueDate"),
                action.due_date.as_deref(),
                &due,
                &format!("Due date for action {number}"),
            );
        }
        problems.answer(
            "welfareSafeguarded",
            self.welfare_safeguarded,
            "Select whether the child's welfare is safeguarded and promoted by the placement",
        );
        problems.0
    }
}

/// What stops an action being added, before it is (field names `description`,
/// `ownerName`, `dueDate`): what will be done, who owns it and a real due date are
/// needed, so no action is ever added that the record cannot be submitted with.
pub fn new_action_problems(description: &str, owner_name: &str, due_date: &str) -> Vec<Problem> {
    let mut problems = Problems::default();
    problems.text("description", description, "Enter what will be done");
    problems.text(
        "ownerName",
        owner_name,
        "Enter who is responsible for the action",
    );
    problems.date(
        "dueDate",
        Some(due_date),
        "when the action is due",
        "The due date",
    );
    problems.0
}

impl Child {
    /// What is missing or wrong in the child's basic details, empty when
    /// nothing is.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Problems::default();
        problems.text(
            "legalName",
            self.legal_name.as_deref().unwrap_or_default(),
            "Enter the child's legal name",
        );
        problems.date(
            "dateOfBirth",
            self.date_of_birth.as_deref(),
            "the child's date of birth",
            "Date of birth",
        );
        if let Some(placement) = &self.placement {
            let start_date = placement.start_date.as_deref();
            let start = problems.date(
                "placement.startDate",
                start_date,
                "the placement start date",
                "Placement start date",
            );
            if let Some(end_date) = placement
                .end_date
                .as_deref()
                .filter(|text| !text.trim().is_empty())
            {
                let end = problems.real_date("placement.endDate", end_date, "Placement end date");
                if let (Some(start), Some(end)) = (start, end)
                    && end < start
                {
                    problems.add(
                        "placement.endDate",
                        "Placement end date must be the same as or after the start date",
                    );
                }
            }
        }
        problems.0
    }
}

/// Collects problems in the order they are found.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// A text counts as missing when it is empty or only white space.
    fn text(&mut self, field: impl Into<String>, value: &str, message: &str) {
        if value.trim().is_empty() {
            self.add(field, message);
        }
    }

    fn answer<T>(&mut self, field: &str, value: Option<T>, message: &str) {
        if value.is_none() {
            self.add(field, message);
        }
    }

    /// Checks a stored date: "Enter {what}" when missing or blank, otherwise
    /// as [`Self::real_date`].
    fn date(
        &mut self,
        field: impl Into<String>,
        value: Option<&str>,
        what: &str,
        name: &str,
    ) -> Option<CalendarDate> {
        match value.filter(|text| !text.trim().is_empty()) {
            None => {
                self.add(field, format!("Enter {what}"));
                None
            }
            Some(text) => self.real_date(field, text, name),
        }
    }

    /// "{name} must be a real date" unless `text` is exactly a real
    /// `YYYY-MM-DD` date, which is returned.
    fn real_date(
        &mut self,
        field: impl Into<String>,
        text: &str,
        name: &str,
    ) -> Option<CalendarDate> {
        let date = CalendarDate::parse(text);
        if date.is_none() {
            self.add(field, format!("{name} must be a real date"));
        }
        date
    }
}
