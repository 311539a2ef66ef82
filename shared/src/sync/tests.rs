//! Tests of the sync core over a simulated network: no sockets, no sleeps.
//!
//! [`Network`] wires one server core to client cores with in-memory storage and
//! delivers messages in order; storage tasks can be held back to check durability.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use automerge::{Automerge, ObjType, ROOT, ReadDoc, transaction::Transactable};
use proptest::prelude::*;

use super::*;
use crate::protocol::{Message, encode};
use crate::{DocumentId, PeerId};

/// One simulated peer: a core and its storage.
struct Node {
    core: SyncCore,
    /// Stored chunks per document, as a SQLite store would hold them.
    stored: HashMap<DocumentId, Vec<Vec<u8>>>,
    /// Where each stored document belongs (the server's index).
    index: HashMap<DocumentId, DocumentIndex>,
    /// Storage tasks not yet run (when storage is paused).
    held: VecDeque<StorageTask>,
    pause_storage: bool,
}

/// Messages in transit between node `from` and node `to` over one connection.
struct Link {
    a: usize,
    b: usize,
    /// The connection id each side uses for this link.
    a_conn: ConnectionId,
    b_conn: ConnectionId,
    to_a: VecDeque<Vec<u8>>,
    to_b: VecDeque<Vec<u8>>,
    open: bool,
}

struct Network {
    nodes: Vec<Node>,
    links: Vec<Link>,
    now: Timestamp,
    next_conn: u64,
    /// Every message each node sent, decoded, for assertions.
    sent: Vec<(usize, Message)>,
    /// Connections closed by a core, with why.
    closed: Vec<(usize, ConnectionId, CloseReason)>,
    /// Access events the server reported.
    access: Vec<AccessEvent>,
    /// Deliver frames to the server decoded and preloaded, as the tokio server does.
    preload: bool,
}

const SERVER: usize = 0;

impl Network {
    /// A network whose server does not check access (for sync-mechanics tests).
    fn new(clients: usize) -> Self {
        Self::with_access_control(clients, false)
    }

    fn with_access_control(clients: usize, enforce_access: bool) -> Self {
        Self::with_server(clients, enforce_access, 256)
    }

    /// A network whose server holds at most `live_documents` documents unpacked.
    fn with_server(clients: usize, enforce_access: bool, live_documents: usize) -> Self {
        let mut server = CoreConfig::server(PeerId::new("server"), "server-storage".into());
        server.enforce_access = enforce_access;
        server.live_documents = live_documents;
        let mut nodes = vec![Node::new(server)];
        for i in 0..clients {
            nodes.push(Node::new(CoreConfig::client(PeerId::new(format!(
                "client-{i}"
            )))));
        }
        Self {
            nodes,
            links: Vec::new(),
            now: Timestamp::from_millis(1_000),
            next_conn: 0,
            sent: Vec::new(),
            closed: Vec::new(),
            access: Vec::new(),
            preload: false,
        }
    }

    /// The server-side connection id of a client's open link.
    fn server_conn(&self, client: usize) -> ConnectionId {
        self.links
            .iter()
            .find(|l| l.a == client && l.open)
            .map(|l| l.b_conn)
            .expect("client connected")
    }

    /// Sets what a connected client may do on the server.
    fn grant(&mut self, client: usize, grant: AccessGrant) {
        let connection = self.server_conn(client);
        self.event(SERVER, Event::AccessChanged { connection, grant });
    }

    /// Every access event the server reported, in order.
    fn access_events(&self) -> Vec<AccessKind> {
        self.access.iter().map(|e| e.kind.clone()).collect()
    }

    /// Connects client `client` to the server; returns the link index.
    fn connect(&mut self, client: usize) -> usize {
        let (a_conn, b_conn) = (
            ConnectionId(self.next_conn),
            ConnectionId(self.next_conn + 1),
        );
        self.next_conn += 2;
        self.links.push(Link {
            a: client,
            b: SERVER,
            a_conn,
            b_conn,
            to_a: VecDeque::new(),
            to_b: VecDeque::new(),
            open: true,
        });
        let link = self.links.len() - 1;
        self.event(
            SERVER,
            Event::Connected {
                connection: b_conn,
                direction: Direction::Accepted,
            },
        );
        self.event(
            client,
            Event::Connected {
                connection: a_conn,
                direction: Direction::Dialled,
            },
        );
        link
    }

