//! Tests of access control in the sync core: grants by child, creation, read-only peers,
//! withdrawal, and answers that do not tell a forbidden document from a missing one.

use std::time::Duration;

use automerge::{Automerge, ROOT, ReadDoc, transaction::Transactable};

use super::test_network::*;
use super::*;
use crate::DocumentId;
use crate::protocol::Message;

#[test]
fn a_worker_creates_a_visit_for_an_allocated_child_and_it_is_indexed() {
    let mut net = Network::with_access_control(1, true);
    net.connect(1);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    assert!(!net.nodes[1].core.is_refused(&id));
    assert!(net.nodes[SERVER].stored.contains_key(&id));
    assert!(net.access_events().contains(&AccessKind::Created {
        child_id: "child-a".into()
    }));
}

#[test]
fn a_visit_for_a_child_not_allocated_is_refused_and_never_stored() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-b", 1));
    net.run_until_quiescent();
    assert!(!net.nodes[SERVER].stored.contains_key(&id), "never stored");
    assert!(
        net.nodes[SERVER].core.document(&id).is_none(),
        "not held in memory"
    );
    assert!(!net.nodes[1].core.is_acknowledged(&id));
    assert!(unavailable_sent_to(&net, 1, id));
    assert!(
        net.nodes[1].core.is_refused(&id),
        "the client knows it was refused"
    );
    assert!(
        net.access_events()
            .contains(&AccessKind::Denied(DenialReason::ChildNotAllocated {
                child_id: "child-b".into()
            }))
    );

    // Nobody else can fetch it either.
    net.connect(2);
    net.run_until_quiescent();
    net.grant(2, holding("child-b", Access::ReadWrite));
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Unavailable
    );
}

#[test]
fn a_document_outside_the_grant_gets_the_same_answer_as_a_missing_one() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();

    net.grant(2, AccessGrant::default());
    let missing = DocumentId::from_bytes([8; 16]);
    let sent_before = net.sent.len();
    net.find(2, id);
    net.find(2, missing);
    net.run_until_quiescent();
    for doc in [id, missing] {
        assert_eq!(
            net.nodes[2].core.document_status(&doc),
            DocumentStatus::Unavailable
        );
    }
    // The server's only answers to client 2 were `doc-unavailable`, one per document.
    let answers: Vec<&Message> = net.sent[sent_before..]
        .iter()
        .filter(|(node, _)| *node == SERVER)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(answers.len(), 2);
    assert!(
        answers
            .iter()
            .all(|m| matches!(m, Message::DocUnavailable { .. }))
    );
    assert!(
        net.access_events()
            .contains(&AccessKind::Denied(DenialReason::NotGranted))
    );
}

#[test]
fn a_read_only_peer_reads_but_its_changes_are_refused() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.grant(2, holding("child-a", Access::ReadOnly));
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Ready
    );

    let server_heads = net.doc(SERVER, &id).get_heads();
    net.change(2, id, |doc| {
        let mut tx = doc.transaction();
        tx.put(ROOT, "seenAlone", false).expect("put");
        tx.commit();
    });
    net.run_until_quiescent();
    assert_eq!(
        net.doc(SERVER, &id).get_heads(),
        server_heads,
        "manager change not applied"
    );
    // The server's read-only flag tells an automerge peer not to send changes at all; a
    // peer that sends them anyway is refused and reported (`DenialReason::ReadOnly`).
    assert!(
        !net.nodes[2].core.is_acknowledged(&id),
        "the manager's copy is not confirmed"
    );
}

