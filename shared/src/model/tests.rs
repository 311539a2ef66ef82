//! Tests for the model: round trips, validation, tolerant reading, typed
//! errors, and merging concurrent edits from two devices.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, AutoCommit, Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use proptest::prelude::*;

use super::*;
use crate::schedule::Interval;
use crate::sync::Timestamp;

const TODAY: &str = "2024-03-10";

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).expect("test dates are real")
}

pub(super) fn new_visit() -> NewVisit {
    NewVisit {
        visit_id: "5d6f0c1e-visit".into(),
        child_id: "8a1b2c3d-child".into(),
        worker_id: "0f9e8d7c-worker".into(),
        visit_date: date("2024-03-01"),
        created_at: Timestamp::from_millis(1_709_290_000_000),
    }
}

/// Runs `change` in one transaction, committing it only if it succeeds.
pub(super) fn edit<T>(
    doc: &mut Automerge,
    change: impl FnOnce(&mut Transaction<'_>) -> Result<T, ModelError>,
) -> Result<T, ModelError> {
    let mut tx = doc.transaction();
    let result = change(&mut tx);
    if result.is_ok() {
        tx.commit();
    } else {
        tx.rollback();
    }
    result
}

pub(super) fn draft_doc() -> Automerge {
    let mut doc = Automerge::new();
    edit(&mut doc, |tx| create_visit(tx, &new_visit())).expect("a visit can be created");
    doc
}

/// Answers every question on a draft so that it is ready to submit.
pub(super) fn complete(tx: &mut impl Transactable) -> Result<(), ModelError> {
    set_visit_kind(tx, VisitKind::Statutory)?;
    set_made_by(tx, VisitMaker::SocialWorker)?;
    set_location(tx, VisitLocation::Placement)?;
    set_announced(tx, false)?;
    append_text(tx, TextField::Purpose, "Six-weekly statutory visit")?;
    add_person_present(tx, "Sam Carer", "foster carer")?;
    set_child_seen(tx, true)?;
    set_seen_alone(tx, true)?;
    set_bedroom_seen(tx, BedroomSeen::Yes)?;
    append_text(tx, TextField::BedroomDetail, "Tidy, new posters")?;
    append_text(tx, TextField::Observations, "Relaxed and chatty with carer")?;
    let entry = add_voice_entry(tx, "entry-1")?;
    append_child_words(tx, entry, "I like it here")?;
    set_paraphrase(tx, entry, "Feels settled")?;
    add_voice_topic(tx, entry, VoiceTopic::Home)?;
    add_voice_topic(tx, entry, VoiceTopic::Feelings)?;
    set_voice_scale(tx, entry, Some(8))?;
    update_item_text(
        tx,
        ItemTextField::ScaleQuestion,
        entry,
        "How happy are you here?",
    )?;
    set_voice_read_back(tx, entry, true)?;
    append_text(tx, TextField::Analysis, "Placement meeting needs")?;
    let action = NewAction {
        action_id: "action-1".into(),
        description: "Book dentist".into(),
        owner_type: Some(ActionOwnerType::Carer),
        owner_name: "Sam Carer".into(),
        due_date: Some(date("2024-04-01")),
    };
    add_action(tx, &action)?;
    set_welfare_safeguarded(tx, true)
}

fn complete_visit() -> Visit {
    Visit {
        visit_id: "5d6f0c1e-visit".into(),
        child_id: "8a1b2c3d-child".into(),
        worker_id: "0f9e8d7c-worker".into(),
        visit_date: Some("2024-03-01".into()),
        visit_kind: Some(VisitKind::Statutory),
        location: Some(VisitLocation::Placement),
        announced: Some(false),
        purpose: "Six-weekly statutory visit".into(),
        persons_present: vec![PersonPresent {
            person_id: None,
            name: "Sam Carer".into(),
            role: "foster carer".into(),
        }],
        child_seen: Some(true),
        seen_alone: Some(true),
        not_alone_reason: None,
        not_alone_detail: String::new(),
        bedroom_seen: Some(BedroomSeen::Yes),
        bedroom_detail: "Tidy, new posters".into(),
        observations: "Relaxed and chatty with carer".into(),
        voice: vec![VoiceEntry {
            entry_id: "entry-1".into(),
            words: "I like it here".into(),
            paraphrase: "Feels settled".into(),
            topics: vec![VoiceTopic::Home, VoiceTopic::Feelings],
            scale: Some(8),
            scale_question: "How happy are you here?".into(),
            read_back: Some(true),
        }],
        analysis: "Placement meeting needs".into(),
        actions: vec![Action {
            action_id: "action-1".into(),
            description: "Book dentist".into(),
            owner_type: Some(ActionOwnerType::Carer),
            owner_name: "Sam Carer".into(),
            due_date: Some("2024-04-01".into()),
            status: Some(ActionStatus::Open),
        }],
        welfare_safeguarded: Some(true),
        status: Some(VisitStatus::Draft),
        created_at: Some(Timestamp::from_millis(1_709_290_000_000)),
        submitted_at: None,
        made_by: Some(VisitMaker::SocialWorker),
        discarded: None,
    }
}

fn fields_and_messages(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems
        .iter()
        .map(|problem| (problem.field.as_str(), problem.message.as_str()))
        .collect()
}

#[test]
fn visit_round_trips_through_a_document() -> Result<(), ModelError> {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| complete(tx))?;
    assert_eq!(Visit::read(&doc)?, complete_visit());
    let saved = Automerge::load(&doc.save())?;
    assert_eq!(Visit::read(&saved)?, complete_visit());
    Ok(())
}

