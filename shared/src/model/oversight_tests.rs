//! Tests for management oversight, amendments, earlier versions, the
//! plain-words sections of a visit and who changed each section.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, ChangeHash, ObjId, ObjType, ROOT, ScalarValue, Value};
use proptest::prelude::*;

use super::tests::{complete, draft_doc, edit};
use super::*;
use crate::sync::Timestamp;

const MANAGER_TIME_MS: u64 = 1_709_400_000_000;

/// Runs `change` in one transaction committed at `time_s`, only if it succeeds.
fn edit_at<T>(
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
fn submitted_doc() -> Automerge {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| complete(tx)).expect("a draft can be completed");
    edit(&mut doc, |tx| {
        submit_visit(tx, Timestamp::from_millis(1_709_300_000_000))
    })
    .expect("a complete visit can be submitted");
    doc
}

fn decision(entry_id: &str, decision: OversightDecision, heads: Vec<ChangeHash>) -> OversightEntry {
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

fn sign_off(doc: &mut Automerge, entry_id: &str) -> OversightEntry {
    let entry = decision(entry_id, OversightDecision::SignedOff, doc.get_heads());
    record_oversight(doc, &entry, 1_709_400_000).expect("a submitted visit can be signed off");
    entry
}

fn with_actor(doc: &Automerge, actor: &[u8]) -> Automerge {
    doc.fork().with_actor(ActorId::from(actor))
}

#[test]
fn submitting_records_the_time() -> Result<(), ModelError> {
    let doc = submitted_doc();
    let visit = Visit::read(&doc)?;
    assert_eq!(visit.status, Some(VisitStatus::Submitted));
    assert_eq!(
        visit.submitted_at,
        Some(Timestamp::from_millis(1_709_300_000_000))
    );
    assert_eq!(review(&doc)?.state, ReviewState::Submitted);
    assert_eq!(review(&draft_doc())?.state, ReviewState::Draft);
    Ok(())
}

#[test]
fn signed_off_record_without_changes_stays_signed_off() -> Result<(), ModelError> {
    let mut doc = submitted_doc();
    let entry = sign_off(&mut doc, "oversight-1");

    let review = review(&doc)?;
    assert_eq!(review.state, ReviewState::SignedOff);
    assert_eq!(review.state.as_str(), "signedOff");
    assert_eq!(review.latest_decision.as_ref(), Some(&entry));
    assert_eq!(review.signed.as_ref(), Some(&entry));
    assert!(review.differences.is_empty());
    assert!(review.amendments.is_empty());
    assert_eq!(oversight_entries(&doc)?, vec![entry]);
    // Signing off leaves the status as it was.
    assert_eq!(Visit::read(&doc)?.status, Some(VisitStatus::Submitted));
    assert!(amendment_required(&doc)?);
    Ok(())
}

#[test]
fn amendment_after_sign_off_shows_the_exact_difference() -> Result<(), ModelError> {
    let mut doc = submitted_doc();
    let signed = Visit::read(&doc)?;
    let entry = sign_off(&mut doc, "oversight-1");
    let before_amendment = doc.get_heads();

    record_amendment(
        &mut doc,
        "Carer told me about a second bruise after the visit",
        "0f9e8d7c-worker",
        "amendment-1",
        Timestamp::from_millis(1_709_500_000_000),
    )?;
    // Recording the reason alone changes nothing the manager signed.
    assert_eq!(review(&doc)?.state, ReviewState::SignedOff);
    assert!(!amendment_required(&doc)?);
    edit(&mut doc, |tx| {
        update_text(
            tx,
            TextField::Observations,
            "Relaxed and chatty with carer; small bruise on left arm",
        )
    })?;

    let review = review(&doc)?;
    assert_eq!(review.state, ReviewState::AmendedAfterSignOff);
    assert_eq!(review.signed.as_ref(), Some(&entry));
    assert_eq!(
        review.differences,
        vec![SectionDifference {
            field: "observations",
            label: "What the worker saw",
            signed: "Relaxed and chatty with carer".into(),
            current: "Relaxed and chatty with carer; small bruise on left arm".into(),
        }]
    );
    assert_eq!(
        review.amendments,
        vec![Amendment {
            entry_id: "amendment-1".into(),
            reason: "Carer told me about a second bruise after the visit".into(),
            worker_id: "0f9e8d7c-worker".into(),
            at: Timestamp::from_millis(1_709_500_000_000),
            heads: before_amendment,
        }]
    );
    // The signed version is still there to read.
    assert_eq!(visit_at(&doc, &entry.heads)?, signed);
    Ok(())
}

#[test]
fn amendment_and_edit_in_one_transaction() -> Result<(), ModelError> {
    let mut doc = submitted_doc();
    sign_off(&mut doc, "oversight-1");
    let before = doc.get_heads();
    edit(&mut doc, |tx| {
        add_amendment(
            tx,
            "Wrong due date",
            "0f9e8d7c-worker",
            "amendment-1",
            Timestamp::from_millis(1_709_500_000_000),
        )?;
        set_action_due_date(
            tx,
            0,
            CalendarDate::parse("2024-04-08").expect("a real date"),
        )
    })?;
    let review = review(&doc)?;
    assert_eq!(review.state, ReviewState::AmendedAfterSignOff);
    assert_eq!(review.amendments.len(), 1);
    assert_eq!(review.amendments[0].heads, before);
    assert_eq!(
        review
            .differences
            .iter()
            .map(|difference| (difference.field, difference.current.as_str()))
            .collect::<Vec<_>>(),
        vec![(
            "actions",
            "Book dentist; by Sam Carer (carer); due 8 April 2024; still to do"
        )]
    );
    Ok(())
}

#[test]
fn empty_amendment_reason_is_refused() -> Result<(), ModelError> {
    let mut doc = submitted_doc();
    sign_off(&mut doc, "oversight-1");
    let heads = doc.get_heads();
    for reason in ["", "   \n"] {
        let refused = record_amendment(
            &mut doc,
            reason,
            "0f9e8d7c-worker",
            "amendment-1",
            Timestamp::from_millis(1_709_500_000_000),
        );
        assert!(matches!(refused, Err(ModelError::EmptyAmendmentReason)));
        assert_eq!(
            refused.map_err(|err| err.to_string()),
            Err("an amendment needs a reason".to_owned())
        );
    }
    assert_eq!(doc.get_heads(), heads);
    assert!(amendments(&doc)?.is_empty());
    Ok(())
}

#[test]
fn returned_record_is_resubmitted_once_changed_and_submitted() -> Result<(), ModelError> {
    let mut doc = submitted_doc();
    let returned = decision("oversight-1", OversightDecision::Returned, doc.get_heads());
    record_oversight(&mut doc, &returned, 1_709_400_000)?;
    assert_eq!(Visit::read(&doc)?.status, Some(VisitStatus::Draft));
    let review_now = review(&doc)?;
    assert_eq!(review_now.state, ReviewState::Returned);
    assert_eq!(review_now.latest_decision, Some(returned));
    assert_eq!(review_now.signed, None);
    assert!(!amendment_required(&doc)?);

    // Submitting again without changing anything is still the returned record.
    let mut unchanged = doc.fork();
    edit(&mut unchanged, |tx| {
        submit_visit(tx, Timestamp::from_millis(1_709_600_000_000))
    })?;
    assert_eq!(review(&unchanged)?.state, ReviewState::Returned);

    edit(&mut doc, |tx| {
        update_text(
            tx,
            TextField::BedroomDetail,
            "Tidy, new posters; the child showed me their drawings",
        )
    })?;
    assert_eq!(review(&doc)?.state, ReviewState::Returned);
    edit(&mut doc, |tx| {
        submit_visit(tx, Timestamp::from_millis(1_709_600_000_000))
    })?;
    let review_now = review(&doc)?;
    assert_eq!(review_now.state, ReviewState::Resubmitted);
    assert_eq!(review_now.state.as_str(), "resubmitted");
    assert!(review_now.differences.is_empty(), "never signed off");
    assert_eq!(
        Visit::read(&doc)?.submitted_at,
        Some(Timestamp::from_millis(1_709_600_000_000))
    );

    // Signing the resubmitted version off settles it.
    let entry = decision("oversight-2", OversightDecision::SignedOff, doc.get_heads());
    let entry = OversightEntry {
        at: Timestamp::from_millis(MANAGER_TIME_MS + 1),
        ..entry
    };
    record_oversight(&mut doc, &entry, 1_709_400_001)?;
    assert_eq!(review(&doc)?.state, ReviewState::SignedOff);
    assert_eq!(oversight_entries(&doc)?.len(), 2);
    Ok(())
}

#[test]
fn offline_edit_concurrent_with_sign_off_is_an_amendment() -> Result<(), ModelError> {
    let mut server = submitted_doc();
    let mut device = with_actor(&server, b"device-two");
    edit(&mut device, |tx| {
        update_text(tx, TextField::Analysis, "Placement meeting needs well")
    })?;
    sign_off(&mut server, "oversight-1");
    assert_eq!(review(&server)?.state, ReviewState::SignedOff);

    server.merge(&mut device)?;
    device.merge(&mut server)?;
    for doc in [&server, &device] {
        let review = review(doc)?;
        assert_eq!(review.state, ReviewState::AmendedAfterSignOff);
        assert_eq!(
            review.differences,
            vec![SectionDifference {
                field: "analysis",
                label: "The worker's analysis",
                signed: "Placement meeting needs".into(),
                current: "Placement meeting needs well".into(),
            }]
        );
    }
    // No amendment covers the sign-off yet, so the next edit needs a reason.
    assert!(amendment_required(&device)?);
    Ok(())
}

#[test]
fn unknown_heads_are_a_typed_error() {
    let mut doc = submitted_doc();
    let mut stranger = with_actor(&submitted_doc(), b"stranger");
    edit(&mut stranger, |tx| {
        update_text(tx, TextField::Purpose, "Another record entirely")
    })
    .expect("an edit");
    let unknown = stranger.get_heads();

    assert!(matches!(
        visit_at(&doc, &unknown),
        Err(ModelError::UnknownHeads { heads }) if heads == unknown
    ));
    assert!(matches!(
        visit_at(&doc, &[]),
        Err(ModelError::UnknownHeads { .. })
    ));
    let message = visit_at(&doc, &unknown)
        .map(|_| ())
        .map_err(|err| err.to_string());
    assert_eq!(
        message,
        Err(format!(
            "this record has no version at heads [{}]",
            unknown[0]
        ))
    );
    let entry = decision("oversight-1", OversightDecision::SignedOff, unknown);
    let heads = doc.get_heads();
    assert!(matches!(
        record_oversight(&mut doc, &entry, 1_709_400_000),
        Err(ModelError::UnknownHeads { .. })
    ));
    assert_eq!(doc.get_heads(), heads);
}

#[test]
fn decisions_need_a_submitted_version_and_unique_ids() -> Result<(), ModelError> {
    let mut draft = draft_doc();
    let entry = decision(
        "oversight-1",
        OversightDecision::SignedOff,
        draft.get_heads(),
    );
    assert!(matches!(
        record_oversight(&mut draft, &entry, 1_709_400_000),
        Err(ModelError::NotSubmitted)
    ));

    let mut doc = submitted_doc();
    let entry = sign_off(&mut doc, "oversight-1");
    let heads = doc.get_heads();
    // A retry of the same decision changes nothing.
    record_oversight(&mut doc, &entry, 1_709_400_000)?;
    assert_eq!(doc.get_heads(), heads);
    let other = decision(
        "oversight-1",
        OversightDecision::Returned,
        entry.heads.clone(),
    );
    assert!(matches!(
        record_oversight(&mut doc, &other, 1_709_400_000),
        Err(ModelError::DuplicateEntry {
            field: "oversight",
            ..
        })
    ));
    record_amendment(
        &mut doc,
        "Typo",
        "0f9e8d7c-worker",
        "amendment-1",
        Timestamp::from_millis(1),
    )?;
    assert!(matches!(
        record_amendment(
            &mut doc,
            "Typo",
            "0f9e8d7c-worker",
            "amendment-1",
            Timestamp::from_millis(2)
        ),
        Err(ModelError::DuplicateEntry {
            field: "amendments",
            ..
        })
    ));

    let mut child = Automerge::new();
    edit(&mut child, |tx| {
        tx.put(automerge::ROOT, "type", "child")?;
        Ok(tx.put(automerge::ROOT, "schemaVersion", 1)?)
    })?;
    assert!(matches!(
        record_amendment(&mut child, "Typo", "w", "a", Timestamp::from_millis(1)),
        Err(ModelError::WrongDocumentType { .. })
    ));
    assert!(matches!(
        oversight_entries(&child),
        Err(ModelError::WrongDocumentType { .. })
    ));
    Ok(())
}

#[test]
fn entries_from_both_sides_survive_a_merge() -> Result<(), ModelError> {
    let mut server = submitted_doc();
    sign_off(&mut server, "oversight-1");
    let mut phone = with_actor(&server, b"phone");
    let mut tablet = with_actor(&server, b"tablet");
    // Both devices create the `amendments` list, and the server decides
    // again, all while apart.
    record_amendment(
        &mut phone,
        "Spelling of the carer's name",
        "0f9e8d7c-worker",
        "amendment-phone",
        Timestamp::from_millis(1_709_500_000_000),
    )?;
    record_amendment(
        &mut tablet,
        "Wrong school named",
        "0f9e8d7c-worker",
        "amendment-tablet",
        Timestamp::from_millis(1_709_500_000_001),
    )?;
    let mut second = decision(
        "oversight-2",
        OversightDecision::SignedOff,
        server.get_heads(),
    );
    second.at = Timestamp::from_millis(MANAGER_TIME_MS + 5);
    second.comment = "Checked again".into();
    record_oversight(&mut server, &second, 1_709_400_005)?;

    server.merge(&mut phone)?;
    server.merge(&mut tablet)?;
    tablet.merge(&mut server)?;
    for doc in [&server, &tablet] {
        let ids: Vec<String> = amendments(doc)?
            .into_iter()
            .map(|amendment| amendment.entry_id)
            .collect();
        assert_eq!(ids, ["amendment-phone", "amendment-tablet"]);
        let ids: Vec<String> = oversight_entries(doc)?
            .into_iter()
            .map(|entry| entry.entry_id)
            .collect();
        assert_eq!(ids, ["oversight-1", "oversight-2"]);
        assert_eq!(review(doc)?.state, ReviewState::SignedOff);
    }
    Ok(())
}

#[test]
fn sections_read_in_plain_words() -> Result<(), ModelError> {
    let doc = submitted_doc();
    let visit = Visit::read(&doc)?;
    let sections = visit_sections(&visit);
    let value = |field: &str| {
        sections
            .iter()
            .find(|section| section.field == field)
            .map(|section| (section.label, section.value.as_str()))
    };
    // 24 since issue 15 added who made the visit (`madeBy`).
    assert_eq!(sections.len(), 24);
    assert_eq!(sections[0].field, "visitDate");
    assert_eq!(
        value("visitDate"),
        Some(("Date of the visit", "1 March 2024"))
    );
    assert_eq!(
        value("purpose").map(|(label, _)| label),
        Some("Purpose of the visit")
    );
    assert_eq!(value("seenAlone"), Some(("Seen alone", "Yes")));
    assert_eq!(value("announced").map(|(_, value)| value), Some("No"));
    assert_eq!(
        value("notAloneReason").map(|(_, value)| value),
        Some("Not answered")
    );
    assert_eq!(
        value("personsPresent").map(|(_, value)| value),
        Some("Sam Carer (foster carer)")
    );
    assert_eq!(
        value("voice"),
        Some((
            "The child's words",
            "\u{201c}I like it here\u{201d}\nParaphrase: Feels settled\nTopics: Home, Feelings\n\
             Scale (How happy are you here?): 8 out of 10\nRead back to the child: Yes"
        ))
    );
    assert_eq!(
        value("createdAt").map(|(_, value)| value),
        Some("1 March 2024 at 10:46 UTC")
    );
    assert_eq!(value("status").map(|(_, value)| value), Some("Submitted"));
    // Every field of the visit has its section, each once.
    let mut fields: Vec<&str> = sections.iter().map(|section| section.field).collect();
    fields.sort_unstable();
    fields.dedup();
    assert_eq!(fields.len(), 24);

    // Status and submission time alone are not differences.
    let mut resubmitted = visit.clone();
    resubmitted.status = Some(VisitStatus::Draft);
    resubmitted.submitted_at = None;
    assert!(differences(&visit, &resubmitted).is_empty());
    let mut rescored = visit.clone();
    rescored.voice[0].scale = Some(3);
    assert_eq!(
        differences(&visit, &rescored)
            .iter()
            .map(|difference| difference.field)
            .collect::<Vec<_>>(),
        ["voice"]
    );
    Ok(())
}

#[test]
fn provenance_names_the_last_actor_and_time_of_each_section() -> Result<(), ModelError> {
    let mut doc = Automerge::new().with_actor(ActorId::from(b"worker-phone"));
    edit_at(&mut doc, 1_000, |tx| {
        create_visit(tx, &super::tests::new_visit())
    })?;
    edit_at(&mut doc, 1_100, |tx| complete(tx))?;
    let mut colleague = with_actor(&doc, b"colleague-laptop");
    edit_at(&mut colleague, 2_000, |tx| {
        update_text(tx, TextField::Observations, "Relaxed; showed me the garden")?;
        append_child_words(tx, 0, " and my dog")
    })?;
    doc.merge(&mut colleague)?;
    edit_at(&mut doc, 3_000, |tx| set_seen_alone(tx, false))?;

    let provenance = section_provenance(&doc);
    let of = |field: &str| {
        provenance
            .iter()
            .find(|entry| entry.field == field)
            .map(|entry| (entry.actor.clone(), entry.device_time_s))
    };
    let colleague_actor = ActorId::from(b"colleague-laptop");
    let worker_actor = ActorId::from(b"worker-phone");
    assert_eq!(of("observations"), Some((colleague_actor.clone(), 2_000)));
    assert_eq!(of("voice"), Some((colleague_actor, 2_000)));
    assert_eq!(of("purpose"), Some((worker_actor.clone(), 1_100)));
    assert_eq!(of("seenAlone"), Some((worker_actor.clone(), 3_000)));
    assert_eq!(of("visitId"), Some((worker_actor, 1_000)));
    assert_eq!(of("submittedAt"), None);
    let observations = provenance
        .iter()
        .find(|entry| entry.field == "observations")
        .map(|entry| entry.change);
    assert_eq!(observations, colleague.get_heads().first().copied());

    // Provenance comes in reading order and never names a non-section key.
    let order: Vec<&str> = provenance.iter().map(|entry| entry.field).collect();
    let reading: Vec<&str> = visit_sections(&Visit::read(&doc)?)
        .into_iter()
        .map(|section| section.field)
        .filter(|field| order.contains(field))
        .collect();
    assert_eq!(order, reading);
    assert!(section_provenance(&Automerge::new()).is_empty());
    Ok(())
}

#[test]
fn each_change_belongs_to_the_first_batch_whose_heads_reach_it() -> Result<(), ModelError> {
    let mut doc = Automerge::new().with_actor(ActorId::from(b"worker-phone"));
    edit_at(&mut doc, 1_000, |tx| {
        create_visit(tx, &super::tests::new_visit())
    })?;
    edit_at(&mut doc, 1_050, |tx| set_seen_alone(tx, true))?;
    let first = doc.get_heads();
    let first_changes: Vec<ChangeHash> = doc
        .get_changes(&[])
        .iter()
        .map(|change| change.hash())
        .collect();
    // A second device edits concurrently; the server receives both, then their merge.
    let mut tablet = doc.fork().with_actor(ActorId::from(b"worker-tablet"));
    edit_at(&mut doc, 1_100, |tx| complete(tx))?;
    let second = doc.get_heads();
    edit_at(&mut tablet, 1_150, |tx| set_seen_alone(tx, false))?;
    let tablet_change = tablet.get_heads()[0];
    doc.merge(&mut tablet).map_err(ModelError::from)?;
    let third = doc.get_heads();
    let stranger = vec![ChangeHash([7; 32])];
    let batches = [stranger, first, second.clone(), third];
    let batch_of = batch_of_each_change(&doc, &batches);
    assert_eq!(batch_of.len(), 4);
    for change in &first_changes {
        assert_eq!(batch_of.get(change), Some(&1));
    }
    assert_eq!(batch_of.get(&second[0]), Some(&2));
    assert_eq!(batch_of.get(&tablet_change), Some(&3));
    // Without batches nothing is known; with only the last, everything is in it.
    assert!(batch_of_each_change(&doc, &[]).is_empty());
    let all = batch_of_each_change(&doc, &[doc.get_heads()]);
    assert_eq!(all.len(), 4);
    assert!(all.values().all(|batch| *batch == 0));
    Ok(())
}

#[test]
fn reading_at_heads_follows_the_history() -> Result<(), ModelError> {
    let mut doc = draft_doc();
    let draft_heads = doc.get_heads();
    edit(&mut doc, |tx| complete(tx))?;
    assert_eq!(visit_at(&doc, &draft_heads)?, Visit::read(&draft_doc())?);
    assert_eq!(visit_at(&doc, &doc.get_heads())?, Visit::read(&doc)?);
    assert_ne!(doc.get_heads(), draft_heads);
    Ok(())
}

#[test]
fn a_long_history_is_read_whole() -> Result<(), ModelError> {
    // A record typed keystroke by keystroke: one change per character.
    let mut doc = submitted_doc();
    let entry = sign_off(&mut doc, "oversight-1");
    record_amendment(
        &mut doc,
        "More detail",
        "0f9e8d7c-worker",
        "amendment-1",
        Timestamp::from_millis(1_709_500_000_000),
    )?;
    let mut typed = String::from("Placement meeting needs");
    for (second, letter) in (10_000..).zip(" and school is going well".chars().cycle().take(400)) {
        typed.push(letter);
        edit_at(&mut doc, second, |tx| {
            update_text(tx, TextField::Analysis, &typed)
        })?;
    }
    let review = review(&doc)?;
    assert_eq!(review.state, ReviewState::AmendedAfterSignOff);
    assert_eq!(review.signed, Some(entry));
    assert_eq!(review.differences.len(), 1);
    assert_eq!(review.differences[0].current, typed);
    let analysis = section_provenance(&doc)
        .into_iter()
        .find(|provenance| provenance.field == "analysis")
        .map(|provenance| provenance.device_time_s);
    assert_eq!(analysis, Some(10_399));
    assert_eq!(
        batch_of_each_change(&doc, &[doc.get_heads()]).len(),
        doc.get_changes(&[]).len()
    );
    Ok(())
}

/// Something written where an entry's value belongs, by a client that got it wrong.
#[derive(Debug, Clone)]
enum AnyValue {
    Scalar(ScalarValue),
    Text(String),
    List(Vec<ScalarValue>),
    Map,
}

fn any_scalar() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        "\\PC{0,8}".prop_map(|text| ScalarValue::Str(text.into())),
        "[0-9a-f]{64}".prop_map(|hex| ScalarValue::Str(hex.into())),
        Just(ScalarValue::Str("signedOff".into())),
        Just(ScalarValue::Str("returned".into())),
        any::<i64>().prop_map(ScalarValue::Int),
        any::<f64>().prop_map(ScalarValue::F64),
        any::<bool>().prop_map(ScalarValue::Boolean),
        Just(ScalarValue::Null),
    ]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        any_scalar().prop_map(AnyValue::Scalar),
        "\\PC{0,8}".prop_map(AnyValue::Text),
        proptest::collection::vec(any_scalar(), 0..3).prop_map(AnyValue::List),
        Just(AnyValue::Map),
    ]
}