#[test]
fn a_refused_read_only_change_is_told_to_the_peer_once_and_the_connection_stays_open() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.grant(2, holding("child-a", Access::ReadOnly));
    net.find(2, id);
    net.run_until_quiescent();
    let sent_before = net.sent.len();
    for value in [false, true] {
        net.change(2, id, |doc| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "seenAlone", value).expect("put");
            tx.commit();
        });
        net.run_until_quiescent();
    }
    let notices: Vec<RefusalNotice> = net.sent[sent_before..]
        .iter()
        .filter_map(|(node, message)| match message {
            Message::Ephemeral {
                document_id, data, ..
            } if *node == SERVER && *document_id == id => read_refusal_notice(data),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1, "told once per document and connection");
    assert_eq!(notices[0].reason, "read-only");
    assert_eq!(notices[0].document_id, id.to_string());
    assert!(
        net.access_events()
            .contains(&AccessKind::Denied(DenialReason::ReadOnly))
    );
    assert!(net.is_connected(2), "a reader may go on reading");
    // The notice survives the wire: it is automerge-repo's `ephemeral` message.
    let Some((_, notice)) = net.sent[sent_before..]
        .iter()
        .find(|(_, m)| matches!(m, Message::Ephemeral { .. }))
    else {
        panic!("no notice sent");
    };
    let bytes = crate::protocol::encode(notice);
    assert_eq!(crate::protocol::decode(&bytes).as_ref(), Ok(notice));
}

#[test]
fn a_preloaded_new_visit_is_stored_and_answered_exactly_as_one_loaded_by_the_core() {
    let run = |preload: bool| {
        let mut net = Network::with_access_control(2, true);
        net.preload = preload;
        net.connect(1);
        net.run_until_quiescent();
        net.grant(1, may_create_for("child-a"));
        let mut visit = visit_for("child-a", 1);
        let observe = |doc: &mut Automerge, text: &str| {
            let mut tx = doc.transaction();
            crate::model::append_text(&mut tx, crate::model::TextField::Observations, text)
                .expect("text");
            tx.commit();
        };
        for burst in 0..40 {
            observe(&mut visit, &format!(" burst {burst}"));
        }
        let id = net.create(1, visit);
        net.run_until_quiescent();
        assert!(net.nodes[1].core.is_acknowledged(&id), "acknowledged");
        // A later edit arrives as a change on a document the server holds.
        net.change(1, id, |doc| observe(doc, " and later"));
        net.run_until_quiescent();
        assert!(net.nodes[1].core.is_acknowledged(&id), "edit acknowledged");
        let replies: Vec<Message> = net
            .sent
            .iter()
            .filter(|(node, _)| *node == SERVER)
            .map(|(_, message)| message.clone())
            .collect();
        let stored = net.nodes[SERVER].stored.get(&id).cloned();
        (
            net.doc(SERVER, &id).save(),
            replies,
            stored,
            net.access_events(),
        )
    };
    let (doc, replies, stored, access) = run(false);
    let (preloaded_doc, preloaded_replies, preloaded_stored, preloaded_access) = run(true);
    assert_eq!(preloaded_doc, doc);
    assert_eq!(preloaded_replies, replies);
    assert_eq!(preloaded_stored, stored);
    assert_eq!(preloaded_access, access);
}

#[test]
fn settled_documents_beyond_the_live_limit_are_packed_and_unpacked_on_demand() {
    let mut net = Network::with_server(2, false, 0);
    net.connect(1);
    let id = net.create(1, doc_with_text(1, "I like my room"));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    let stats = net.nodes[SERVER].core.stats();
    assert_eq!((stats.loaded_documents, stats.packed_documents), (1, 1));
    assert!(net.nodes[SERVER].core.document(&id).is_none(), "packed");
    assert_eq!(
        net.nodes[SERVER].core.document_status(&id),
        DocumentStatus::Ready
    );

    // A second device asks for it: the server unpacks it to answer, then packs it again.
    net.connect(2);
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(text_of(net.doc(2, &id)), "I like my room");
    // The first device types more: applied, stored, acknowledged, passed on.
    net.change(1, id, |doc| append(doc, " and the garden"));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    assert_eq!(text_of(net.doc(2, &id)), "I like my room and the garden");
    assert_eq!(net.nodes[SERVER].core.stats().packed_documents, 1);
    let server_text = {
        let core = &mut net.nodes[SERVER].core;
        let (text, _) = core
            .change_document(id, |doc| text_of(doc))
            .expect("unpacks for a local edit");
        text
    };
    assert_eq!(server_text, "I like my room and the garden");

    // Once idle, it is unloaded with a snapshot taken from its packed bytes.
    net.disconnect_client(1);
    net.disconnect_client(2);
    net.run_until_quiescent();
    net.tick(Duration::from_secs(31));
    net.run_until_quiescent();
    assert_eq!(net.nodes[SERVER].core.stats().loaded_documents, 0);
    let stored: Vec<u8> = net.nodes[SERVER].stored[&id].concat();
    let reloaded = Automerge::load(&stored).expect("stored chunks load");
    assert_eq!(text_of(&reloaded), "I like my room and the garden");
}

