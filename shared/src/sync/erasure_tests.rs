//! Tests of erasing a document for good (`SyncCore::erase_document`, a record deleted
//! after its retention): the server drops its copy at once, tells the peers syncing it,
//! writes nothing more of it, and answers whatever a device sends about it as for a
//! document that never existed.

use std::time::Duration;

use super::test_network::*;
use super::*;
use crate::DocumentId;
use crate::protocol::Message;

/// A visit for `child-a` created by client 1 and stored on the server, which client 2 (a
/// second device of the same worker) also syncs.
fn stored_visit() -> (Network, DocumentId) {
    let mut net = Network::with_access_control(2, true);
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(1, may_create_for("child-a"));
    net.grant(2, may_create_for("child-a"));
    let id = net.create(1, visit_for("child-a", 1));
    net.run_until_quiescent();
    net.find(2, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Ready
    );
    (net, id)
}

/// A device's edit to a visit's observations.
fn observe(doc: &mut automerge::Automerge, text: &str) {
    let mut tx = doc.transaction();
    crate::model::append_text(&mut tx, crate::model::TextField::Observations, text).expect("text");
    tx.commit();
}

/// What the driver does: deletes the stored document, then erases it in the core.
fn erase_on_server(net: &mut Network, id: DocumentId) {
    net.nodes[SERVER].stored.remove(&id);
    net.nodes[SERVER].index.remove(&id);
    let fx = net.nodes[SERVER].core.erase_document(id);
    net.apply_effects(SERVER, fx);
}

#[test]
fn an_erased_document_leaves_the_servers_memory_and_its_peers_are_told() {
    let (mut net, id) = stored_visit();
    let sent_before = net.sent.len();
    erase_on_server(&mut net, id);
    assert!(net.nodes[SERVER].core.document(&id).is_none());
    assert_eq!(
        net.nodes[SERVER].core.document_status(&id),
        DocumentStatus::Unknown
    );
    assert!(net.nodes[SERVER].core.is_erased(&id));
    let told: Vec<&Message> = net.sent[sent_before..]
        .iter()
        .filter(|(node, _)| *node == SERVER)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(told.len(), 2, "each syncing device is told: {told:?}");
    assert!(
        told.iter().all(
            |m| matches!(m, Message::DocUnavailable { document_id, .. } if *document_id == id)
        )
    );
    assert!(
        net.closed.is_empty(),
        "the devices stay connected for their other records"
    );
}

#[test]
fn a_device_resending_an_erased_document_is_answered_as_absent_and_nothing_is_written() {
    let (mut net, id) = stored_visit();
    erase_on_server(&mut net, id);
    net.run_until_quiescent();
    let access_before = net.access.len();

    // A device still holding it edits it, and another reconnects and offers it again,
    // with a grant that could create a visit for that child.
    net.change(1, id, |doc| observe(doc, " more"));
    net.disconnect_client(2);
    net.connect(2);
    net.run_until_quiescent();
    net.grant(2, may_create_for("child-a"));
    net.find(2, id);
    net.run_until_quiescent();
    net.tick(Duration::from_secs(3600));
    net.run_until_quiescent();

    assert!(
        !net.nodes[SERVER].stored.contains_key(&id),
        "nothing of it is stored again"
    );
    assert!(!net.nodes[SERVER].index.contains_key(&id));
    assert!(net.nodes[SERVER].core.document(&id).is_none());
    assert!(!net.nodes[1].core.is_acknowledged(&id));
    assert!(unavailable_sent_to(&net, 1, id));
    assert!(
        net.access
            .iter()
            .any(|e| e.document == id && e.kind == AccessKind::Denied(DenialReason::Erased)),
        "a device sending it is reported"
    );
    assert!(
        !net.access[access_before..].iter().any(|e| e.document == id
            && matches!(
                e.kind,
                AccessKind::Wrote { .. } | AccessKind::Created { .. }
            )),
        "nothing of it is applied"
    );
}

#[test]
fn an_erased_document_with_a_load_in_flight_never_arrives() {
    let (mut net, id) = stored_visit();
    // Unload it, then let a device ask again while storage is held back.
    net.disconnect_client(1);
    net.disconnect_client(2);
    net.tick(Duration::from_secs(3600));
    net.run_until_quiescent();
    assert!(net.nodes[SERVER].core.document(&id).is_none());
    net.connect(2);
    net.run_until_quiescent();
    net.grant(2, may_create_for("child-a"));
    net.nodes[SERVER].pause_storage = true;
    net.change(2, id, |doc| observe(doc, " offline edit"));
    for _ in 0..20 {
        net.step();
    }
    assert_eq!(
        net.nodes[SERVER].core.document_status(&id),
        DocumentStatus::Loading
    );
    erase_on_server(&mut net, id);
    net.nodes[SERVER].pause_storage = false;
    net.run_until_quiescent();
    assert!(net.nodes[SERVER].core.document(&id).is_none());
    assert!(!net.nodes[SERVER].stored.contains_key(&id));
    assert!(unavailable_sent_to(&net, 2, id));
}