    fn disconnect(&mut self, link: usize) {
        let l = &mut self.links[link];
        if !l.open {
            return;
        }
        l.open = false;
        l.to_a.clear();
        l.to_b.clear();
        let (a, b, a_conn, b_conn) = (l.a, l.b, l.a_conn, l.b_conn);
        self.event(a, Event::Disconnected { connection: a_conn });
        self.event(b, Event::Disconnected { connection: b_conn });
    }

    fn disconnect_client(&mut self, client: usize) {
        for link in 0..self.links.len() {
            if self.links[link].a == client && self.links[link].open {
                self.disconnect(link);
            }
        }
    }

    fn is_connected(&self, client: usize) -> bool {
        self.links.iter().any(|l| l.a == client && l.open)
    }

    fn event(&mut self, node: usize, event: Event) {
        let fx = self.nodes[node].core.handle(self.now, event);
        self.apply_effects(node, fx);
    }

    fn apply_effects(&mut self, node: usize, fx: Effects) {
        for (conn, message) in fx.outbound {
            self.sent.push((node, message.clone()));
            let bytes = encode(&message);
            if let Some(link) = self.links.iter_mut().find(|l| {
                l.open && ((l.a == node && l.a_conn == conn) || (l.b == node && l.b_conn == conn))
            }) {
                if link.a == node {
                    link.to_b.push_back(bytes);
                } else {
                    link.to_a.push_back(bytes);
                }
            }
        }
        self.nodes[node].held.extend(fx.storage);
        if node == SERVER {
            self.access.extend(fx.access);
        }
        for (conn, reason) in fx.close {
            self.closed.push((node, conn, reason));
            if let Some(idx) = self.links.iter().position(|l| {
                l.open && ((l.a == node && l.a_conn == conn) || (l.b == node && l.b_conn == conn))
            }) {
                self.disconnect(idx);
            }
        }
    }

    /// Runs storage and delivers messages until nothing moves.
    fn run_until_quiescent(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("network did not quiesce");
    }

    /// One round: every node's storage, then one message per direction per link.
    fn step(&mut self) -> bool {
        let mut moved = false;
        for node in 0..self.nodes.len() {
            if self.nodes[node].pause_storage {
                continue;
            }
            while let Some(task) = self.nodes[node].held.pop_front() {
                moved = true;
                let result = self.nodes[node].run_storage(task);
                self.event(node, Event::IoComplete(result));
            }
        }
        for link in 0..self.links.len() {
            if let Some(bytes) = self.links[link].to_b.pop_front() {
                moved = true;
                let (b, connection) = (self.links[link].b, self.links[link].b_conn);
                if self.preload && b == SERVER {
                    let mut incoming = Incoming::decode(&bytes, &SyncLimits::default());
                    if incoming.has_changes() {
                        incoming.preload();
                    }
                    self.event(
                        b,
                        Event::ReceivedDecoded {
                            connection,
                            incoming,
                        },
                    );
                } else {
                    self.event(b, Event::Received { connection, bytes });
                }
            }
            if let Some(bytes) = self.links[link].to_a.pop_front() {
                moved = true;
                let (a, connection) = (self.links[link].a, self.links[link].a_conn);
                self.event(a, Event::Received { connection, bytes });
            }
        }
        moved
    }

    fn create(&mut self, node: usize, doc: Automerge) -> DocumentId {
        let id = DocumentId::from_bytes(rand_bytes(node as u64 * 7919 + self.next_conn));
        self.next_conn += 1;
        let fx = self.nodes[node]
            .core
            .create_document(id, doc)
            .expect("new document");
        self.apply_effects(node, fx);
        id
    }

    fn change(&mut self, node: usize, id: DocumentId, edit: impl FnOnce(&mut Automerge)) {
        let ((), fx) = self.nodes[node]
            .core
            .change_document(id, edit)
            .expect("loaded document");
        self.apply_effects(node, fx);
    }

    fn find(&mut self, node: usize, id: DocumentId) {
        let fx = self.nodes[node].core.find(id);
        self.apply_effects(node, fx);
    }

    fn tick(&mut self, advance: Duration) {
        self.now = self.now.plus(advance);
        for node in 0..self.nodes.len() {
            self.event(node, Event::Tick);
        }
    }