#[test]
fn adding_one_document_to_a_grant_lets_the_peer_read_then_write_it() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    net.grant(2, AccessGrant::default());
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.grant(2, holding("child-a", Access::ReadOnly));
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Ready
    );
    let server_heads = net.doc(SERVER, &id).get_heads();
    let seen_alone = |net: &mut Network, value: bool| {
        net.change(2, id, |doc| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "seenAlone", value).expect("put");
            tx.commit();
        });
        net.run_until_quiescent();
    };
    seen_alone(&mut net, false);
    assert_eq!(net.doc(SERVER, &id).get_heads(), server_heads, "read only");

    // Read-write replaces read-only on the live connection; the next change is applied.
    net.grant(2, holding("child-a", Access::ReadWrite));
    seen_alone(&mut net, true);
    assert_eq!(
        net.doc(SERVER, &id).get_heads(),
        net.doc(2, &id).get_heads()
    );
    assert!(net.nodes[2].core.is_acknowledged(&id));
}

#[test]
fn withdrawing_access_stops_sync_on_the_live_connection() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.grant(2, holding("child-a", Access::ReadWrite));
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(text_len(&net, 2, id), text_len(&net, 1, id));

    // Client 2 is de-allocated while connected.
    net.grant(2, AccessGrant::default());
    net.run_until_quiescent();
    assert!(
        net.access_events()
            .contains(&AccessKind::Denied(DenialReason::Revoked))
    );
    net.change(1, id, |doc| {
        let mut tx = doc.transaction();
        let text = tx.get(ROOT, "observations").expect("get").expect("text").1;
        tx.splice_text(&text, 0, 0, "NEW ").expect("splice");
        tx.commit();
    });
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    assert_ne!(
        net.doc(2, &id).get_heads(),
        net.doc(1, &id).get_heads(),
        "no further sync after de-allocation"
    );
}

fn text_len(net: &Network, node: usize, id: DocumentId) -> usize {
    net.doc(node, &id).get_heads().len()
}

#[test]
fn a_grant_update_while_a_new_visit_is_loading_does_not_drop_it() {
    let mut net = Network::with_access_control(1, true);
    net.connect(1);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    net.nodes[SERVER].pause_storage = true;
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(
        net.nodes[SERVER]
            .held
            .iter()
            .any(|t| matches!(t.kind, StorageTaskKind::Load)),
        "the server is looking the new document up"
    );
    // Meanwhile the directory changes (e.g. another visit was indexed).
    net.grant(1, may_create_for("child-a"));
    net.nodes[SERVER].pause_storage = false;
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    assert!(
        !net.access_events()
            .iter()
            .any(|e| matches!(e, AccessKind::Denied(_)))
    );
}

#[test]
fn a_stale_grant_update_never_withdraws_a_visit_its_author_created() {
    let mut net = Network::with_access_control(1, true);
    net.connect(1);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    // A grant computed from the directory before the visit's index committed lacks it.
    net.grant(1, may_create_for("child-a"));
    net.run_until_quiescent();
    assert!(!unavailable_sent_to(&net, 1, id), "still the author's");
    assert!(!net.nodes[1].core.is_refused(&id));
    // Taking the child away does withdraw it.
    net.grant(1, AccessGrant::default());
    net.run_until_quiescent();
    assert!(unavailable_sent_to(&net, 1, id));
}

/// A visit for `child` recorded by `worker`, begun at `created_ms` (device time).
fn visit_by(child: &str, worker: &str, actor: u8, created_ms: u64) -> Automerge {
    let mut doc = Automerge::new();
    doc.set_actor(automerge::ActorId::from(vec![actor; 16]));
    let mut tx = doc.transaction();
    let visit = crate::model::NewVisit {
        visit_id: format!("visit-{actor}"),
        child_id: child.into(),
        worker_id: worker.into(),
        visit_date: crate::model::CalendarDate::parse("2026-11-20").expect("date"),
        created_at: Timestamp::from_millis(created_ms),
    };
    crate::model::create_visit(&mut tx, &visit).expect("visit");
    let time_s = i64::try_from(created_ms / 1000).expect("seconds");
    tx.commit_with(automerge::transaction::CommitOptions::default().with_time(time_s));
    doc
}

