//! Tests of [`super::integrity`]: what a peer may create and change, field by field.

use std::collections::HashSet;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT, ReadDoc};

use super::correction::{CorrectionNote, move_visit};
use super::integrity::{IntegrityViolation, check_new_visit, check_peer_change};
use super::{
    CalendarDate, NewVisit, OversightDecision, OversightEntry, TextField, append_text,
    create_visit, record_amendment, record_oversight, submit_visit,
};
use crate::sync::Timestamp;

fn visit() -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    create_visit(
        &mut tx,
        &NewVisit {
            visit_id: "visit-1".into(),
            child_id: "C-N1".into(),
            worker_id: "sw-north-1".into(),
            visit_date: CalendarDate::parse("2026-11-20").expect("date"),
            created_at: Timestamp::from_millis(1_795_000_000_000),
        },
    )
    .expect("visit");
    append_text(&mut tx, TextField::Observations, "A tidy room.").expect("text");
    tx.commit();
    doc
}

fn allowed() -> HashSet<String> {
    ["C-N1".to_owned()].into()
}

fn signed_off(mut doc: Automerge) -> Automerge {
    let mut tx = doc.transaction();
    submit_visit(&mut tx, Timestamp::from_millis(1_795_000_100_000)).expect("submit");
    tx.commit();
    let entry = OversightEntry {
        entry_id: "entry-1".into(),
        decision: OversightDecision::SignedOff,
        comment: "Good analysis".into(),
        manager_id: "mgr-north".into(),
        manager_name: "Manager".into(),
        heads: doc.get_heads(),
        at: Timestamp::from_millis(1_795_000_200_000),
    };
    record_oversight(&mut doc, &entry, 1_795_000_200).expect("sign off");
    doc
}

/// `before` with a peer's edit applied to a copy (another actor, as a peer's would be).
fn edited(
    before: &Automerge,
    edit: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) -> Automerge {
    let mut after = before
        .fork()
        .with_actor(automerge::ActorId::from([9u8; 16]));
    let mut tx = after.transaction();
    edit(&mut tx);
    tx.commit();
    after
}

#[test]
fn a_new_visit_for_an_allocated_child_by_its_author_is_accepted() {
    assert_eq!(
        check_new_visit(&visit(), Some("sw-north-1"), &allowed()),
        Ok("C-N1".to_owned())
    );
}

#[test]
fn a_new_visit_is_refused_for_another_child_author_or_with_oversight() {
    let doc = visit();
    assert_eq!(
        check_new_visit(&doc, Some("sw-north-1"), &["C-S1".to_owned()].into()),
        Err(IntegrityViolation::ChildNotAllocated {
            child_id: "C-N1".into()
        })
    );
    assert_eq!(
        check_new_visit(&doc, Some("sw-north-2"), &allowed()),
        Err(IntegrityViolation::WrongAuthor {
            found: "sw-north-1".into()
        })
    );
    let forged = signed_off(visit());
    assert_eq!(
        check_new_visit(&forged, Some("sw-north-1"), &allowed()),
        Err(IntegrityViolation::PrefilledField("oversight decisions"))
    );
    let mut not_a_visit = Automerge::new();
    let mut tx = not_a_visit.transaction();
    tx.put(ROOT, "type", "child").expect("put");
    tx.commit();
    assert_eq!(
        check_new_visit(&not_a_visit, Some("sw-north-1"), &allowed()),
        Err(IntegrityViolation::NotAVisit)
    );
}

#[test]
fn a_new_visit_with_a_conflicting_child_is_refused() {
    // Two actors set childId concurrently, each to a child the author holds.
    let base = visit();
    let mut a = base.fork().with_actor(automerge::ActorId::from([1u8; 16]));
    let mut b = base.fork().with_actor(automerge::ActorId::from([2u8; 16]));
    let mut tx = a.transaction();
    tx.put(ROOT, "childId", "C-S1").expect("put");
    tx.commit();
    let mut tx = b.transaction();
    tx.put(ROOT, "childId", "C-N2").expect("put");
    tx.commit();
    a.merge(&mut b).expect("merge");
    assert_eq!(
        check_new_visit(
            &a,
            Some("sw-north-1"),
            &["C-N2".to_owned(), "C-S1".to_owned()].into()
        ),
        Err(IntegrityViolation::BadField("childId"))
    );
}