    fn doc(&self, node: usize, id: &DocumentId) -> &Automerge {
        self.nodes[node].core.document(id).expect("document loaded")
    }

    /// A node's copy, unpacked if the node had packed it.
    fn open_doc(&mut self, node: usize, id: &DocumentId) -> &Automerge {
        self.nodes[node]
            .core
            .open_document(id)
            .expect("document loaded")
    }
}

impl Node {
    fn new(config: CoreConfig) -> Self {
        Self {
            core: SyncCore::new(config),
            stored: HashMap::new(),
            index: HashMap::new(),
            held: VecDeque::new(),
            pause_storage: false,
        }
    }

    fn run_storage(&mut self, task: StorageTask) -> IoResult {
        let outcome = match task.kind {
            StorageTaskKind::Load => {
                StorageOutcome::Loaded(self.stored.get(&task.document).map(|chunks| StoredChunks {
                    bytes: chunks.concat(),
                    count: chunks.len(),
                    index: self.index.get(&task.document).cloned(),
                }))
            }
            StorageTaskKind::Append { changes, index } => {
                if let Some(index) = index {
                    self.index.insert(task.document, index);
                }
                self.stored.entry(task.document).or_default().push(changes);
                StorageOutcome::Written
            }
            StorageTaskKind::Compact { snapshot } => {
                self.stored.insert(task.document, vec![snapshot]);
                StorageOutcome::Written
            }
        };
        IoResult {
            task: task.id,
            outcome,
        }
    }
}

fn rand_bytes(seed: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for byte in &mut out {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51afd7ed558ccd);
        *byte = (x >> 56) as u8;
    }
    out
}

fn doc_with_text(actor: u8, text: &str) -> Automerge {
    let mut doc = Automerge::new();
    doc.set_actor(automerge::ActorId::from(vec![actor; 16]));
    let mut tx = doc.transaction();
    let words = tx.put_object(ROOT, "words", ObjType::Text).expect("text");
    tx.splice_text(&words, 0, 0, text).expect("splice");
    tx.commit();
    doc
}

fn text_of(doc: &Automerge) -> String {
    let (_, words) = doc.get(ROOT, "words").expect("get").expect("words present");
    doc.text(&words).expect("text")
}

fn append(doc: &mut Automerge, text: &str) {
    let (_, words) = doc.get(ROOT, "words").expect("get").expect("words");
    let len = doc.length(&words);
    let mut tx = doc.transaction();
    tx.splice_text(&words, len, 0, text).expect("splice");
    tx.commit();
}

#[test]
fn a_created_document_reaches_a_second_client_through_the_server() {
    let mut net = Network::new(2);
    net.connect(1);
    let id = net.create(1, doc_with_text(1, "I like my room"));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
    assert!(net.nodes[SERVER].stored.contains_key(&id));

    net.connect(2);
    net.find(2, id);
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Loading
    );
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[2].core.document_status(&id),
        DocumentStatus::Ready
    );
    assert_eq!(text_of(net.doc(2, &id)), "I like my room");
    assert!(
        net.sent
            .iter()
            .any(|(node, m)| *node == 2 && matches!(m, Message::Request { .. })),
        "a client without the document asks with `request`"
    );
}

#[test]
fn asking_for_an_unknown_document_is_answered_doc_unavailable() {
    let mut net = Network::new(1);
    net.connect(1);
    net.run_until_quiescent();
    let id = DocumentId::from_bytes([9; 16]);
    net.find(1, id);
    net.run_until_quiescent();
    assert_eq!(
        net.nodes[1].core.document_status(&id),
        DocumentStatus::Unavailable
    );
    assert!(
        net.sent
            .iter()
            .any(|(node, m)| *node == SERVER && matches!(m, Message::DocUnavailable { .. }))
    );
    assert_eq!(net.nodes[SERVER].core.stats().loaded_documents, 0);
}

