//! Tests for what stops a record being submitted: missing answers, follow-up questions,
//! the visit date, and a child's own problems and schedule keys.
use crate::schedule::Interval;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};

use super::test_fixtures::*;
use super::*;

#[test]
fn empty_draft_lists_every_missing_answer() -> Result<(), ModelError> {
    let problems = Visit::read(&draft_doc())?.problems_for_submission(TODAY);
    assert_eq!(
        fields_and_messages(&problems),
        vec![
            // The kind and place of a visit are required since issue 15.
            ("visitKind", "Select the kind of visit"),
            ("location", "Select where you saw the child"),
            ("purpose", "Enter the purpose of the visit"),
            ("childSeen", "Select whether the child was seen"),
            ("bedroomSeen", "Select whether the child's bedroom was seen"),
            ("observations", "Enter what you saw during the visit"),
            (
                "voice",
                "Enter what the child said, in their own words, or explain why not"
            ),
            ("analysis", "Enter your analysis of the visit"),
            (
                "welfareSafeguarded",
                "Select whether the child's welfare is safeguarded and promoted by the placement"
            ),
        ]
    );
    Ok(())
}

#[test]
fn complete_visit_has_no_problems() {
    assert_eq!(complete_visit().problems_for_submission(TODAY), vec![]);
}

#[test]
fn follow_up_questions_depend_on_earlier_answers() {
    fn check(change: impl FnOnce(&mut Visit), expected: &[(&str, &str)]) {
        let mut visit = complete_visit();
        change(&mut visit);
        assert_eq!(
            fields_and_messages(&visit.problems_for_submission(TODAY)),
            expected
        );
    }
    check(
        |visit| visit.seen_alone = None,
        &[("seenAlone", "Select whether the child was seen alone")],
    );
    check(
        |visit| visit.seen_alone = Some(false),
        &[("notAloneReason", "Select why the child was not seen alone")],
    );
    check(
        |visit| {
            visit.seen_alone = Some(false);
            visit.not_alone_reason = Some(NotAloneReason::Refused);
        },
        &[],
    );
    // A child who was not seen cannot be seen alone or say anything.
    check(
        |visit| {
            visit.child_seen = Some(false);
            visit.seen_alone = None;
            visit.voice.clear();
        },
        &[],
    );
    check(
        |visit| visit.voice[0].words = "  ".into(),
        &[(
            "voice",
            "Enter what the child said, in their own words, or explain why not",
        )],
    );
    check(
        |visit| {
            visit.bedroom_seen = Some(BedroomSeen::No);
            visit.bedroom_detail.clear();
        },
        &[(
            "bedroomDetail",
            "Enter why the child's bedroom was not seen",
        )],
    );
    check(
        |visit| visit.voice[0].scale = Some(11),
        &[(
            "voice[0].scale",
            "Scale score for entry 1 of what the child said must be between 0 and 10",
        )],
    );
    check(
        |visit| {
            visit.actions[0].description.clear();
            visit.actions[0].owner_name = " ".into();
            visit.actions[0].due_date = Some("2023-02-29".into());
        },
        &[
            (
                "actions[0].description",
                "Enter what will be done for action 1",
            ),
            (
                "actions[0].ownerName",
                "Enter who is responsible for action 1",
            ),
            (
                "actions[0].dueDate",
                "Due date for action 1 must be a real date",
            ),
        ],
    );
    check(
        |visit| visit.actions[0].due_date = None,
        &[("actions[0].dueDate", "Enter the due date for action 1")],
    );
}

#[test]
fn visit_date_must_be_real_and_not_in_the_future() {
    fn check(visit_date: Option<&str>, expected: &[&str]) {
        let mut visit = complete_visit();
        visit.visit_date = visit_date.map(str::to_owned);
        let problems = visit.problems_for_submission(TODAY);
        let messages: Vec<&str> = problems
            .iter()
            .map(|problem| problem.message.as_str())
            .collect();
        assert_eq!(messages, expected, "visit date {visit_date:?}");
        assert!(problems.iter().all(|problem| problem.field == "visitDate"));
    }
    check(None, &["Enter the date of the visit"]);
    check(Some(""), &["Enter the date of the visit"]);
    check(Some("2024-02-29"), &[]);
    check(Some(TODAY), &[]);
    check(
        Some("2024-03-11"),
        &["Date of the visit must be today or in the past"],
    );
    check(
        Some("2023-02-29"),
        &["Date of the visit must be a real date"],
    );
    check(
        Some("2024-04-31"),
        &["Date of the visit must be a real date"],
    );
    check(Some("1/3/2024"), &["Date of the visit must be a real date"]);
}

