//! [`Incoming`]: a peer's frame decoded ahead of the core, so that the costly, stateless
//! part of receiving can run on any thread.
//!
//! Receiving a new visit means loading its sync message's changes into an empty document:
//! automerge rebuilds every change to check its hash, about a millisecond for a visit typed
//! in many small bursts. That work depends only on the bytes, so a driver with spare cores
//! calls [`Incoming::decode`] (cheap), then [`Incoming::preload`] on a worker thread when
//! [`Incoming::has_changes`], and hands the result to the core with
//! [`super::Event::ReceivedDecoded`]. The core uses the loaded document only where it would
//! have loaded exactly those bytes itself: into a document it holds nothing of. Everywhere
//! else it applies the message as usual, so a preload never changes what the core does.
//!
//! On a server, decoding also runs [`super::check_sync_message`] first: automerge never
//! sees a sync message outside the core's [`super::SyncLimits`].

use automerge::{Automerge, sync};

use super::CoreConfig;
use crate::DocumentId;
use crate::protocol::{DecodeError, Message};

/// One decoded frame, perhaps with its changes already loaded.
#[derive(Debug)]
pub struct Incoming {
    /// The protocol message, or why the frame is not one.
    pub(crate) message: Result<Message, DecodeError>,
    /// The automerge sync message inside a `sync` or `request`, decoded.
    pub(crate) sync: Option<Result<sync::Message, String>>,
    /// The sync message's changes loaded into a fresh document ([`Incoming::preload`]).
    pub(crate) preloaded: Option<Box<Automerge>>,
}

impl Incoming {
    /// Decodes a frame (CBOR, then the sync message inside it, once it passes the core's
    /// checks if it has any); never fails: errors are kept for the core to answer as it
    /// would for the raw bytes.
    pub fn decode(bytes: &[u8], config: &CoreConfig) -> Self {
        let message = crate::protocol::decode(bytes);
        let sync = match &message {
            Ok(Message::Sync { data, .. } | Message::Request { data, .. }) => {
                Some(decode_sync(data, config))
            }
            _ => None,
        };
        Self {
            message,
            sync,
            preloaded: None,
        }
    }

    /// The document a `sync` or `request` is about (to name it if handling it fails).
    pub fn document(&self) -> Option<DocumentId> {
        match &self.message {
            Ok(Message::Sync { document_id, .. } | Message::Request { document_id, .. }) => {
                Some(*document_id)
            }
            _ => None,
        }
    }

    /// Whether the frame carries changes, so that [`Incoming::preload`] has work to do.
    pub fn has_changes(&self) -> bool {
        matches!(&self.sync, Some(Ok(message)) if !message.changes.is_empty())
    }

    /// Loads the changes into a fresh document, exactly as the core would load them into a
    /// document it holds nothing of. CPU-heavy; call it off the thread driving the core.
    /// Bytes automerge refuses are left for the core to refuse.
    pub fn preload(&mut self) {
        let Some(Ok(message)) = &self.sync else {
            return;
        };
        if message.changes.is_empty() {
            return;
        }
        let bytes: Vec<u8> = message.changes.iter().flatten().copied().collect();
        let mut doc = Automerge::new();
        if doc.load_incremental(&bytes).is_ok() {
            self.preloaded = Some(Box::new(doc));
        }
    }
}

/// An automerge sync message, checked first where the core checks its peers.
pub(super) fn decode_sync(data: &[u8], config: &CoreConfig) -> Result<sync::Message, String> {
    if let Some(checks) = &config.peer_checks {
        (checks.message)(data, &config.limits).map_err(|err| err.to_string())?;
    }
    sync::Message::decode(data).map_err(|err| err.to_string())
}
