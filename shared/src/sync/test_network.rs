//! The simulated network the sync core's tests run on: no sockets, no sleeps.
//!
//! [`Network`] wires one server core to client cores with in-memory storage and
//! delivers messages in order; storage tasks can be held back to check durability.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use automerge::{Automerge, ObjType, ROOT, ReadDoc, transaction::Transactable};

use super::*;
use crate::protocol::{Message, encode};
use crate::{DocumentId, PeerId};

/// One simulated peer: a core and its storage.
pub(super) struct Node {
    pub(super) core: SyncCore,
    /// Stored chunks per document, as a SQLite store would hold them.
    pub(super) stored: HashMap<DocumentId, Vec<Vec<u8>>>,
    /// Where each stored document belongs (the server's index).
    pub(super) index: HashMap<DocumentId, DocumentIndex>,
    /// Storage tasks not yet run (when storage is paused).
    pub(super) held: VecDeque<StorageTask>,
    pub(super) pause_storage: bool,
}

/// Messages in transit between node `from` and node `to` over one connection.
pub(super) struct Link {
    pub(super) a: usize,
    pub(super) b: usize,
    /// The connection id each side uses for this link.
    pub(super) a_conn: ConnectionId,
    pub(super) b_conn: ConnectionId,
    pub(super) to_a: VecDeque<Vec<u8>>,
    pub(super) to_b: VecDeque<Vec<u8>>,
    pub(super) open: bool,
}

pub(super) struct Network {
    pub(super) nodes: Vec<Node>,
    pub(super) links: Vec<Link>,
    pub(super) now: Timestamp,
    pub(super) next_conn: u64,
    /// Every message each node sent, decoded, for assertions.
    pub(super) sent: Vec<(usize, Message)>,
    /// Connections closed by a core, with why.
    pub(super) closed: Vec<(usize, ConnectionId, CloseReason)>,
    /// Access events the server reported.
    pub(super) access: Vec<AccessEvent>,
    /// Deliver frames to the server decoded and preloaded, as the tokio server does.
    pub(super) preload: bool,
}

pub(super) const SERVER: usize = 0;

impl Network {
    /// A network whose server does not check access (for sync-mechanics tests).
    pub(super) fn new(clients: usize) -> Self {
        Self::with_access_control(clients, false)
    }

    pub(super) fn with_access_control(clients: usize, enforce_access: bool) -> Self {
        Self::with_server(clients, enforce_access, 256)
    }

