//! Tests of turning form edits into typed model edits.

use shared::model::{NewVisit, Visit, VisitStatus};
use shared::sync::Timestamp;

use super::*;

fn draft() -> Automerge {
    let mut doc = Automerge::new();
    let visit = NewVisit {
        visit_id: "v1".into(),
        child_id: "DEMO-0001".into(),
        worker_id: "sw".into(),
        visit_date: CalendarDate::parse("2026-11-20").expect("date"),
        created_at: Timestamp::from_millis(1),
    };
    let mut tx = doc.transaction();
    model::create_visit(&mut tx, &visit).expect("create");
    tx.commit();
    doc
}

impl EditFields for serde_json::Value {
    fn text(&self, key: &str) -> Option<String> {
        self[key].as_str().map(str::to_owned)
    }
    fn number(&self, key: &str) -> Option<f64> {
        self[key].as_f64()
    }
    fn flag(&self, key: &str) -> Option<bool> {
        self[key].as_bool()
    }
}

fn edit(doc: &mut Automerge, json: &str) -> Result<Option<usize>, ClientError> {
    let value: serde_json::Value = serde_json::from_str(json).expect("valid json");
    let edit = FormEdit::read(&value)?;
    let author = ChangeAuthor {
        worker_id: "sw".into(),
        device: "device-1".into(),
    };
    apply_edit(
        doc,
        &edit,
        || "id-1".into(),
        Timestamp::from_millis(0),
        &author,
    )
}

#[test]
fn form_edits_reach_the_record() {
    let mut doc = draft();
    edit(
        &mut doc,
        r#"{"op":"text","field":"observations","value":"Tidy room"}"#,
    )
    .expect("text");
    edit(
        &mut doc,
        r#"{"op":"choice","field":"seenAlone","value":"no"}"#,
    )
    .expect("choice");
    edit(
        &mut doc,
        r#"{"op":"choice","field":"notAloneReason","value":"refused"}"#,
    )
    .expect("reason");
    let index = edit(&mut doc, r#"{"op":"addVoice"}"#)
        .expect("voice")
        .expect("index");
    let words = format!(
        r#"{{"op":"itemText","list":"voice","index":{index},"field":"words","value":"I want to stay"}}"#
    );
    edit(&mut doc, &words).expect("words");
    let visit = Visit::read(&doc).expect("read");
    assert_eq!(visit.observations, "Tidy room");
    assert_eq!(visit.seen_alone, Some(false));
    assert_eq!(visit.not_alone_reason, Some(NotAloneReason::Refused));
    assert_eq!(visit.voice[0].words, "I want to stay");
}

#[test]
fn unknown_fields_and_codes_are_refused_in_words() {
    let mut doc = draft();
    let err = edit(
        &mut doc,
        r#"{"op":"choice","field":"seenAlone","value":"maybe"}"#,
    )
    .expect_err("bad answer");
    assert!(err.to_string().contains("maybe"));
    assert!(edit(&mut doc, r#"{"op":"text","field":"secret","value":"x"}"#).is_err());
}

#[test]
fn an_incomplete_record_cannot_be_submitted() {
    let mut doc = draft();
    let err = edit(&mut doc, r#"{"op":"submit","today":"2026-11-21"}"#).expect_err("problems");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        Visit::read(&doc).expect("read").status,
        Some(VisitStatus::Draft)
    );
}

#[test]
fn an_incomplete_action_is_refused_and_a_complete_one_added_then_edited_and_removed() {
    let mut doc = draft();
    let err = edit(
        &mut doc,
        r#"{"op":"addAction","description":"","ownerType":"","ownerName":"","dueDate":""}"#,
    )
    .expect_err("an empty action");
    assert!(err.to_string().contains("Enter what will be done"), "{err}");
    assert!(Visit::read(&doc).expect("read").actions.is_empty());
    let index = edit(
        &mut doc,
        r#"{"op":"addAction","description":"Book the dentist","ownerType":"carer","ownerName":"Sam","dueDate":"2026-12-01"}"#,
    )
    .expect("a complete action")
    .expect("its index");
    edit(
        &mut doc,
        &format!(r#"{{"op":"actionOwnerType","index":{index},"value":"worker"}}"#),
    )
    .expect("owner");
    edit(
        &mut doc,
        &format!(r#"{{"op":"actionDueDate","index":{index},"value":"2026-12-0"}}"#),
    )
    .expect("a due date as typed");
    edit(
        &mut doc,
        &format!(r#"{{"op":"actionStatus","index":{index},"value":"done"}}"#),
    )
    .expect("status");
    let action = Visit::read(&doc).expect("read").actions.remove(0);
    assert_eq!(action.owner_type, Some(ActionOwnerType::Worker));
    assert_eq!(action.due_date.as_deref(), Some("2026-12-0"));
    assert_eq!(action.status, Some(ActionStatus::Done));
    let moved = edit(
        &mut doc,
        r#"{"op":"remove","list":"actions","index":0,"id":"another-id"}"#,
    );
    assert!(moved.is_err(), "the id must match the entry");
    edit(
        &mut doc,
        r#"{"op":"remove","list":"actions","index":0,"id":"id-1"}"#,
    )
    .expect("remove");
    assert!(Visit::read(&doc).expect("read").actions.is_empty());
    assert_eq!(model::removals(&doc).expect("log").len(), 1);
}

#[test]
fn each_change_names_its_author_and_device() {
    let mut doc = draft();
    edit(
        &mut doc,
        r#"{"op":"choice","field":"childSeen","value":"yes"}"#,
    )
    .expect("choice");
    let change = doc.get_last_local_change().expect("a change");
    assert_eq!(
        change.message().and_then(ChangeAuthor::parse),
        Some(ChangeAuthor {
            worker_id: "sw".into(),
            device: "device-1".into(),
        })
    );
}

#[test]
fn a_draft_is_discarded_only_with_a_reason() {
    let mut doc = draft();
    assert!(edit(&mut doc, r#"{"op":"discard","reason":" "}"#).is_err());
    edit(&mut doc, r#"{"op":"discard","reason":"Wrong child"}"#).expect("discard");
    let visit = Visit::read(&doc).expect("read");
    assert_eq!(
        visit.discarded.map(|d| d.reason),
        Some("Wrong child".into())
    );
}