#[test]
fn the_server_reports_no_heads_until_they_are_durable() {
    let mut net = Network::new(1);
    net.connect(1);
    net.run_until_quiescent();
    let id = net.create(1, doc_with_text(1, "hello"));
    let heads = net.doc(1, &id).get_heads();
    net.nodes[SERVER].pause_storage = true;
    net.run_until_quiescent();

    let server_reported = |net: &Network| {
        net.sent.iter().any(|(node, m)| match m {
            Message::Sync { data, .. } if *node == SERVER => automerge::sync::Message::decode(data)
                .map(|m| m.heads == heads)
                .unwrap_or(false),
            _ => false,
        })
    };
    assert!(!net.nodes[SERVER].held.is_empty(), "an append is waiting");
    assert!(!server_reported(&net), "heads sent before commit");
    assert!(!net.nodes[1].core.is_acknowledged(&id));

    net.nodes[SERVER].pause_storage = false;
    net.run_until_quiescent();
    assert!(server_reported(&net));
    assert!(net.nodes[1].core.is_acknowledged(&id));
}

/// A change made right after reconnecting, before the handshake's first exchange: the
/// client's messages cross the server's, so its change arrives first and a change-less
/// message with the same heads arrives while the server's reply waits for the append.
/// That second message must not cancel the reply the client is waiting for.
#[test]
fn a_reply_deferred_until_durable_is_still_sent_after_a_second_message() {
    let mut net = Network::new(1);
    net.connect(1);
    let id = net.create(1, doc_with_text(1, "hello"));
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));

    net.disconnect_client(1);
    net.connect(1);
    while net.nodes[1].core.stats().ready_connections == 0 {
        net.step();
    }
    net.change(1, id, |doc| append(doc, " world"));
    let heads = net.doc(1, &id).get_heads();
    net.nodes[SERVER].pause_storage = true;
    net.run_until_quiescent();
    assert_eq!(
        net.doc(SERVER, &id).get_heads(),
        heads,
        "the change arrived"
    );
    assert!(!net.nodes[SERVER].held.is_empty(), "its append is waiting");
    assert!(!net.nodes[1].core.is_acknowledged(&id));
    // The crossing happened: after the message carrying the change, one without changes
    // announcing the same heads (the answer to the server's `need`).
    let client_sent: Vec<automerge::sync::Message> = net
        .sent
        .iter()
        .filter_map(|(node, m)| match m {
            Message::Sync { data, .. } if *node == 1 => automerge::sync::Message::decode(data).ok(),
            _ => None,
        })
        .filter(|m| m.heads == heads)
        .collect();
    assert!(client_sent.iter().any(|m| !m.changes.is_empty()));
    assert!(client_sent.last().is_some_and(|m| m.changes.is_empty()));

    net.nodes[SERVER].pause_storage = false;
    net.run_until_quiescent();
    assert!(
        net.nodes[1].core.is_acknowledged(&id),
        "the client never heard that the server stored its change"
    );
    assert_eq!(net.nodes[1].core.peer_heads(&id), vec![heads]);
}

#[test]
fn a_failed_append_closes_the_connection_and_drops_the_unsaved_copy() {
    let mut net = Network::new(1);
    net.connect(1);
    net.run_until_quiescent();
    let id = net.create(1, doc_with_text(1, "hello"));
    net.nodes[SERVER].pause_storage = true;
    net.run_until_quiescent();
    // Run the server's load, then hold its first append.
    let task = loop {
        let task = net.nodes[SERVER].held.pop_front().expect("a storage task");
        if matches!(task.kind, StorageTaskKind::Append { .. }) {
            break task;
        }
        let result = net.nodes[SERVER].run_storage(task);
        net.event(SERVER, Event::IoComplete(result));
        net.run_until_quiescent();
    };
    net.event(
        SERVER,
        Event::IoComplete(IoResult {
            task: task.id,
            outcome: StorageOutcome::Failed("disk full".into()),
        }),
    );
    assert!(
        net.closed
            .iter()
            .any(|(node, _, reason)| *node == SERVER
                && matches!(reason, CloseReason::StorageError(_)))
    );
    assert!(net.sent.iter().any(|(node, m)| *node == SERVER
        && matches!(m, Message::Error { message } if message.contains("could not store"))));
    assert!(net.nodes[SERVER].core.document(&id).is_none());
    assert!(!net.nodes[1].core.is_acknowledged(&id));

    // Reconnecting resends everything and it is stored this time.
    net.nodes[SERVER].pause_storage = false;
    net.connect(1);
    net.run_until_quiescent();
    assert!(net.nodes[1].core.is_acknowledged(&id));
}

