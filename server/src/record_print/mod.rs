//! A child's record for people to read and keep: the subject-access export (D10), one
//! visit printed, and a worker's handover summary, from one model ([`RecordExport`]) and
//! one renderer ([`html::render`]).
//!
//! The export lists the record in chronological narrative order: the child's details,
//! then every placement, review and visit by date; under each visit every version the
//! server received (who sent it, when, and every section as it then read, the child's
//! words verbatim), each manager's sign-off or return, and each amendment with its reason;
//! then the audit trail. [`RecordExport`] is also the machine-readable JSON.
//!
//! Redactions ([`Redaction`]) apply to the export only: [`RecordExport::redact`] replaces
//! a field, or a passage wherever it appears, with "[redacted: reason]"; the record itself
//! is never changed. The PDF is the browser's print of the HTML (the page's print styles;
//! `tests/` uses headless Chromium's print-to-PDF): no PDF writer here.

pub mod html;

use serde::Serialize;

use crate::directory::audit::AuditRow;

/// What a printed record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordKind {
    /// A child's full record for a subject access request.
    SubjectAccess,
    /// One visit, as a worker prints it.
    Visit,
    /// What a new worker needs to know about a child.
    Handover,
}

impl RecordKind {
    /// The document's title.
    pub fn title(self) -> &'static str {
        match self {
            RecordKind::SubjectAccess => "Full record (subject access)",
            RecordKind::Visit => "Visit record",
            RecordKind::Handover => "Handover summary",
        }
    }
}

/// A record ready to print or export.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordExport {
    /// What this is.
    pub kind: RecordKind,
    /// The child's case reference.
    pub child_ref: String,
    /// The child's name.
    pub child_name: String,
    /// When it was produced (server time, ms).
    pub produced_at: i64,
    /// Who produced it (username).
    pub produced_by: String,
    /// The child's document, where the details come from (a redaction pinned to it
    /// applies to them as to its placements and reviews).
    pub child_document_id: Option<String>,
    /// The child's details.
    pub child: Vec<Field>,
    /// The record, oldest first.
    pub entries: Vec<Entry>,
    /// The audit trail, oldest first (subject access only).
    pub audit: Vec<AuditRow>,
    /// How many passages were redacted, by reason code.
    pub redacted: Vec<(String, usize)>,
}

/// One labelled value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// The document key (`voice`, `legalName`, ...).
    pub field: String,
    /// Its name in plain words.
    pub label: String,
    /// The value as text.
    pub value: String,
}

impl Field {
    /// A field.
    pub fn new(field: &str, label: &str, value: impl Into<String>) -> Self {
        Field {
            field: field.to_owned(),
            label: label.to_owned(),
            value: value.into(),
        }
    }
}

/// One dated entry of the record: a placement, a review or a visit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The date it happened (`YYYY-MM-DD`), or empty when not recorded.
    pub date: String,
    /// `placement`, `review` or `visit`.
    pub kind: &'static str,
    /// A heading.
    pub title: String,
    /// The document it comes from.
    pub document_id: Option<String>,
    /// Its facts (the visit's latest version; a placement's details).
    pub fields: Vec<Field>,
    /// What happened to it, oldest first (versions, decisions, amendments).
    pub events: Vec<Event>,
}

/// One step in an entry's history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// When (ms; server time for versions and decisions, device time for amendments).
    pub at: i64,
    /// `version`, `signedOff`, `returned`, `amendment`, or a correction: `moved`,
    /// `expunged`.
    pub kind: &'static str,
    /// Who (username or name), when known.
    pub by: Option<String>,
    /// The comment or reason.
    pub text: String,
    /// For a version: every section as it then read.
    pub fields: Vec<Field>,
}

/// Why a passage is left out of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedactionReason {
    /// Information about someone other than the requester.
    ThirdParty,
    /// DPA 2018 Sch 3 Pt 3: disclosure likely to cause serious harm.
    SeriousHarm,
}

impl RedactionReason {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            RedactionReason::ThirdParty => "third-party",
            RedactionReason::SeriousHarm => "serious-harm",
        }
    }

    /// The reason for a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "third-party" => Some(RedactionReason::ThirdParty),
            "serious-harm" => Some(RedactionReason::SeriousHarm),
            _ => None,
        }
    }

    /// What the export shows in the passage's place.
    pub fn marker(self) -> &'static str {
        match self {
            RedactionReason::ThirdParty => "[redacted: third-party data]",
            RedactionReason::SeriousHarm => {
                "[redacted: serious harm exemption, DPA 2018 Sch 3 Pt 3]"
            }
        }
    }
}

/// A passage a records officer marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redaction {
    /// Its id.
    pub redaction_id: i64,
    /// The document it applies to; `None`: every document of the child.
    pub document_id: Option<String>,
    /// The field (key or label); `None`: every field.
    pub field: Option<String>,
    /// The exact text; `None`: the whole field.
    pub passage: Option<String>,
    /// Why.
    pub reason: RedactionReason,
    /// Who marked it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

