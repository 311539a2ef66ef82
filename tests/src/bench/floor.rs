//! The floor: the CPU automerge alone takes to load one new visit from the sync message a
//! client sends for it, the cost no server can avoid while checking what it accepts.
//!
//! For each fixture document, the messages are made as a client and an empty server would
//! exchange them (the client's first message, the empty document's answer, then the
//! client's message carrying every change), before anything is timed. Then, on one
//! thread, its CPU time read from `/proc/thread-self/schedstat` (nanoseconds):
//! - **load**: `sync::Message::decode` and `load_incremental` of its changes into a new
//!   document, which is what Doorstep does with a new visit (`Incoming::preload`);
//! - **receive**: `receive_sync_message` of the decoded message into a new document with
//!   a fresh sync state, automerge's own way.
//!
//! The floor is the cheaper of the two, per document.

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use serde::Serialize;

use super::meter::this_thread_cpu_ns;

/// The floor over a set of documents.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Floor {
    /// Documents measured.
    pub documents: usize,
    /// Mean bytes of the sync message carrying a document's changes.
    pub message_bytes: f64,
    /// Changes per document (of the first).
    pub changes: usize,
    /// Decode + `load_incremental`, CPU ms per document.
    pub load_ms: f64,
    /// Decode + `receive_sync_message` into an empty document, CPU ms per document.
    pub receive_ms: f64,
    /// The cheaper of the two: the floor, CPU ms per document.
    pub floor_ms: f64,
}

/// The encoded sync message carrying all of `doc`'s changes, as a client sends it to a
/// server that holds nothing of the document.
pub fn first_changes_message(doc: &Automerge) -> Vec<u8> {
    let mut client_state = sync::State::new();
    let mut server = Automerge::new();
    let mut server_state = sync::State::new();
    // A few rounds: the first client message only announces heads.
    for _ in 0..4 {
        let Some(message) = doc.generate_sync_message(&mut client_state) else {
            break;
        };
        if !message.changes.is_empty() {
            return message.encode();
        }
        if server
            .receive_sync_message(&mut server_state, message)
            .is_err()
        {
            break;
        }
        if let Some(reply) = server.generate_sync_message(&mut server_state) {
            let mut client = doc.clone();
            let _ = client.receive_sync_message(&mut client_state, reply);
        }
    }
    Vec::new()
}

/// Measures the floor over `docs` (on the calling thread; call it from a blocking one).
pub fn measure(docs: &[Automerge]) -> Floor {
    let messages: Vec<Vec<u8>> = docs.iter().map(first_changes_message).collect();
    let messages: Vec<Vec<u8>> = messages.into_iter().filter(|m| !m.is_empty()).collect();
    if messages.is_empty() {
        return Floor::default();
    }
    let count = messages.len() as f64;
    let per_doc_ms = |ns: u64| ns as f64 / 1e6 / count;

    let started = this_thread_cpu_ns();
    for bytes in &messages {
        let Ok(message) = sync::Message::decode(bytes) else {
            continue;
        };
        let joined: Vec<u8> = message.changes.iter().flatten().copied().collect();
        let mut loaded = Automerge::new();
        let _ = loaded.load_incremental(&joined);
        std::hint::black_box(&loaded);
    }
    let load_ms = per_doc_ms(this_thread_cpu_ns().saturating_sub(started));

    let started = this_thread_cpu_ns();
    for bytes in &messages {
        let Ok(message) = sync::Message::decode(bytes) else {
            continue;
        };
        let mut received = Automerge::new();
        let mut state = sync::State::new();
        let _ = received.receive_sync_message(&mut state, message);
        std::hint::black_box(&received);
    }
    let receive_ms = per_doc_ms(this_thread_cpu_ns().saturating_sub(started));

    Floor {
        documents: messages.len(),
        message_bytes: messages.iter().map(Vec::len).sum::<usize>() as f64 / count,
        changes: docs.first().map_or(0, |d| d.get_changes(&[]).len()),
        load_ms,
        receive_ms,
        floor_ms: load_ms.min(receive_ms),
    }
}
