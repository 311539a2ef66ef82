//! Tests of the sync core against hostile peers: forged fields, probes for documents,
//! floods of ids, silence, poisoned messages and a panic in the middle of one.

use std::time::Duration;

use automerge::sync::{self as am_sync, SyncDoc};
use automerge::{Automerge, ROOT, ReadDoc, transaction::Transactable};

use super::test_network::*;
use super::*;
use crate::protocol::{Message, encode};
use crate::{DocumentId, PeerId};

/// A `sync` frame from client `client` (peer `client-N`) about `document`.
fn sync_frame(client: usize, document: DocumentId, data: Vec<u8>) -> Vec<u8> {
    encode(&Message::Sync {
        sender_id: PeerId::new(format!("client-{}", client - 1)),
        target_id: PeerId::new("server"),
        document_id: document,
        data,
    })
}

/// The first message a peer holding `doc` sends for it (heads and a bloom filter).
fn first_message(doc: &Automerge) -> Vec<u8> {
    doc.generate_sync_message(&mut am_sync::State::new())
        .expect("a first message")
        .encode()
}

/// Every change of `doc` in one sync message.
fn all_changes(doc: &Automerge) -> Vec<u8> {
    let mut message = am_sync::Message::decode(&first_message(doc)).expect("decode");
    message.changes = doc
        .get_changes(&[])
        .iter()
        .map(|change| change.raw_bytes().to_vec())
        .collect::<Vec<_>>()
        .into();
    message.encode()
}

/// The data of each `sync` the server sent, and whether it sent `doc-unavailable`.
fn answers(fx: &Effects) -> (Vec<Vec<u8>>, usize) {
    let syncs = fx
        .outbound
        .iter()
        .filter_map(|(_, message)| match message {
            Message::Sync { data, .. } => Some(data.clone()),
            _ => None,
        })
        .collect();
    let unavailable = fx
        .outbound
        .iter()
        .filter(|(_, message)| matches!(message, Message::DocUnavailable { .. }))
        .count();
    (syncs, unavailable)
}

fn closed_with(fx: &Effects, needle: &str) -> bool {
    fx.close.iter().any(
        |(_, reason)| matches!(reason, CloseReason::ProtocolError(text) if text.contains(needle)),
    )
}

/// A server with two workers: client 1 holds child-a (and created one visit for it),
/// client 2 holds child-b.
fn two_workers() -> (Network, DocumentId) {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    let mut other = may_create_for("child-b");
    other.author = Some("worker".into());
    net.grant(2, other);
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    (net, id)
}

#[test]
fn a_forbidden_document_and_a_missing_one_get_byte_for_byte_the_same_answers() {
    let (mut net, existing) = two_workers();
    let missing = DocumentId::from_bytes([42; 16]);
    // A visit the prober may not create (it holds child-b only): creating it under an id
    // nobody uses would work, and is no probe.
    let probe = visit_for("child-c", 9);
    let loaded_before = net.nodes[SERVER].core.stats().loaded_documents;
    let mut replies = Vec::new();
    for id in [existing, missing] {
        // A `sync` without changes (how every new document starts), a `sync` with
        // changes, and a `request`.
        let plain = net.raw_to_server(2, sync_frame(2, id, first_message(&probe)));
        let with_changes = net.raw_to_server(2, sync_frame(2, id, all_changes(&probe)));
        let request = net.raw_to_server(
            2,
            encode(&Message::Request {
                sender_id: PeerId::new("client-1"),
                target_id: PeerId::new("server"),
                document_id: id,
                data: first_message(&Automerge::new()),
            }),
        );
        replies.push((answers(&plain), answers(&with_changes), answers(&request)));
    }
    assert_eq!(
        replies[0], replies[1],
        "the existing and the missing id are answered alike"
    );
    let ((plain, _), (_, refused), (_, unavailable)) = &replies[0];
    assert_eq!(plain.len(), 1, "the empty document's reply");
    assert_eq!((*refused, *unavailable), (1, 1));
    assert!(
        net.access.iter().any(|event| event.document == existing
            && event.kind == AccessKind::Denied(DenialReason::NotGranted)),
        "the probe of a real record is reported"
    );
    assert_eq!(
        net.nodes[SERVER].core.stats().loaded_documents,
        loaded_before,
        "nothing held for the prober"
    );
}

#[test]
fn thousands_of_syncs_for_random_ids_leave_nothing_in_memory() {
    let (mut net, _) = two_workers();
    let before = net.nodes[SERVER].core.stats();
    let probe = first_message(&visit_for("child-b", 3));
    for n in 0..5_000u32 {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&n.to_le_bytes());
        bytes[4] = 0xee;
        let fx = net.raw_to_server(
            2,
            sync_frame(2, DocumentId::from_bytes(bytes), probe.clone()),
        );
        assert!(fx.close.is_empty(), "an honest-looking message is answered");
    }
    let after = net.nodes[SERVER].core.stats();
    assert_eq!(after.loaded_documents, before.loaded_documents);
    assert_eq!(after.loading_documents, 0);
}

#[test]
fn a_connection_syncing_more_documents_than_its_limit_is_closed() {
    let mut net = Network::with_access_control(1, true);
    net.nodes[SERVER].core = SyncCore::new(CoreConfig {
        max_documents_per_connection: 3,
        ..CoreConfig::server(PeerId::new("server"), "server-storage".into())
    });
    net.connect(1);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    for n in 0..4 {
        net.create(1, visit_for("child-a", 10 + n));
    }
    net.run_until_quiescent();
    assert!(net.closed.iter().any(|(node, _, reason)| *node == SERVER
        && matches!(reason, CloseReason::ProtocolError(text) if text.contains("more than 3 documents"))));
}