#[test]
fn a_visit_summary_agrees_with_the_visit_and_skips_the_narrative() -> Result<(), ModelError> {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| complete(tx))?;
    let visit = Visit::read(&doc)?;
    let summary = VisitSummary::read(&doc)?;
    assert_eq!(
        summary,
        VisitSummary {
            visit_id: visit.visit_id,
            child_id: visit.child_id,
            worker_id: visit.worker_id,
            visit_date: visit.visit_date,
            visit_kind: visit.visit_kind,
            location: visit.location,
            child_seen: visit.child_seen,
            seen_alone: visit.seen_alone,
            actions: visit.actions,
            status: visit.status,
            created_at: visit.created_at,
            submitted_at: visit.submitted_at,
            made_by: visit.made_by,
            discarded: false,
        }
    );
    // A listing still shows a visit whose child's words it cannot read; the record itself
    // reports the problem.
    let mut broken = js_visit();
    broken.put(ROOT, "voice", "none").expect("put");
    assert!(Visit::read(&broken).is_err());
    assert_eq!(
        VisitSummary::read(&broken)?.visit_id,
        Visit::read(&js_visit())?.visit_id
    );
    Ok(())
}

#[test]
fn new_draft_reads_as_unanswered() -> Result<(), ModelError> {
    let visit = Visit::read(&draft_doc())?;
    assert_eq!(visit.visit_date.as_deref(), Some("2024-03-01"));
    assert_eq!(visit.status, Some(VisitStatus::Draft));
    assert_eq!(
        (visit.seen_alone, visit.voice.len(), visit.purpose.as_str()),
        (None, 0, "")
    );
    Ok(())
}