#[test]
fn child_problems_cover_the_basics() {
    let child = Child {
        child_id: "child-1".into(),
        la_person_id: None,
        legal_name: Some(" ".into()),
        preferred_name: None,
        date_of_birth: Some("2011-02-29".into()),
        sex: None,
        ethnicity: None,
        first_language: None,
        interpreter_needed: None,
        communication_needs: String::new(),
        legal_status: None,
        uasc: None,
        summary: String::new(),
        placement: Some(Placement {
            placement_id: "placement-1".into(),
            start_date: Some("2024-03-01".into()),
            end_date: Some("2024-02-01".into()),
            placement_type: None,
            provider: None,
            carer_name: None,
            postcode: None,
            statutory_basis: None,
            intended_until_18: None,
            ltf_designated: None,
            child_agreement_date: None,
            care_order_date: None,
            short_breaks_interval: None,
            other_arrangements_interval: None,
            local_interval: None,
        }),
        became_looked_after: None,
        reviews: Vec::new(),
        care_leaver: None,
    };
    assert_eq!(
        fields_and_messages(&child.problems()),
        vec![
            ("legalName", "Enter the child's legal name"),
            ("dateOfBirth", "Date of birth must be a real date"),
            (
                "placement.endDate",
                "Placement end date must be the same as or after the start date"
            ),
        ]
    );
}

#[test]
fn child_schedule_keys_are_optional_and_checked() -> Result<(), ModelError> {
    // A child written before the schedule keys existed reads with none of them.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schemaVersion", 1)?;
    doc.put(ROOT, "type", "child")?;
    doc.put(ROOT, "childId", "child-1")?;
    let placement = doc.put_object(ROOT, "placement", ObjType::Map)?;
    doc.put(&placement, "placementId", "placement-1")?;
    let child = Child::read(&doc)?;
    assert_eq!(child.became_looked_after, None);
    assert_eq!(child.reviews, vec![]);
    assert_eq!(child.care_leaver, None);
    let read = child.placement.expect("placement");
    assert_eq!(
        (read.local_interval, read.child_agreement_date),
        (None, None)
    );

    // Written the JavaScript way: numbers as floats, strings as text objects.
    doc.put(&placement, "shortBreaksIntervalDays", 28.0)?;
    let leaver = doc.put_object(ROOT, "careLeaver", ObjType::Map)?;
    put_js_string(&mut doc, &leaver, "accommodationFrom", "2030-03-01");
    let list = doc.put_object(&leaver, "pathwayReviews", ObjType::List)?;
    let text = doc.insert_object(&list, 0, ObjType::Text)?;
    doc.splice_text(&text, 0, 0, "2030-04-15")?;
    add_case_review(
        &mut doc,
        &NewCaseReview {
            review_id: "review-1".into(),
            due_date: None,
            held_date: Some(date("2030-01-20")),
        },
    )?;
    let child = Child::read(&doc)?;
    assert_eq!(
        child.placement.and_then(|p| p.short_breaks_interval),
        Some(Interval::Days(28))
    );
    assert_eq!(
        child.care_leaver,
        Some(CareLeaver {
            accommodation_from: Some("2030-03-01".into()),
            pathway_reviews: vec!["2030-04-15".into()],
        })
    );
    assert_eq!(child.reviews[0].held_date.as_deref(), Some("2030-01-20"));

    // Days must be whole numbers from 1 up; a list must be a list.
    doc.put(&placement, "localIntervalDays", -3)?;
    assert!(matches!(
        Child::read(&doc),
        Err(ModelError::WrongValueType { field, .. }) if field == "placement.localIntervalDays"
    ));
    doc.put(&placement, "localIntervalDays", 14)?;
    doc.put(&leaver, "pathwayReviews", "2030-04-15")?;
    assert!(matches!(
        Child::read(&doc),
        Err(ModelError::WrongValueType { field, .. }) if field == "careLeaver.pathwayReviews"
    ));
    Ok(())
}