fn put_any(
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

/// The map at `list[0]` of the root, if there is one.
fn first_entry(tx: &impl Transactable, list: &str) -> Option<ObjId> {
    match tx.get(ROOT, list).ok()?? {
        (Value::Object(ObjType::List), list) => match tx.get(&list, 0).ok()?? {
            (Value::Object(ObjType::Map), entry) => Some(entry),
            _ => None,
        },
        _ => None,
    }
}

proptest! {
    // Automerge is slow in debug builds; a few dozen documents keep this test quick.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn oversight_reading_never_panics(
        changes in proptest::collection::vec((0usize..3, 0usize..6, any_value()), 1..8),
    ) {
        let mut doc = submitted_doc();
        sign_off(&mut doc, "oversight-1");
        record_amendment(&mut doc, "Why", "w", "amendment-1", Timestamp::from_millis(5))
            .expect("an amendment");
        const ROOT_KEYS: [&str; 6] =
            ["oversight", "amendments", "submittedAt", "observations", "voice", "status"];
        const ENTRY_KEYS: [&str; 6] = ["entryId", "decision", "heads", "at", "reason", "managerId"];
        for (target, key, value) in changes {
            edit(&mut doc, |tx| {
                let map = match target {
                    0 => Some(ROOT),
                    1 => first_entry(tx, "oversight"),
                    _ => first_entry(tx, "amendments"),
                };
                let key = if target == 0 { ROOT_KEYS[key] } else { ENTRY_KEYS[key] };
                match map {
                    Some(map) => put_any(tx, &map, key, value),
                    None => Ok(()),
                }
            })
            .expect("a put");
        }
        let _ = oversight_entries(&doc);
        let _ = amendments(&doc);
        let _ = review(&doc);
        let _ = amendment_required(&doc);
        let _ = section_provenance(&doc);
        let _ = batch_of_each_change(&doc, &[doc.get_heads()]);
        if let Ok(visit) = Visit::read(&doc) {
            let _ = visit_sections(&visit);
        }
    }
}