#[test]
fn a_worker_may_change_everything_but_placing_and_server_fields() {
    let before = visit();
    let ordinary = edited(&before, |tx| {
        let text = tx.get(ROOT, "observations").expect("get").expect("text").1;
        tx.splice_text(&text, 0, 0, "Seen in the kitchen. ")
            .expect("splice");
        tx.put(ROOT, "seenAlone", true).expect("put");
        tx.put(ROOT, "status", "submitted").expect("put");
        let actions = tx.get(ROOT, "actions").expect("get").expect("list").1;
        tx.insert_object(&actions, 0, ObjType::Map).expect("action");
    });
    assert_eq!(check_peer_change(&before, &ordinary), Ok(()));
    // Writing the same value again changes nothing a reader sees.
    let same = edited(&before, |tx| {
        tx.put(ROOT, "childId", "C-N1").expect("put");
    });
    assert_eq!(check_peer_change(&before, &same), Ok(()));

    for key in ["childId", "workerId", "visitId", "type"] {
        let moved = edited(&before, |tx| {
            tx.put(ROOT, key, "someone-else").expect("put");
        });
        assert!(
            matches!(
                check_peer_change(&before, &moved),
                Err(IntegrityViolation::ProtectedField { ref field, .. }) if field == key
            ),
            "{key}"
        );
    }
    let deleted = edited(&before, |tx| tx.delete(ROOT, "createdAt").expect("delete"));
    assert!(check_peer_change(&before, &deleted).is_err());
}

#[test]
fn a_concurrent_conflicting_child_is_a_change_to_the_child() {
    let before = visit();
    // The peer's change is concurrent with the stored one: it conflicts rather than
    // overwrites, and the value readers see may not even change.
    let mut peer = Automerge::new();
    peer.merge(&mut before.clone()).expect("merge");
    let mut tx = peer.transaction();
    tx.put(ROOT, "childId", "C-S1").expect("put");
    tx.commit();
    assert!(check_peer_change(&before, &peer).is_err());
}

#[test]
fn oversight_is_the_servers_and_stored_amendments_never_change() {
    let before = signed_off(visit());
    let forged = edited(&before, |tx| {
        let list = tx.get(ROOT, "oversight").expect("get").expect("list").1;
        tx.insert_object(&list, 1, ObjType::Map).expect("entry");
    });
    assert!(matches!(
        check_peer_change(&before, &forged),
        Err(IntegrityViolation::ProtectedField { ref field, .. }) if field == "oversight"
    ));
    let erased = edited(&before, |tx| {
        let list = tx.get(ROOT, "oversight").expect("get").expect("list").1;
        tx.delete(&list, 0).expect("delete");
    });
    assert!(check_peer_change(&before, &erased).is_err());
    let replaced = edited(&before, |tx| {
        tx.put_object(ROOT, "oversight", ObjType::List)
            .expect("list");
    });
    assert!(check_peer_change(&before, &replaced).is_err());

    // An amendment may be added; once stored it stays as it is.
    let mut amended = before.fork();
    record_amendment(
        &mut amended,
        "A date was wrong",
        "sw-north-1",
        "amendment-1",
        Timestamp::from_millis(1_795_000_300_000),
    )
    .expect("amend");
    assert_eq!(check_peer_change(&before, &amended), Ok(()));
    let rewritten = edited(&amended, |tx| {
        let list = tx.get(ROOT, "amendments").expect("get").expect("list").1;
        let entry = tx.get(&list, 0).expect("get").expect("entry").1;
        tx.put(&entry, "reason", "nothing to see").expect("put");
    });
    assert!(matches!(
        check_peer_change(&amended, &rewritten),
        Err(IntegrityViolation::ProtectedField { ref field, .. }) if field == "amendments"
    ));
    let removed = edited(&amended, |tx| {
        let list = tx.get(ROOT, "amendments").expect("get").expect("list").1;
        tx.delete(&list, 0).expect("delete");
    });
    assert!(check_peer_change(&amended, &removed).is_err());
}