/// Types `text` into the observations, as a change made at `time_s` (device time).
fn observe_at(doc: &mut Automerge, text: &str, time_s: i64) {
    let mut tx = doc.transaction();
    let observations = tx.get(ROOT, "observations").expect("get").expect("text").1;
    tx.splice_text(&observations, 0, 0, text).expect("splice");
    tx.commit_with(automerge::transaction::CommitOptions::default().with_time(time_s));
}

#[test]
fn a_new_visit_reaches_the_workers_other_devices_unasked_but_not_managers() {
    let mut net = Network::with_access_control(3, true);
    for client in 1..=3 {
        net.connect(client);
    }
    net.grant(1, may_create_for("child-a"));
    net.grant(2, may_create_for("child-a"));
    net.grant(3, holding("child-a", Access::ReadOnly));
    net.run_until_quiescent();
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    assert_eq!(
        net.nodes[2].core.document(&id).map(Automerge::get_heads),
        Some(net.doc(1, &id).get_heads()),
        "the other device holds it without having asked"
    );
    assert!(
        net.nodes[3].core.document(&id).is_none(),
        "a manager asks when needed"
    );
}

#[test]
fn a_former_holder_sends_what_they_recorded_while_holding_the_child_and_nothing_later() {
    let reallocated_ms: u64 = 1_800_000_000_000;
    let before_s = i64::try_from(reallocated_ms / 1000).expect("secs") - 3600;
    let after_s = i64::try_from(reallocated_ms / 1000).expect("secs") + 3600;
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.grant(1, may_create_for("child-a"));
    let mut colleague = may_create_for("child-a");
    colleague.author = Some("colleague".into());
    net.grant(2, colleague);
    net.run_until_quiescent();
    let own = net.create(1, visit_for("child-a", 1));
    let theirs = net.create(2, visit_by("child-a", "colleague", 2, 5));
    net.run_until_quiescent();
    assert!(
        net.nodes[1].core.document(&theirs).is_some(),
        "offered to the worker too"
    );

    // Offline: the worker types into both visits, in the home, before the child is
    // reallocated to someone else; starts a visit then; and, by the device's clock after the
    // reallocation, types more into their own visit and starts another.
    net.disconnect_client(1);
    net.change(1, own, |doc| {
        observe_at(doc, "Own visit, at the home. ", before_s)
    });
    net.change(1, theirs, |doc| {
        observe_at(doc, "Typed at the visit. ", before_s)
    });
    let begun_before = net.create(1, visit_by("child-a", "worker", 3, reallocated_ms - 60_000));
    let begun_after = net.create(
        1,
        visit_by("child-a", "worker", 4, reallocated_ms + 3_600_000),
    );

    // Back online as a former holder: what was recorded while holding the child arrives,
    // then each record is withdrawn from the device, which no longer holds the child.
    net.connect(1);
    net.grant(
        1,
        AccessGrant {
            author: Some("worker".into()),
            former: [("child-a".to_owned(), Timestamp::from_millis(reallocated_ms))].into(),
            ..AccessGrant::default()
        },
    );
    net.run_until_quiescent();
    for id in [own, theirs, begun_before] {
        assert!(
            net.nodes[1].core.is_acknowledged(&id),
            "{id} reached the server"
        );
        assert_eq!(
            net.open_doc(SERVER, &id).get_heads(),
            net.doc(1, &id).get_heads()
        );
        assert!(net.nodes[1].core.is_refused(&id), "{id} then withdrawn");
    }
    assert!(
        !net.nodes[SERVER].stored.contains_key(&begun_after),
        "begun after: refused"
    );
    assert!(net.nodes[1].core.is_refused(&begun_after));

    // Edits made after the reallocation are refused, for that record only: the device
    // stays connected.
    net.change(1, own, |doc| {
        observe_at(doc, "Own visit, afterwards. ", after_s)
    });
    net.change(1, theirs, |doc| {
        observe_at(doc, "Typed afterwards. ", after_s)
    });
    net.run_until_quiescent();
    assert!(net.is_connected(1));
    let text = |net: &mut Network, id| {
        let doc = net.open_doc(SERVER, &id);
        let (_, text) = doc.get(ROOT, "observations").expect("get").expect("text");
        doc.text(&text).expect("text")
    };
    assert!(!text(&mut net, own).contains("afterwards"));
    assert!(
        net.access_events()
            .contains(&AccessKind::Denied(DenialReason::NoLongerAllocated)),
        "the late edits were sent, and refused"
    );
    let server_text = text(&mut net, theirs);
    assert!(server_text.contains("Typed at the visit."));
    assert!(!server_text.contains("Typed afterwards."));
}

