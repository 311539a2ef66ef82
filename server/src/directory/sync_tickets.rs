//! [`SyncTickets`]: single-use tickets for opening `/sync`, held in memory.
//!
//! A browser cannot put a header on a WebSocket, so the PWA first asks
//! `POST /api/sync-ticket` (with its bearer token) for a ticket and opens
//! `/sync?ticket=…`. A ticket is used once, lives [`TICKET_TTL_MS`], and is bound to the
//! session and device it was issued to: redeeming it yields that session, which must still
//! be valid then. It was a row in SQLite, written with an fsync on issue and updated on
//! use: ~12 ms per ticket on an idle server and seconds at p95 while a storm held the
//! write lock. It needs none of that durability (a server restart only makes the client
//! ask for another), so tickets live here, in memory: issuing is a random draw, a hash and
//! a map insert; redeeming a map removal (then the caller checks the session).
//!
//! Only the SHA-256 of each ticket is kept, and tickets are never logged. Each session
//! holds at most [`MAX_TICKETS_PER_SESSION`] unused tickets (the oldest go first), and
//! expired ones are swept as new ones are issued, so a client asking in a loop cannot grow
//! the map.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::sessions::Identity;

/// How long a ticket is valid: it is used once, right after it is fetched.
pub const TICKET_TTL_MS: i64 = 30 * 1000;
/// Unused tickets one session may hold at once.
pub const MAX_TICKETS_PER_SESSION: usize = 16;

/// What a ticket was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketHolder {
    /// The session's row id.
    pub session_id: i64,
    /// The device the session is bound to.
    pub device_id: String,
}

#[derive(Debug)]
struct Issued {
    holder: TicketHolder,
    expires_at: i64,
}

#[derive(Debug, Default)]
struct Book {
    tickets: HashMap<[u8; 32], Issued>,
    /// Each session's unused tickets, oldest first.
    by_session: HashMap<i64, VecDeque<[u8; 32]>>,
    /// When expired tickets were last swept out.
    swept_at: i64,
}

/// The tickets issued and not yet used (see the module doc).
#[derive(Debug, Default)]
pub struct SyncTickets {
    book: Mutex<Book>,
}

fn ticket_hash(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

impl SyncTickets {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a ticket to `identity`'s session; returns it and when it expires.
    pub fn issue(&self, identity: &Identity, now: i64) -> (String, i64) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let expires_at = now + TICKET_TTL_MS;
        let hash = ticket_hash(&ticket);
        let mut guard = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let book = &mut *guard;
        if now - book.swept_at >= TICKET_TTL_MS {
            book.tickets.retain(|_, issued| issued.expires_at > now);
            let tickets = &book.tickets;
            book.by_session.retain(|_, held| {
                held.retain(|hash| tickets.contains_key(hash));
                !held.is_empty()
            });
            book.swept_at = now;
        }
        let held = book.by_session.entry(identity.session_id).or_default();
        while held.len() >= MAX_TICKETS_PER_SESSION {
            if let Some(oldest) = held.pop_front() {
                book.tickets.remove(&oldest);
            }
        }
        held.push_back(hash);
        book.tickets.insert(
            hash,
            Issued {
                holder: TicketHolder {
                    session_id: identity.session_id,
                    device_id: identity.device_id.clone(),
                },
                expires_at,
            },
        );
        (ticket, expires_at)
    }

    /// Uses up `ticket`: who it was issued to, if it was issued, unused and unexpired.
    /// A ticket is gone after this call whatever the answer.
    pub fn redeem(&self, ticket: &str, now: i64) -> Option<TicketHolder> {
        let hash = ticket_hash(ticket);
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let issued = book.tickets.remove(&hash)?;
        if let Some(held) = book.by_session.get_mut(&issued.holder.session_id) {
            held.retain(|other| *other != hash);
            if held.is_empty() {
                book.by_session.remove(&issued.holder.session_id);
            }
        }
        (issued.expires_at > now).then_some(issued.holder)
    }

    /// How many tickets are held (issued, unused, perhaps expired).
    pub fn len(&self) -> usize {
        self.book
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tickets
            .len()
    }

    /// Whether no ticket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Role;

    fn identity(session_id: i64) -> Identity {
        Identity {
            worker_id: 1,
            username: "sw".into(),
            display_name: "sw".into(),
            role: Role::SocialWorker,
            team_id: None,
            device_id: format!("dev-{session_id}"),
            session_id,
        }
    }

    #[test]
    fn a_ticket_is_used_once_within_its_life_and_names_its_session_and_device() {
        let tickets = SyncTickets::new();
        let (ticket, expires_at) = tickets.issue(&identity(7), 1_000);
        assert_eq!(expires_at, 1_000 + TICKET_TTL_MS);
        assert_eq!(
            tickets.redeem(&ticket, 2_000),
            Some(TicketHolder {
                session_id: 7,
                device_id: "dev-7".into()
            })
        );
        assert_eq!(tickets.redeem(&ticket, 2_000), None, "single use");
        let (late, _) = tickets.issue(&identity(7), 1_000);
        assert_eq!(
            tickets.redeem(&late, 1_000 + TICKET_TTL_MS),
            None,
            "expired"
        );
        assert_eq!(tickets.redeem("never issued", 1_000), None);
    }

    #[test]
    fn a_session_holds_a_bounded_number_and_expired_tickets_are_swept() {
        let tickets = SyncTickets::new();
        let first = tickets.issue(&identity(1), 0).0;
        for _ in 0..MAX_TICKETS_PER_SESSION + 10 {
            tickets.issue(&identity(1), 0);
        }
        assert_eq!(tickets.len(), MAX_TICKETS_PER_SESSION);
        assert_eq!(tickets.redeem(&first, 1), None, "the oldest went first");
        let other = tickets.issue(&identity(2), 0).0;
        // Past every ticket's life, the next issue sweeps them all out.
        tickets.issue(&identity(3), TICKET_TTL_MS * 2);
        assert_eq!(tickets.len(), 1);
        assert_eq!(tickets.redeem(&other, 1), None);
    }
}