#[test]
fn protocol_violations_get_an_error_and_a_closed_connection() {
    for bytes in [
        vec![0xff, 0xfe, 0x00],
        encode(&Message::Leave {
            sender_id: PeerId::new("x"),
        }),
        encode(&Message::Join {
            sender_id: PeerId::new("x"),
            supported_protocol_versions: vec!["2".into()],
            peer_metadata: None,
        }),
    ] {
        let mut net = Network::new(0);
        let conn = ConnectionId(77);
        net.event(
            SERVER,
            Event::Connected {
                connection: conn,
                direction: Direction::Accepted,
            },
        );
        net.event(
            SERVER,
            Event::Received {
                connection: conn,
                bytes,
            },
        );
        assert!(matches!(
            net.sent.last(),
            Some((SERVER, Message::Error { .. }))
        ));
        assert!(matches!(
            net.closed.last(),
            Some((SERVER, c, CloseReason::ProtocolError(_))) if *c == conn
        ));
        assert_eq!(net.nodes[SERVER].core.stats().connections, 0);
    }
}

#[test]
fn a_sync_message_automerge_rejects_closes_only_that_connection() {
    let mut net = Network::new(2);
    net.connect(1);
    let healthy = net.connect(2);
    net.run_until_quiescent();
    let bad = encode(&Message::Sync {
        sender_id: PeerId::new("client-0"),
        target_id: PeerId::new("server"),
        document_id: DocumentId::from_bytes([3; 16]),
        data: vec![0x42, 0x01, 0x02],
    });
    let conn = net.links[0].b_conn;
    net.event(
        SERVER,
        Event::Received {
            connection: conn,
            bytes: bad,
        },
    );
    assert!(!net.links[0].open);
    assert!(net.links[healthy].open);
    let id = net.create(2, doc_with_text(2, "still fine"));
    net.run_until_quiescent();
    assert!(net.nodes[2].core.is_acknowledged(&id));
}

#[test]
fn idle_documents_are_unloaded_and_compacted() {
    let mut net = Network::new(1);
    net.connect(1);
    let id = net.create(1, doc_with_text(1, "a"));
    net.run_until_quiescent();
    for i in 0..5 {
        net.change(1, id, |doc| append(doc, &i.to_string()));
        net.run_until_quiescent();
    }
    assert_eq!(net.nodes[SERVER].core.stats().loaded_documents, 1);
    assert!(net.nodes[SERVER].stored[&id].len() > 1);

    net.disconnect_client(1);
    net.tick(Duration::from_secs(10));
    assert_eq!(
        net.nodes[SERVER].core.stats().loaded_documents,
        1,
        "not idle long enough"
    );
    net.tick(Duration::from_secs(30));
    net.run_until_quiescent();
    assert_eq!(net.nodes[SERVER].core.stats().loaded_documents, 0);
    assert_eq!(
        net.nodes[SERVER].stored[&id].len(),
        1,
        "compacted to one snapshot"
    );

    // It loads again from the snapshot with every change.
    net.connect(1);
    net.run_until_quiescent();
    assert_eq!(text_of(net.doc(SERVER, &id)), "a01234");
}

#[test]
fn the_server_never_pushes_documents_nobody_asked_for() {
    let mut net = Network::new(2);
    net.connect(1);
    net.connect(2);
    let id = net.create(1, doc_with_text(1, "private"));
    net.run_until_quiescent();
    assert!(net.nodes[2].core.document(&id).is_none());
    assert!(!net.sent.iter().any(|(node, m)| *node == SERVER
        && matches!(m, Message::Sync { target_id, .. } if target_id.as_str() == "client-1")));
}

#[test]
fn concurrent_offline_edits_converge_keeping_every_edit() {
    let mut net = Network::new(2);
    net.connect(1);
    let id = net.create(1, doc_with_text(1, "Start."));
    net.run_until_quiescent();
    net.connect(2);
    net.find(2, id);
    net.run_until_quiescent();

    net.disconnect_client(1);
    net.disconnect_client(2);
    net.change(1, id, |doc| append(doc, " I miss my brother."));
    net.change(2, id, |doc| {
        append(doc, " School is ok.");
        let mut tx = doc.transaction();
        tx.put(ROOT, "seenAlone", true).expect("put");
        tx.commit();
    });
    net.connect(1);
    net.connect(2);
    net.run_until_quiescent();

    let a = net.doc(1, &id);
    let b = net.doc(2, &id);
    assert_eq!(a.get_heads(), b.get_heads());
    let text = text_of(a);
    assert!(text.contains(" I miss my brother.") && text.contains(" School is ok."));
    assert_eq!(text, text_of(b));
}