/// Moves a visit to `to_child` as the hub does for a manager (`hub::server_edits`): files it
/// there (`SyncCore::refile`), makes the change (its append stores the new index), then
/// hands every connection its grant again, recomputed after the move (here unchanged: grants
/// are by child).
fn move_visit(net: &mut Network, id: DocumentId, to_child: &str, grants: &[(usize, AccessGrant)]) {
    let index = DocumentIndex {
        child_id: to_child.into(),
        created_by: Some("worker".into()),
    };
    net.nodes[SERVER]
        .core
        .refile(id, index)
        .expect("the visit is loaded");
    net.change(SERVER, id, |doc| {
        let mut tx = doc.transaction();
        tx.put(ROOT, "childId", to_child).expect("put");
        tx.commit();
    });
    for (client, grant) in grants {
        net.grant(*client, grant.clone());
    }
}

/// Whether the server sent `client` anything about the document since `from` (an index
/// into `net.sent`).
fn told_about(net: &Network, from: usize, client: usize, id: DocumentId) -> bool {
    let peer = format!("client-{}", client - 1);
    net.sent[from..].iter().any(|(node, m)| {
        *node == SERVER
            && match m {
                Message::Sync {
                    target_id,
                    document_id,
                    ..
                }
                | Message::Request {
                    target_id,
                    document_id,
                    ..
                }
                | Message::DocUnavailable {
                    target_id,
                    document_id,
                    ..
                }
                | Message::Ephemeral {
                    target_id,
                    document_id,
                    ..
                } => target_id.as_str() == peer && *document_id == id,
                _ => false,
            }
    })
}

fn child_of(doc: &Automerge) -> String {
    let (value, _) = doc.get(ROOT, "childId").expect("get").expect("childId");
    value.into_string().expect("a string")
}