impl Redaction {
    fn applies(&self, document: Option<&str>, field: &Field) -> bool {
        self.document_id
            .as_deref()
            .is_none_or(|id| document == Some(id))
            && self
                .field
                .as_deref()
                .is_none_or(|name| name == field.field || name == field.label)
    }

    /// Redacts `field` if this applies; returns how many passages it replaced.
    fn apply(&self, document: Option<&str>, field: &mut Field) -> usize {
        if !self.applies(document, field) {
            return 0;
        }
        match &self.passage {
            None => {
                field.value = self.reason.marker().to_owned();
                1
            }
            Some(passage) if !passage.is_empty() => {
                let count = field.value.matches(passage.as_str()).count();
                if count > 0 {
                    field.value = field.value.replace(passage.as_str(), self.reason.marker());
                }
                count
            }
            Some(_) => 0,
        }
    }
}

impl RecordExport {
    /// Applies `redactions` to this export (never to the record); counts what was
    /// replaced by reason.
    pub fn redact(&mut self, redactions: &[Redaction]) {
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut count = |reason: RedactionReason, n: usize| {
            if n == 0 {
                return;
            }
            match counts.iter_mut().find(|(code, _)| code == reason.code()) {
                Some((_, total)) => *total += n,
                None => counts.push((reason.code().to_owned(), n)),
            }
        };
        for redaction in redactions {
            for field in &mut self.child {
                count(
                    redaction.reason,
                    redaction.apply(self.child_document_id.as_deref(), field),
                );
            }
            for entry in &mut self.entries {
                let document = entry.document_id.clone();
                for field in entry
                    .fields
                    .iter_mut()
                    .chain(entry.events.iter_mut().flat_map(|e| e.fields.iter_mut()))
                {
                    count(
                        redaction.reason,
                        redaction.apply(document.as_deref(), field),
                    );
                }
                if let Some(passage) = redaction.passage.as_deref().filter(|p| !p.is_empty())
                    && redaction.field.is_none()
                {
                    for event in &mut entry.events {
                        let n = event.text.matches(passage).count();
                        if n > 0 {
                            event.text = event.text.replace(passage, redaction.reason.marker());
                            count(redaction.reason, n);
                        }
                    }
                }
            }
            if let Some(passage) = redaction.passage.as_deref().filter(|p| !p.is_empty())
                && redaction.field.is_none()
            {
                for row in &mut self.audit {
                    if let Some(detail) = row.detail.as_mut().filter(|d| d.contains(passage)) {
                        let n = detail.matches(passage).count();
                        *detail = detail.replace(passage, redaction.reason.marker());
                        count(redaction.reason, n);
                    }
                }
            }
        }
        self.redacted = counts;
    }
}

/// A date (ms since the epoch) as people read it in the UK, with the time: "3 March 2026, 14:05".
pub fn long_time(ms: i64) -> String {
    let ms = ms.max(0);
    let date = shared::model::CalendarDate::from_days_since_epoch(ms / 86_400_000)
        .unwrap_or(shared::model::CalendarDate::MAX);
    let utc_day_ms = ms % 86_400_000;
    // Server times are shown in UTC, and say so.
    format!(
        "{}, {:02}:{:02} UTC",
        date.long_form(),
        utc_day_ms / 3_600_000,
        (utc_day_ms / 60_000) % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export() -> RecordExport {
        RecordExport {
            kind: RecordKind::SubjectAccess,
            child_ref: "C-1".into(),
            child_name: "Ada".into(),
            produced_at: 0,
            produced_by: "records-1".into(),
            child_document_id: Some("child-doc".into()),
            child: vec![Field::new(
                "communicationNeeds",
                "Communication needs",
                "Speaks with her aunt Joan Smith on Sundays",
            )],
            entries: Vec::new(),
            audit: Vec::new(),
            redacted: Vec::new(),
        }
    }

    fn redaction(document: Option<&str>) -> Redaction {
        Redaction {
            redaction_id: 1,
            document_id: document.map(str::to_owned),
            field: None,
            passage: Some("Joan Smith".into()),
            reason: RedactionReason::ThirdParty,
            created_by: "records-1".into(),
            created_at: 0,
        }
    }

    #[test]
    fn a_redaction_of_the_childs_document_or_of_every_document_reaches_the_childs_details() {
        for document in [None, Some("child-doc")] {
            let mut export = export();
            export.redact(&[redaction(document)]);
            assert_eq!(
                export.child[0].value,
                "Speaks with her aunt [redacted: third-party data] on Sundays"
            );
            assert_eq!(export.redacted, vec![("third-party".to_owned(), 1)]);
        }
    }

    #[test]
    fn a_redaction_of_another_document_leaves_the_childs_details() {
        let mut export = export();
        export.redact(&[redaction(Some("a-visit"))]);
        assert!(export.child[0].value.contains("Joan Smith"));
        assert!(export.redacted.is_empty());
    }
}