#[test]
fn child_round_trips_through_a_document() -> Result<(), ModelError> {
    let new_child = NewChild {
        child_id: "8a1b2c3d-child".into(),
        la_person_id: Some("LA-12345".into()),
        legal_name: "Alexandra Smith".into(),
        preferred_name: Some("Lexi".into()),
        date_of_birth: date("2012-02-29"),
        sex: Some("2".into()),
        ethnicity: Some("WBRI".into()),
        first_language: Some("English".into()),
        interpreter_needed: Some(false),
        communication_needs: "Prefers to talk while drawing".into(),
        legal_status: Some("C2".into()),
        uasc: None,
        summary: "Loves football; sister placed nearby".into(),
        placement: Some(NewPlacement {
            placement_id: "placement-1".into(),
            start_date: date("2023-09-04"),
            end_date: None,
            placement_type: "U3".into(),
            provider: Some(PlacementProvider::Pr1),
            carer_name: Some("Sam Carer".into()),
            postcode: None,
            statutory_basis: StatutoryBasis::Standard,
            intended_until_18: true,
            ltf_designated: true,
            child_agreement_date: Some(date("2024-10-01")),
            care_order_date: None,
            short_breaks_interval: None,
            other_arrangements_interval: Some(Interval::Days(30)),
            local_interval: Some(Interval::Days(28)),
        }),
        became_looked_after: Some(date("2023-08-30")),
        reviews: vec![
            NewCaseReview {
                review_id: "review-1".into(),
                due_date: Some(date("2023-09-27")),
                held_date: Some(date("2023-09-20")),
            },
            NewCaseReview {
                review_id: "review-2".into(),
                due_date: Some(date("2023-12-20")),
                held_date: None,
            },
        ],
        care_leaver: Some(NewCareLeaver {
            accommodation_from: date("2030-03-01"),
            pathway_reviews: vec![date("2030-04-15"), date("2030-10-15")],
        }),
    };
    let mut doc = AutoCommit::new();
    create_child(&mut doc, &new_child)?;
    let expected = Child {
        child_id: "8a1b2c3d-child".into(),
        la_person_id: Some("LA-12345".into()),
        legal_name: Some("Alexandra Smith".into()),
        preferred_name: Some("Lexi".into()),
        date_of_birth: Some("2012-02-29".into()),
        sex: Some("2".into()),
        ethnicity: Some("WBRI".into()),
        first_language: Some("English".into()),
        interpreter_needed: Some(false),
        communication_needs: "Prefers to talk while drawing".into(),
        legal_status: Some("C2".into()),
        uasc: None,
        summary: "Loves football; sister placed nearby".into(),
        placement: Some(Placement {
            placement_id: "placement-1".into(),
            start_date: Some("2023-09-04".into()),
            end_date: None,
            placement_type: Some("U3".into()),
            provider: Some(PlacementProvider::Pr1),
            carer_name: Some("Sam Carer".into()),
            postcode: None,
            statutory_basis: Some(StatutoryBasis::Standard),
            intended_until_18: Some(true),
            ltf_designated: Some(true),
            child_agreement_date: Some("2024-10-01".into()),
            care_order_date: None,
            short_breaks_interval: None,
            other_arrangements_interval: Some(Interval::Days(30)),
            local_interval: Some(Interval::Days(28)),
        }),
        became_looked_after: Some("2023-08-30".into()),
        reviews: vec![
            CaseReview {
                review_id: "review-1".into(),
                due_date: Some("2023-09-27".into()),
                held_date: Some("2023-09-20".into()),
            },
            CaseReview {
                review_id: "review-2".into(),
                due_date: Some("2023-12-20".into()),
                held_date: None,
            },
        ],
        care_leaver: Some(CareLeaver {
            accommodation_from: Some("2030-03-01".into()),
            pathway_reviews: vec!["2030-04-15".into(), "2030-10-15".into()],
        }),
    };
    let child = Child::read(&doc)?;
    assert_eq!(child, expected);
    assert_eq!(child.problems(), vec![]);
    assert!(matches!(
        Visit::read(&doc),
        Err(ModelError::WrongDocumentType { expected: "visit", found: Some(found) }) if found == "child"
    ));
    Ok(())
}

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
fn calendar_dates_follow_the_gregorian_calendar() {
    for (text, real) in [
        ("2024-02-29", true),
        ("2000-02-29", true),
        ("2023-02-29", false),
        ("1900-02-29", false),
        ("2023-02-28", true),
        ("2024-12-31", true),
        ("2024-13-01", false),
        ("2024-00-10", false),
        ("2024-01-00", false),
        ("2024-06-31", false),
        ("0000-01-01", false),
        ("2024-1-01", false),
        ("2024/01/01", false),
        ("2024-01-01 ", false),
        ("+024-01-01", false),
        ("２０２4-01", false),
        ("", false),
    ] {
        assert_eq!(CalendarDate::parse(text).is_some(), real, "{text:?}");
    }
    assert_eq!(date("0999-01-02").to_string(), "0999-01-02");
    assert!(date("2023-12-31") < date("2024-01-01"));
    assert!(is_leap_year(2024) && is_leap_year(2000) && !is_leap_year(1900) && !is_leap_year(2023));
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

/// Puts a string the way automerge JS 3.x does: as a text object.
fn put_js_string(doc: &mut AutoCommit, map: &ObjId, key: &str, value: &str) {
    let text = doc.put_object(map, key, ObjType::Text).expect("put text");
    doc.splice_text(&text, 0, 0, value).expect("splice text");
}

/// A visit written the way the JavaScript client writes one.
fn js_visit() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schemaVersion", ScalarValue::F64(1.0))
        .expect("put");
    for (key, value) in [
        ("type", "visit"),
        ("visitId", "v-1"),
        ("childId", "c-1"),
        ("workerId", "w-1"),
        ("visitDate", "2024-03-01"),
        ("visitKind", "postComplaint"),
        ("purpose", "Follow up complaint"),
    ] {
        put_js_string(&mut doc, &ROOT, key, value);
    }
    doc.put(ROOT, "createdAt", ScalarValue::F64(1_709_290_000_000.0))
        .expect("put");
    doc.put(ROOT, "seenAlone", false).expect("put");
    let voice = doc.put_object(ROOT, "voice", ObjType::List).expect("put");
    let entry = doc.insert_object(&voice, 0, ObjType::Map).expect("insert");
    put_js_string(&mut doc, &entry, "entryId", "e-1");
    put_js_string(&mut doc, &entry, "words", "It's ok");
    let topics = doc
        .put_object(&entry, "topics", ObjType::List)
        .expect("put");
    let topic = doc
        .insert_object(&topics, 0, ObjType::Text)
        .expect("insert");
    doc.splice_text(&topic, 0, 0, "school").expect("splice");
    doc.insert(&topics, 1, "home").expect("insert");
    doc.insert(&topics, 2, "school").expect("insert");
    doc.put(&entry, "scale", ScalarValue::Uint(7)).expect("put");
    doc
}