#[test]
fn a_moved_visit_is_offered_to_the_writers_of_its_new_child_only() {
    // 1: the worker who misfiled it (child-a). 2 and 3: the right child's worker, on a
    // device that asked for it before the move (and was refused) and on one that never
    // heard of it. 4: a manager reading child-b. 5: a worker holding another child.
    let mut net = Network::with_access_control(5, true);
    for client in 1..=5 {
        net.connect(client);
    }
    let mut colleague = may_create_for("child-b");
    colleague.author = Some("colleague".into());
    let grants = [
        (1, may_create_for("child-a")),
        (2, colleague.clone()),
        (3, colleague),
        (4, holding("child-b", Access::ReadOnly)),
        (5, may_create_for("child-c")),
    ];
    for (client, grant) in &grants {
        net.grant(*client, grant.clone());
    }
    net.run_until_quiescent();
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Unavailable,
        "not the colleague's child's record yet"
    );
    let old_heads = net.doc(1, &id).get_heads();

    // The move, with its append held back: nothing is sent before it is durable.
    let sent_before = net.sent.len();
    let access_before = net.access.len();
    net.nodes[SERVER].pause_storage = true;
    move_visit(&mut net, id, "child-b", &grants);
    net.run_until_quiescent();
    for client in [2, 3] {
        assert!(
            !told_about(&net, sent_before, client, id),
            "client {client} told of a move not yet durable"
        );
    }
    net.nodes[SERVER].pause_storage = false;
    net.run_until_quiescent();

    let server_heads = net.doc(SERVER, &id).get_heads();
    for client in [2, 3] {
        assert_eq!(
            net.nodes[client]
                .core
                .document(&id)
                .map(Automerge::get_heads),
            Some(server_heads.clone()),
            "client {client} holds the moved visit without asking again"
        );
        assert_eq!(child_of(net.doc(client, &id)), "child-b");
        let connection = net.server_conn(client);
        assert!(
            net.access[access_before..]
                .iter()
                .any(|e| e.connection == connection
                    && e.document == id
                    && e.kind == AccessKind::Read
                    && e.child.as_deref() == Some("child-b")),
            "client {client}'s read is reported"
        );
    }
    for client in [4, 5] {
        assert!(
            !told_about(&net, sent_before, client, id),
            "client {client} may not be pushed the visit"
        );
        assert!(net.nodes[client].core.document(&id).is_none());
    }
    // The worker who misfiled it is told it is gone, and gets nothing of the move.
    assert!(net.nodes[1].core.is_refused(&id));
    assert_eq!(net.doc(1, &id).get_heads(), old_heads);
    assert!(
        net.access[access_before..]
            .iter()
            .any(|e| e.connection == net.server_conn(1)
                && e.kind == AccessKind::Denied(DenialReason::Revoked))
    );

    // The right child's worker writes to it from the device that was refused.
    net.change(2, id, |doc| {
        let mut tx = doc.transaction();
        let text = tx.get(ROOT, "observations").expect("get").expect("text").1;
        tx.splice_text(&text, 0, 0, "Seen at school. ")
            .expect("splice");
        tx.commit();
    });
    net.run_until_quiescent();
    assert!(net.nodes[2].core.is_acknowledged(&id));
    assert_eq!(
        net.doc(3, &id).get_heads(),
        net.doc(2, &id).get_heads(),
        "and the other device follows"
    );
}

#[test]
fn a_peer_refused_a_visit_gets_it_on_the_same_connection_once_it_is_moved_to_its_child() {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    let grants = [
        (1, may_create_for("child-a")),
        (2, holding("child-b", Access::ReadOnly)),
    ];
    for (client, grant) in &grants {
        net.grant(*client, grant.clone());
    }
    net.run_until_quiescent();
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Unavailable
    );
    assert!(unavailable_sent_to(&net, 2, id));

    move_visit(&mut net, id, "child-b", &grants);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Unavailable,
        "a reader is not pushed it: it asks"
    );
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Ready
    );
    assert_eq!(
        net.doc(2, &id).get_heads(),
        net.doc(SERVER, &id).get_heads()
    );
    assert_eq!(child_of(net.doc(2, &id)), "child-b");
}

#[test]
fn a_move_undone_before_the_grants_are_handed_out_offers_the_visit_to_nobody() {
    // 1 created it for child-a; 2 holds child-b; 3, the creator's second device, comes
    // online after it was created and has not asked for it.
    let mut net = Network::with_access_control(3, true);
    net.connect(1);
    net.connect(2);
    let grants = [
        (1, may_create_for("child-a")),
        (2, may_create_for("child-b")),
        (3, may_create_for("child-a")),
    ];
    for (client, grant) in &grants[..2] {
        net.grant(*client, grant.clone());
    }
    net.run_until_quiescent();
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.connect(3);
    net.grant(3, grants[2].1.clone());
    net.run_until_quiescent();

    // As the hub does when the move's change is refused: filed back, no change, and the
    // grants handed out again later (the directory changed).
    let sent_before = net.sent.len();
    let moved = DocumentIndex {
        child_id: "child-b".into(),
        created_by: Some("worker".into()),
    };
    let before = net.nodes[SERVER]
        .core
        .refile(id, moved)
        .expect("loaded")
        .expect("indexed");
    net.nodes[SERVER].core.refile(id, before).expect("loaded");
    for (client, grant) in &grants {
        net.grant(*client, grant.clone());
    }
    net.run_until_quiescent();
    for client in [2, 3] {
        assert!(
            !told_about(&net, sent_before, client, id),
            "client {client} was offered a visit that never moved"
        );
    }
    assert!(!net.nodes[1].core.is_refused(&id), "still its author's");
}