/// One step of a random schedule in the convergence property test.
#[derive(Debug, Clone)]
enum Step {
    Edit { client: usize, text: String },
    Toggle { client: usize },
    Deliver,
}

fn step_strategy(clients: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        (1..=clients, "[a-z]{1,4}").prop_map(|(client, text)| Step::Edit { client, text }),
        (1..=clients).prop_map(|client| Step::Toggle { client }),
        Just(Step::Deliver),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_edit_and_sync_interleavings_converge(
        steps in proptest::collection::vec(step_strategy(3), 1..40),
        preload in any::<bool>(),
        pack in any::<bool>(),
    ) {
        let mut net = Network::with_server(3, false, if pack { 0 } else { 256 });
        net.preload = preload;
        for client in 1..=3 {
            net.connect(client);
        }
        let id = net.create(1, doc_with_text(1, ""));
        net.run_until_quiescent();
        for client in 2..=3 {
            net.find(client, id);
        }
        net.run_until_quiescent();

        let mut typed = Vec::new();
        for (n, step) in steps.into_iter().enumerate() {
            match step {
                Step::Edit { client, text } => {
                    let marker = format!("<{n}{text}>");
                    net.change(client, id, |doc| append(doc, &marker));
                    typed.push(marker);
                }
                Step::Toggle { client } => {
                    if net.is_connected(client) {
                        net.disconnect_client(client);
                    } else {
                        net.connect(client);
                    }
                }
                Step::Deliver => { net.step(); }
            }
        }
        for client in 1..=3 {
            if !net.is_connected(client) {
                net.connect(client);
            }
        }
        net.run_until_quiescent();

        let reference = text_of(net.open_doc(SERVER, &id));
        for node in 1..=3 {
            prop_assert_eq!(net.doc(node, &id).get_heads(), net.doc(SERVER, &id).get_heads());
            prop_assert_eq!(&text_of(net.doc(node, &id)), &reference);
        }
        for marker in typed {
            prop_assert!(reference.contains(&marker), "lost {}", marker);
        }
        // What the server stored loads to the same document.
        let stored = net.nodes[SERVER].stored[&id].concat();
        let reloaded = Automerge::load(&stored).expect("stored chunks load");
        prop_assert_eq!(reloaded.get_heads(), net.doc(SERVER, &id).get_heads());
    }
}

fn visit_for(child: &str, actor: u8) -> Automerge {
    let mut doc = Automerge::new();
    doc.set_actor(automerge::ActorId::from(vec![actor; 16]));
    let mut tx = doc.transaction();
    let visit = crate::model::NewVisit {
        visit_id: format!("visit-{actor}"),
        child_id: child.into(),
        worker_id: "worker".into(),
        visit_date: crate::model::CalendarDate::parse("2026-11-20").expect("date"),
        created_at: Timestamp::from_millis(1),
    };
    crate::model::create_visit(&mut tx, &visit).expect("visit");
    crate::model::append_text(&mut tx, crate::model::TextField::Observations, "seen")
        .expect("text");
    tx.commit();
    doc
}

/// A worker holding `child`: reads and writes its documents, creates visits for it.
fn may_create_for(child: &str) -> AccessGrant {
    AccessGrant {
        children: [(child.to_owned(), Access::ReadWrite)].into(),
        may_create_for: [child.to_owned()].into(),
        author: Some("worker".into()),
    }
}

/// Access to one child's documents only.
fn holding(child: &str, access: Access) -> AccessGrant {
    AccessGrant {
        children: [(child.to_owned(), access)].into(),
        ..AccessGrant::default()
    }
}

fn unavailable_sent_to(net: &Network, client: usize, id: DocumentId) -> bool {
    let peer = format!("client-{}", client - 1);
    net.sent.iter().any(|(node, m)| {
        *node == SERVER
            && matches!(m, Message::DocUnavailable { target_id, document_id, .. }
                if target_id.as_str() == peer && *document_id == id)
    })
}

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