#[test]
fn reads_strings_written_as_text_and_numbers_written_as_floats() -> Result<(), ModelError> {
    let visit = Visit::read(&js_visit())?;
    assert_eq!(
        (visit.visit_id.as_str(), visit.child_id.as_str()),
        ("v-1", "c-1")
    );
    assert_eq!(visit.visit_date.as_deref(), Some("2024-03-01"));
    assert_eq!(visit.visit_kind, Some(VisitKind::PostComplaint));
    assert_eq!(
        visit.created_at,
        Some(Timestamp::from_millis(1_709_290_000_000))
    );
    assert_eq!(visit.purpose, "Follow up complaint");
    assert_eq!(visit.seen_alone, Some(false));
    assert_eq!(visit.voice[0].entry_id, "e-1");
    assert_eq!(
        visit.voice[0].topics,
        vec![VoiceTopic::School, VoiceTopic::Home]
    );
    assert_eq!(visit.voice[0].scale, Some(7));
    // Missing lists and texts read as empty, missing answers as `None`.
    assert_eq!(
        (visit.actions.len(), visit.analysis.as_str(), visit.status),
        (0, "", None)
    );
    Ok(())
}

#[test]
fn edits_work_on_documents_written_by_javascript() -> Result<(), ModelError> {
    let mut doc = js_visit();
    append_text(&mut doc, TextField::Analysis, "Complaint resolved")?;
    append_child_words(&mut doc, 0, ", really")?;
    remove_voice_topic(&mut doc, 0, VoiceTopic::School)?;
    let index = add_action(
        &mut doc,
        &NewAction {
            action_id: "a-1".into(),
            description: "Write to complainant".into(),
            owner_type: None,
            owner_name: "Jo Worker".into(),
            due_date: None,
        },
    )?;
    set_action_due_date(&mut doc, index, date("2024-03-20"))?;
    set_action_status(&mut doc, index, ActionStatus::Done)?;
    let visit = Visit::read(&doc)?;
    assert_eq!(visit.analysis, "Complaint resolved");
    assert_eq!(visit.voice[0].words, "It's ok, really");
    assert_eq!(visit.voice[0].topics, vec![VoiceTopic::Home]);
    assert_eq!(visit.actions[0].due_date.as_deref(), Some("2024-03-20"));
    assert_eq!(visit.actions[0].status, Some(ActionStatus::Done));
    Ok(())
}

