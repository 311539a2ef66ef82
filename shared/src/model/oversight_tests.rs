//! Tests for management oversight: sign-offs, returns, amendments, and a record whose
//! entries come from both sides of a merge or from a client that got them wrong.
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, Value};
use proptest::prelude::*;

use super::test_fixtures::*;
use super::*;
use crate::sync::Timestamp;

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
