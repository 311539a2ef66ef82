//! Tests for the model's documents: round trips, reading what the JavaScript client
//! wrote, and the typed errors for unreadable content and bad edits.
use crate::schedule::Interval;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, Automerge, ObjType, ROOT, ReadDoc, ScalarValue};

use super::test_fixtures::*;
use super::*;
use crate::sync::Timestamp;

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