#[test]
fn unreadable_content_is_a_typed_error_naming_the_field() {
    fn check(change: impl FnOnce(&mut AutoCommit), expected: &str) {
        let mut doc = js_visit();
        change(&mut doc);
        let error = Visit::read(&doc).expect_err(expected);
        assert_eq!(error.to_string(), expected);
    }
    check(
        |doc| doc.put(ROOT, "schemaVersion", 2).expect("put"),
        "visit schema version 2 is not supported (this build reads version 1)",
    );
    check(
        |doc| doc.delete(ROOT, "type").expect("delete"),
        "expected a visit document but its type is None",
    );
    check(
        |doc| doc.delete(ROOT, "schemaVersion").expect("delete"),
        "required field schemaVersion is missing",
    );
    check(
        |doc| doc.delete(ROOT, "visitId").expect("delete"),
        "required field visitId is missing",
    );
    check(
        |doc| doc.put(ROOT, "location", "moon").expect("put"),
        "field location has unknown code \"moon\"",
    );
    check(
        |doc| put_js_string(doc, &ROOT, "seenAlone", "yes"),
        "field seenAlone holds the text \"yes\" where a boolean was expected",
    );
    check(
        |doc| doc.put(ROOT, "createdAt", 1.5).expect("put"),
        "field createdAt holds the value 1.5 where a whole number was expected",
    );
    check(
        |doc| doc.put(ROOT, "createdAt", -1).expect("put"),
        "field createdAt holds the value -1 where milliseconds since 1970 was expected",
    );
    check(
        |doc| doc.put(ROOT, "voice", "none").expect("put"),
        "field voice holds the value \"none\" where a list was expected",
    );
    check(
        |doc| {
            let voice = doc.put_object(ROOT, "voice", ObjType::List).expect("put");
            doc.insert(&voice, 0, 3).expect("insert");
        },
        "field voice[0] holds the value 3 where a map was expected",
    );
    check(
        |doc| {
            let (_, voice) = doc.get(ROOT, "voice").expect("get").expect("voice");
            let (_, entry) = doc.get(&voice, 0).expect("get").expect("entry");
            let (_, topics) = doc.get(&entry, "topics").expect("get").expect("topics");
            doc.insert(&topics, 1, "pets").expect("insert");
        },
        "field voice[0].topics[1] has unknown code \"pets\"",
    );
    check(
        |doc| {
            let actions = doc.put_object(ROOT, "actions", ObjType::List).expect("put");
            doc.insert_object(&actions, 0, ObjType::Map)
                .expect("insert");
        },
        "required field actions[0].actionId is missing",
    );
}

#[test]
fn child_reader_checks_type_and_version() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "type", "child").expect("put");
    doc.put(ROOT, "schemaVersion", 7u64).expect("put");
    assert!(matches!(
        Child::read(&doc),
        Err(ModelError::UnsupportedSchemaVersion {
            document: "child",
            found: 7,
            supported: 1
        })
    ));
    assert!(matches!(
        Child::read(&js_visit()),
        Err(ModelError::WrongDocumentType {
            expected: "child",
            ..
        })
    ));
}

#[test]
fn bad_edits_are_typed_errors() {
    let mut doc = draft_doc();
    let mut tx = doc.transaction();
    assert!(matches!(
        append_child_words(&mut tx, 3, "hi"),
        Err(ModelError::IndexOutOfRange { field, index: 3, len: 0 }) if field == "voice"
    ));
    assert!(matches!(
        set_action_status(&mut tx, 0, ActionStatus::Done),
        Err(ModelError::IndexOutOfRange {
            index: 0,
            len: 0,
            ..
        })
    ));
    assert!(matches!(
        splice_text(&mut tx, TextField::Purpose, 1, 0, "x"),
        Err(ModelError::TextRangeOutOfBounds {
            pos: 1,
            delete: 0,
            len: 0,
            ..
        })
    ));
    append_text(&mut tx, TextField::Purpose, "abc").expect("append");
    assert!(matches!(
        splice_text(&mut tx, TextField::Purpose, 1, usize::MAX, ""),
        Err(ModelError::TextRangeOutOfBounds { len: 3, .. })
    ));
    splice_text(&mut tx, TextField::Purpose, 1, 2, "ll").expect("in range");
    let entry = add_voice_entry(&mut tx, "entry-1").expect("add");
    assert!(matches!(
        set_voice_scale(&mut tx, entry, Some(11)),
        Err(ModelError::ScaleOutOfRange { value: 11 })
    ));
    assert!(matches!(
        splice_item_text(&mut tx, ItemTextField::Paraphrase, entry, 2, 0, "x"),
        Err(ModelError::TextRangeOutOfBounds { field, .. }) if field == "voice[0].paraphrase"
    ));
    assert!(matches!(
        create_visit(&mut tx, &new_visit()),
        Err(ModelError::DocumentNotEmpty { document: "visit" })
    ));
    assert!(matches!(
        resolve_conflict(
            &mut tx,
            VisitScalarField::SeenAlone,
            &ScalarValue::from("yes")
        ),
        Err(ModelError::WrongValueType { .. })
    ));
    set_voice_scale(&mut tx, entry, Some(3)).expect("in range");
    set_voice_scale(&mut tx, entry, None).expect("clearing");
    tx.commit();
    let visit = Visit::read(&doc).expect("readable");
    assert_eq!(
        (visit.purpose.as_str(), visit.voice[0].scale),
        ("all", None)
    );
}