    /// A network whose server holds at most `live_documents` documents unpacked.
    pub(super) fn with_server(clients: usize, enforce_access: bool, live_documents: usize) -> Self {
        let mut server = CoreConfig::server(PeerId::new("server"), "server-storage".into());
        if !enforce_access {
            server.peer_checks = None;
        }
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
    pub(super) fn server_conn(&self, client: usize) -> ConnectionId {
        self.links
            .iter()
            .find(|l| l.a == client && l.open)
            .map(|l| l.b_conn)
            .expect("client connected")
    }

    /// Sets what a connected client may do on the server.
    pub(super) fn grant(&mut self, client: usize, grant: AccessGrant) {
        let connection = self.server_conn(client);
        self.event(SERVER, Event::AccessChanged { connection, grant });
    }

    /// Every access event the server reported, in order.
    pub(super) fn access_events(&self) -> Vec<AccessKind> {
        self.access.iter().map(|e| e.kind.clone()).collect()
    }

    /// Connects client `client` to the server; returns the link index.
    pub(super) fn connect(&mut self, client: usize) -> usize {
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

    pub(super) fn disconnect(&mut self, link: usize) {
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

    pub(super) fn disconnect_client(&mut self, client: usize) {
        for link in 0..self.links.len() {
            if self.links[link].a == client && self.links[link].open {
                self.disconnect(link);
            }
        }
    }

    pub(super) fn is_connected(&self, client: usize) -> bool {
        self.links.iter().any(|l| l.a == client && l.open)
    }

    pub(super) fn event(&mut self, node: usize, event: Event) {
        let fx = self.nodes[node].core.handle(self.now, event);
        self.apply_effects(node, fx);
    }

    pub(super) fn apply_effects(&mut self, node: usize, fx: Effects) {
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
    pub(super) fn run_until_quiescent(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("network did not quiesce");
    }

    /// One round: every node's storage, then one message per direction per link.
    pub(super) fn step(&mut self) -> bool {
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
                    let mut incoming = Incoming::decode(&bytes, self.nodes[SERVER].core.config());
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

    /// Hands the server one raw frame as if from `client`'s connection, runs whatever
    /// storage that needs, and returns every effect instead of delivering it (so a test
    /// can play a hostile peer byte by byte). Access events are recorded as usual.
    pub(super) fn raw_to_server(&mut self, client: usize, bytes: Vec<u8>) -> Effects {
        let connection = self.server_conn(client);
        let mut all = Effects::default();
        let mut fx = self.nodes[SERVER]
            .core
            .handle(self.now, Event::Received { connection, bytes });
        loop {
            let storage = std::mem::take(&mut fx.storage);
            self.access.extend(fx.access.clone());
            all.extend(fx);
            if storage.is_empty() {
                break;
            }
            fx = Effects::default();
            for task in storage {
                let result = self.nodes[SERVER].run_storage(task);
                fx.extend(
                    self.nodes[SERVER]
                        .core
                        .handle(self.now, Event::IoComplete(result)),
                );
            }
        }
        all
    }

    pub(super) fn create(&mut self, node: usize, doc: Automerge) -> DocumentId {
        let id = DocumentId::from_bytes(rand_bytes(node as u64 * 7919 + self.next_conn));
        self.next_conn += 1;
        let fx = self.nodes[node]
            .core
            .create_document(id, doc)
            .expect("new document");
        self.apply_effects(node, fx);
        id
    }

    pub(super) fn change(
        &mut self,
        node: usize,
        id: DocumentId,
        edit: impl FnOnce(&mut Automerge),
    ) {
        let ((), fx) = self.nodes[node]
            .core
            .change_document(id, edit)
            .expect("loaded document");
        self.apply_effects(node, fx);
    }

    pub(super) fn find(&mut self, node: usize, id: DocumentId) {
        let fx = self.nodes[node].core.find(id);
        self.apply_effects(node, fx);
    }

    pub(super) fn tick(&mut self, advance: Duration) {
        self.now = self.now.plus(advance);
        for node in 0..self.nodes.len() {
            self.event(node, Event::Tick);
        }
    }

    pub(super) fn doc(&self, node: usize, id: &DocumentId) -> &Automerge {
        self.nodes[node].core.document(id).expect("document loaded")
    }

    /// A node's copy, unpacked if the node had packed it.
    pub(super) fn open_doc(&mut self, node: usize, id: &DocumentId) -> &Automerge {
        self.nodes[node]
            .core
            .open_document(id)
            .expect("document loaded")
    }
}

impl Node {
    pub(super) fn new(config: CoreConfig) -> Self {
        Self {
            core: SyncCore::new(config),
            stored: HashMap::new(),
            index: HashMap::new(),
            held: VecDeque::new(),
            pause_storage: false,
        }
    }

    pub(super) fn run_storage(&mut self, task: StorageTask) -> IoResult {
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

pub(super) fn rand_bytes(seed: u64) -> [u8; 16] {
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

pub(super) fn doc_with_text(actor: u8, text: &str) -> Automerge {
    let mut doc = Automerge::new();
    doc.set_actor(automerge::ActorId::from(vec![actor; 16]));
    let mut tx = doc.transaction();
    let words = tx.put_object(ROOT, "words", ObjType::Text).expect("text");
    tx.splice_text(&words, 0, 0, text).expect("splice");
    tx.commit();
    doc
}

pub(super) fn text_of(doc: &Automerge) -> String {
    let (_, words) = doc.get(ROOT, "words").expect("get").expect("words present");
    doc.text(&words).expect("text")
}

pub(super) fn append(doc: &mut Automerge, text: &str) {
    let (_, words) = doc.get(ROOT, "words").expect("get").expect("words");
    let len = doc.length(&words);
    let mut tx = doc.transaction();
    tx.splice_text(&words, len, 0, text).expect("splice");
    tx.commit();
}

pub(super) fn visit_for(child: &str, actor: u8) -> Automerge {
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
pub(super) fn may_create_for(child: &str) -> AccessGrant {
    AccessGrant {
        children: [(child.to_owned(), Access::ReadWrite)].into(),
        may_create_for: [child.to_owned()].into(),
        author: Some("worker".into()),
        former: Default::default(),
    }
}

/// Access to one child's documents only.
pub(super) fn holding(child: &str, access: Access) -> AccessGrant {
    AccessGrant {
        children: [(child.to_owned(), access)].into(),
        ..AccessGrant::default()
    }
}

pub(super) fn unavailable_sent_to(net: &Network, client: usize, id: DocumentId) -> bool {
    let peer = format!("client-{}", client - 1);
    net.sent.iter().any(|(node, m)| {
        *node == SERVER
            && matches!(m, Message::DocUnavailable { target_id, document_id, .. }
                if target_id.as_str() == peer && *document_id == id)
    })
}
