//! Tests of the one wording: every question's choices, field labels and form sections.

use std::collections::HashSet;

use super::FormSection;
use super::wording::{choices, field_labels};

#[test]
fn every_question_with_choices_is_a_field_or_a_list_entrys_answer() {
    let fields: HashSet<&str> = field_labels().into_iter().map(|(key, _)| key).collect();
    for (key, list) in choices() {
        assert!(
            fields.contains(key) || ["topics", "ownerType", "actionStatus"].contains(&key),
            "{key} is not a field"
        );
        let words: HashSet<&str> = list.iter().map(|(_, words)| *words).collect();
        assert_eq!(
            words.len(),
            list.len(),
            "{key} has two choices worded alike"
        );
    }
}

#[test]
fn labels_are_distinct_and_every_form_section_holds_a_field() {
    let labels = field_labels();
    let distinct: HashSet<&str> = labels.iter().map(|(_, label)| *label).collect();
    assert_eq!(distinct.len(), labels.len());
    for section in FormSection::ALL {
        assert!(
            labels
                .iter()
                .any(|(key, _)| FormSection::of_field(key) == section),
            "{} holds no field",
            section.key()
        );
    }
    assert_eq!(FormSection::of_field("notAloneReason"), FormSection::Seen);
    assert_eq!(FormSection::of_field("unknown"), FormSection::Details);
}