#[test]
fn concurrent_edits_merge_and_conflicting_answers_are_reported() -> Result<(), ModelError> {
    let mut tablet = Automerge::new().with_actor(ActorId::from(b"tablet"));
    edit(&mut tablet, |tx| {
        create_visit(tx, &new_visit())?;
        let entry = add_voice_entry(tx, "entry-1")?;
        append_child_words(tx, entry, "I want ")
    })?;
    let mut phone = tablet.fork().with_actor(ActorId::from(b"phone"));

    edit(&mut tablet, |tx| {
        append_child_words(tx, 0, "a dog")?;
        set_seen_alone(tx, true)
    })?;
    edit(&mut phone, |tx| {
        append_child_words(tx, 0, "to see my nan")?;
        set_seen_alone(tx, false)
    })?;
    tablet.merge(&mut phone)?;
    phone.merge(&mut tablet)?;

    assert_eq!(tablet.get_heads(), phone.get_heads());
    let merged = Visit::read(&tablet)?;
    assert_eq!(merged, Visit::read(&phone)?);
    let words = &merged.voice[0].words;
    assert!(words.starts_with("I want "), "{words:?}");
    assert!(
        words.contains("a dog") && words.contains("to see my nan"),
        "{words:?}"
    );
    assert_eq!(
        words.chars().count(),
        "I want a dogto see my nan".chars().count()
    );

    for doc in [&tablet, &phone] {
        let conflicts = single_value_conflicts(doc);
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0].field, VisitScalarField::SeenAlone);
        let mut shown: Vec<&str> = conflicts[0]
            .candidates
            .iter()
            .map(|c| c.display.as_str())
            .collect();
        shown.sort_unstable();
        assert_eq!(shown, ["No", "Yes"]);
    }

    // A person on the phone chooses "No"; once merged the conflict is gone.
    let chosen = single_value_conflicts(&phone)[0]
        .candidates
        .iter()
        .find(|candidate| candidate.display == "No")
        .map(|candidate| candidate.value.clone())
        .expect("No is a candidate");
    edit(&mut phone, |tx| {
        resolve_conflict(tx, VisitScalarField::SeenAlone, &chosen)
    })?;
    tablet.merge(&mut phone)?;
    assert_eq!(single_value_conflicts(&tablet), vec![]);
    assert_eq!(Visit::read(&tablet)?.seen_alone, Some(false));
    Ok(())
}

/// A value of any shape a peer could put under a key.
#[derive(Debug, Clone)]
enum AnyValue {
    Scalar(ScalarValue),
    Text(String),
    List(Vec<ScalarValue>),
    Map,
}

fn any_scalar() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        "\\PC{0,12}".prop_map(|text| ScalarValue::Str(text.into())),
        Just(ScalarValue::Str("visit".into())),
        any::<i64>().prop_map(ScalarValue::Int),
        any::<u64>().prop_map(ScalarValue::Uint),
        any::<f64>().prop_map(ScalarValue::F64),
        any::<bool>().prop_map(ScalarValue::Boolean),
        Just(ScalarValue::Null),
    ]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        any_scalar().prop_map(AnyValue::Scalar),
        "\\PC{0,12}".prop_map(AnyValue::Text),
        proptest::collection::vec(any_scalar(), 0..3).prop_map(AnyValue::List),
        Just(AnyValue::Map),
    ]
}

