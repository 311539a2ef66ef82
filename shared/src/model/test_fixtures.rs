//! What the model's tests share: a draft and a complete visit, a submitted and a
//! signed-off one, transactions that commit only on success, and values of any shape a
//! peer could put under a key.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, AutoCommit, Automerge, ChangeHash, ObjId, ObjType, ScalarValue};
use proptest::prelude::*;

use super::*;
use crate::sync::Timestamp;

pub(super) const TODAY: &str = "2024-03-10";

pub(super) fn date(text: &str) -> CalendarDate {
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

pub(super) fn complete_visit() -> Visit {
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

pub(super) fn fields_and_messages(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems
        .iter()
        .map(|problem| (problem.field.as_str(), problem.message.as_str()))
        .collect()
}

pub(super) const MANAGER_TIME_MS: u64 = 1_709_400_000_000;

/// Runs `change` in one transaction committed at `time_s`, only if it succeeds.
pub(super) fn edit_at<T>(
    doc: &mut Automerge,
    time_s: i64,
    change: impl FnOnce(&mut Transaction<'_>) -> Result<T, ModelError>,
) -> Result<T, ModelError> {
    let mut tx = doc.transaction();
    let result = change(&mut tx);
    if result.is_ok() {
        tx.commit_with(CommitOptions::default().with_time(time_s));
    } else {
        tx.rollback();
    }
    result
}

/// A complete visit, submitted.
pub(super) fn submitted_doc() -> Automerge {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| complete(tx)).expect("a draft can be completed");
    edit(&mut doc, |tx| {
        submit_visit(tx, Timestamp::from_millis(1_709_300_000_000))
    })
    .expect("a complete visit can be submitted");
    doc
}

pub(super) fn decision(
    entry_id: &str,
    decision: OversightDecision,
    heads: Vec<ChangeHash>,
) -> OversightEntry {
    OversightEntry {
        entry_id: entry_id.into(),
        decision,
        comment: match decision {
            OversightDecision::SignedOff => "Good analysis; actions proportionate".into(),
            OversightDecision::Returned => "Say why the bedroom was not seen".into(),
        },
        manager_id: "m.jones".into(),
        manager_name: "Morgan Jones".into(),
        heads,
        at: Timestamp::from_millis(MANAGER_TIME_MS),
    }
}

pub(super) fn sign_off(doc: &mut Automerge, entry_id: &str) -> OversightEntry {
    let entry = decision(entry_id, OversightDecision::SignedOff, doc.get_heads());
    record_oversight(doc, &entry, 1_709_400_000).expect("a submitted visit can be signed off");
    entry
}

pub(super) fn with_actor(doc: &Automerge, actor: &[u8]) -> Automerge {
    doc.fork().with_actor(ActorId::from(actor))
}

/// Puts a string the way automerge JS 3.x does: as a text object.
pub(super) fn put_js_string(doc: &mut AutoCommit, map: &ObjId, key: &str, value: &str) {
    let text = doc.put_object(map, key, ObjType::Text).expect("put text");
    doc.splice_text(&text, 0, 0, value).expect("splice text");
}

/// A value of any shape a peer could put under a key, by a client that got it wrong.
#[derive(Debug, Clone)]
pub(super) enum AnyValue {
    Scalar(ScalarValue),
    Text(String),
    List(Vec<ScalarValue>),
    Map,
}

fn any_scalar() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        "\\PC{0,12}".prop_map(|text| ScalarValue::Str(text.into())),
        "[0-9a-f]{64}".prop_map(|hex| ScalarValue::Str(hex.into())),
        Just(ScalarValue::Str("visit".into())),
        Just(ScalarValue::Str("signedOff".into())),
        Just(ScalarValue::Str("returned".into())),
        any::<i64>().prop_map(ScalarValue::Int),
        any::<u64>().prop_map(ScalarValue::Uint),
        any::<f64>().prop_map(ScalarValue::F64),
        any::<bool>().prop_map(ScalarValue::Boolean),
        Just(ScalarValue::Null),
    ]
}

/// Any [`AnyValue`].
pub(super) fn any_value() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        any_scalar().prop_map(AnyValue::Scalar),
        "\\PC{0,12}".prop_map(AnyValue::Text),
        proptest::collection::vec(any_scalar(), 0..3).prop_map(AnyValue::List),
        Just(AnyValue::Map),
    ]
}

/// Puts `value` at `map[key]`, text as automerge JS writes it.
pub(super) fn put_any(
    tx: &mut impl Transactable,
    map: &ObjId,
    key: &str,
    value: AnyValue,
) -> Result<(), ModelError> {
    match value {
        AnyValue::Scalar(scalar) => tx.put(map, key, scalar)?,
        AnyValue::Text(text) => {
            let id = tx.put_object(map, key, ObjType::Text)?;
            tx.splice_text(&id, 0, 0, &text)?;
        }
        AnyValue::List(items) => {
            let list = tx.put_object(map, key, ObjType::List)?;
            for (index, item) in items.into_iter().enumerate() {
                tx.insert(&list, index, item)?;
            }
        }
        AnyValue::Map => drop(tx.put_object(map, key, ObjType::Map)?),
    }
    Ok(())
}