#[test]
fn corrections_are_the_servers() {
    let mut before = visit();
    let mut tx = before.transaction();
    move_visit(
        &mut tx,
        "C-N2",
        &CorrectionNote {
            at: Timestamp::from_millis(1_795_000_300_000),
            by_id: "mgr-north".into(),
            by_name: "Manager".into(),
            reason: "recorded against the wrong child".into(),
        },
    )
    .expect("move");
    tx.commit();
    let forged = edited(&before, |tx| {
        let list = tx.get(ROOT, "corrections").expect("get").expect("list").1;
        let entry = tx.get(&list, 0).expect("get").expect("entry").1;
        tx.put(&entry, "reason", "nothing to see").expect("put");
    });
    assert!(matches!(
        check_peer_change(&before, &forged),
        Err(IntegrityViolation::ProtectedField { ref field, .. }) if field == "corrections"
    ));
    let erased = edited(&before, |tx| {
        tx.delete(ROOT, "corrections").expect("delete");
    });
    assert!(check_peer_change(&before, &erased).is_err());
    let uncorrected = visit();
    let started = edited(&uncorrected, |tx| {
        tx.put_object(ROOT, "corrections", ObjType::List)
            .expect("list");
    });
    assert!(check_peer_change(&uncorrected, &started).is_err());
}

#[test]
fn two_devices_amending_offline_may_each_start_the_list() {
    // Found by the randomised day (seed 16): both devices amended the signed-off record
    // while offline, so each created `amendments`; the second to reach the server was
    // refused and its device reconnected forever.
    let before = signed_off(visit());
    let amend = |doc: &Automerge, actor: &str, entry: &str| {
        let mut device = doc.fork().with_actor(actor.as_bytes().into());
        record_amendment(
            &mut device,
            "A date was wrong",
            "sw-north-1",
            entry,
            Timestamp::from_millis(1_795_000_300_000),
        )
        .expect("amend");
        device
    };
    let first = amend(&before, "device-a", "amendment-a");
    let mut second = amend(&before, "device-b", "amendment-b");
    assert_eq!(check_peer_change(&before, &first), Ok(()));
    let mut both = first.clone();
    both.merge(&mut second).expect("merge");
    assert_eq!(both.get_all(ROOT, "amendments").expect("get").len(), 2);
    assert_eq!(check_peer_change(&first, &both), Ok(()));
    assert_eq!(super::amendments(&both).expect("read").len(), 2);

    // Still refused: one of the stored lists replaced, or an entry in it rewritten.
    let replaced = edited(&both, |tx| {
        tx.put_object(ROOT, "amendments", ObjType::List)
            .expect("list");
    });
    assert!(check_peer_change(&both, &replaced).is_err());
    let lists = both.get_all(ROOT, "amendments").expect("get");
    let rewritten = edited(&both, |tx| {
        let entry = tx.get(&lists[1].1, 0).expect("get").expect("entry").1;
        tx.put(&entry, "reason", "nothing to see").expect("put");
    });
    assert!(check_peer_change(&both, &rewritten).is_err());
}

#[test]
fn a_child_record_is_written_by_the_server_only() {
    let mut before = Automerge::new();
    let mut tx = before.transaction();
    tx.put(ROOT, "type", "child").expect("put");
    tx.put(ROOT, "childId", "C-N1").expect("put");
    tx.commit();
    let after = edited(&before, |tx| tx.put(ROOT, "legalName", "x").expect("put"));
    assert_eq!(
        check_peer_change(&before, &after),
        Err(IntegrityViolation::ServerDocument("child"))
    );
}