proptest! {
    // Automerge is slow in debug builds; 64 random documents keep this test quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reading_any_content_never_panics(values in proptest::collection::vec(any_value(), 24)) {
        let mut doc = AutoCommit::new();
        create_visit(&mut doc, &new_visit()).expect("create");
        let keys = VisitScalarField::ALL.iter().map(|field| field.key()).chain([
            "purpose", "analysis", "personsPresent", "voice", "actions", "a", "b", "c",
        ]);
        for (key, value) in keys.zip(values) {
            match value {
                AnyValue::Scalar(scalar) => doc.put(ROOT, key, scalar).expect("put"),
                AnyValue::Text(text) => put_js_string(&mut doc, &ROOT, key, &text),
                AnyValue::List(items) => {
                    let list = doc.put_object(ROOT, key, ObjType::List).expect("put");
                    for (index, item) in items.into_iter().enumerate() {
                        doc.insert(&list, index, item).expect("insert");
                    }
                }
                AnyValue::Map => drop(doc.put_object(ROOT, key, ObjType::Map).expect("put")),
            }
        }
        if let Ok(visit) = Visit::read(&doc) {
            visit.problems_for_submission(TODAY);
        }
        single_value_conflicts(&doc);
    }
}

#[test]
fn day_arithmetic_crosses_month_ends_and_leap_days() {
    assert_eq!(date("1970-01-01").days_since_epoch(), 0);
    assert_eq!(date("2000-03-01").days_since_epoch(), 11_017);
    assert_eq!(date("2024-02-28").add_days(1), Some(date("2024-02-29")));
    assert_eq!(date("2023-02-28").add_days(1), Some(date("2023-03-01")));
    assert_eq!(date("2026-12-31").add_days(1), Some(date("2027-01-01")));
    assert_eq!(date("2026-03-01").add_days(-1), Some(date("2026-02-28")));
    assert_eq!(date("1969-12-31").days_since_epoch(), -1);
    assert_eq!(date("0001-01-01").add_days(-1), None);
}

proptest::proptest! {
    #[test]
    fn days_since_epoch_round_trips(days in -719_162i64..2_932_896) {
        let date = CalendarDate::from_days_since_epoch(days).expect("in range");
        proptest::prop_assert_eq!(date.days_since_epoch(), days);
    }
}

#[test]
fn uk_dates_follow_british_summer_time() {
    let at = |day_text: &str, hour: u64, minute: u64| {
        let day = u64::try_from(date(day_text).days_since_epoch()).expect("after 1970");
        day * 86_400_000 + hour * 3_600_000 + minute * 60_000
    };
    let uk = |millis| uk_civil_date(millis).to_string();
    // Winter: local time is UTC.
    assert_eq!(uk(at("2026-12-31", 23, 30)), "2026-12-31");
    assert_eq!(uk(at("2026-03-28", 23, 30)), "2026-03-28");
    // Summer time starts at 01:00 UTC on the last Sunday of March (29 March 2026).
    assert_eq!(uk(at("2026-03-29", 0, 59)), "2026-03-29");
    assert_eq!(uk(at("2026-03-29", 23, 0)), "2026-03-30");
    assert_eq!(uk(at("2026-06-30", 23, 30)), "2026-07-01");
    assert_eq!(uk(at("2026-06-30", 22, 59)), "2026-06-30");
    // It ends at 01:00 UTC on the last Sunday of October (25 October 2026).
    assert_eq!(uk(at("2026-10-24", 23, 30)), "2026-10-25");
    assert_eq!(uk(at("2026-10-25", 23, 30)), "2026-10-25");
    // Another year's last Sundays: 31 March 2024 and 27 October 2024.
    assert_eq!(uk(at("2024-03-30", 23, 30)), "2024-03-30");
    assert_eq!(uk(at("2024-03-31", 23, 30)), "2024-04-01");
    assert_eq!(uk(at("2024-10-26", 23, 30)), "2024-10-27");
    assert_eq!(uk(at("2024-10-27", 23, 30)), "2024-10-27");
}