#[test]
fn a_connection_that_never_sends_join_is_closed_after_the_deadline() {
    let mut net = Network::with_access_control(1, true);
    let silent = ConnectionId(999);
    net.event(
        SERVER,
        Event::Connected {
            connection: silent,
            direction: Direction::Accepted,
        },
    );
    net.connect(1);
    net.run_until_quiescent();
    net.tick(Duration::from_secs(5));
    assert!(net.closed.is_empty(), "still within the deadline");
    net.tick(Duration::from_secs(6));
    assert_eq!(
        net.closed
            .iter()
            .map(|(_, connection, _)| *connection)
            .collect::<Vec<_>>(),
        vec![silent],
        "only the silent connection"
    );
    assert_eq!(net.nodes[SERVER].core.stats().connections, 1);
}

#[test]
fn moving_a_visit_to_another_child_is_refused_and_nothing_is_stored() {
    let (mut net, id) = two_workers();
    // A second device of the same worker syncs the same visit.
    let third = net.nodes.len();
    net.nodes
        .push(Node::new(CoreConfig::client(PeerId::new("client-2"))));
    net.connect(third);
    net.run_until_quiescent();
    net.grant(third, may_create_for("child-a"));
    net.find(third, id);
    net.run_until_quiescent();
    let stored_before = net.nodes[SERVER].stored[&id].clone();
    let heads_before = net.open_doc(SERVER, &id).get_heads();

    net.change(1, id, |doc| {
        let mut tx = doc.transaction();
        tx.put(ROOT, "childId", "child-b").expect("put");
        tx.commit();
    });
    net.run_until_quiescent();
    assert!(net.closed.iter().any(|(node, _, reason)| *node == SERVER
        && matches!(reason, CloseReason::ProtocolError(text) if text.contains("childId"))));
    assert!(
        net.access
            .iter()
            .any(|event| matches!(&event.kind, AccessKind::Denied(DenialReason::Integrity(_))))
    );
    assert_eq!(
        net.nodes[SERVER].stored[&id], stored_before,
        "nothing stored"
    );
    assert_eq!(net.open_doc(SERVER, &id).get_heads(), heads_before);

    // The other device goes on syncing the same visit.
    net.change(third, id, |doc| append_observation(doc, " Still fine."));
    net.run_until_quiescent();
    assert!(net.nodes[third].core.is_acknowledged(&id));
    assert!(
        !net.closed
            .iter()
            .any(|(node, connection, _)| *node == SERVER && *connection == net.server_conn(third))
    );
}

fn append_observation(doc: &mut Automerge, text: &str) {
    let mut tx = doc.transaction();
    let observations = tx.get(ROOT, "observations").expect("get").expect("text").1;
    let len = tx.length(&observations);
    tx.splice_text(&observations, len, 0, text).expect("splice");
    tx.commit();
}

#[test]
fn a_new_visit_under_another_workers_name_is_refused_and_never_stored() {
    let mut net = Network::with_access_control(1, true);
    net.connect(1);
    net.run_until_quiescent();
    let mut grant = may_create_for("child-a");
    grant.author = Some("someone-else".into());
    net.grant(1, grant);
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    assert!(!net.nodes[SERVER].stored.contains_key(&id));
    assert!(net.closed.iter().any(|(node, _, reason)| *node == SERVER
        && matches!(reason, CloseReason::ProtocolError(text) if text.contains("workerId"))));
}

#[test]
fn a_poisoned_bloom_filter_closes_only_its_sender() {
    let (mut net, id) = two_workers();
    // 0 bits per entry: automerge 0.12 would divide by zero answering it.
    // Type, no heads, no need, one have: no lastSync, a 3-byte filter of 1 entry, 0 bits
    // per entry, 7 probes; no changes.
    let poisoned = vec![0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0];
    let fx = net.raw_to_server(2, sync_frame(2, id, poisoned));
    assert!(closed_with(&fx, "bloom filter"));
    // The owner keeps syncing.
    net.change(1, id, |doc| append_observation(doc, " Later."));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
}

#[test]
fn after_a_panic_only_the_culprit_is_closed_and_the_document_reloads_intact() {
    let (mut net, id) = two_workers();
    let third = net.nodes.len();
    net.nodes
        .push(Node::new(CoreConfig::client(PeerId::new("client-2"))));
    net.connect(third);
    net.run_until_quiescent();
    net.grant(third, may_create_for("child-a"));
    net.find(third, id);
    let other = net.create(2, visit_for("child-b", 2));
    net.run_until_quiescent();
    let text_before = net.doc(1, &id).save();

    let culprit = net.server_conn(1);
    let fx = net.nodes[SERVER]
        .core
        .recover(net.now, Some(culprit), Some(id));
    let closed: Vec<ConnectionId> = fx.close.iter().map(|(connection, _)| *connection).collect();
    assert!(closed.contains(&culprit));
    assert!(
        closed.contains(&net.server_conn(third)),
        "its co-syncer resyncs"
    );
    assert!(
        !closed.contains(&net.server_conn(2)),
        "nobody else is touched"
    );
    net.apply_effects(SERVER, fx);
    assert!(
        net.nodes[SERVER].core.document(&id).is_none(),
        "dropped from memory"
    );
    assert!(net.nodes[SERVER].core.document(&other).is_some());

    // The closed device reconnects (its rights set as the server sets them, before it
    // speaks) and finds the document as it was stored.
    net.connect(third);
    net.grant(third, may_create_for("child-a"));
    net.run_until_quiescent();
    assert_eq!(net.open_doc(SERVER, &id).save(), text_before);
    assert!(net.nodes[third].core.is_acknowledged(&id));
}
