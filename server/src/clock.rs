//! [`Clock`]: the server's one source of the time of day, passed in rather than read.
//!
//! Everything on the server that needs the time (session expiry, audit rows, the hub's
//! `Timestamp` for each event, stored chunks, the lock file) asks the [`Clock`] it was
//! given; tests give a [`Clock::fixed`] one and move it with [`Clock::set`]. This file is
//! the only one that reads the system clock (the tidy test checks), so no function can
//! quietly use a time other than the one its caller passed.
//!
//! [`monotonic`] and [`reactor_instant`] are the other readings allowed here: elapsed time
//! for group-commit windows, timing logs and pacing, never a time of day that is stored or
//! compared with one.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use shared::sync::Timestamp;

/// The time of day, in milliseconds since the Unix epoch: the system's or a test's.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None` reads the system clock; `Some` is a test's hand-set time, shared by clones.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock standing at `millis` until [`Clock::set`] moves it (clones move with it).
    pub fn fixed(millis: i64) -> Self {
        Self {
            fixed: Some(Arc::new(AtomicI64::new(millis))),
        }
    }

    /// Moves a fixed clock to `millis`; the system clock ignores it.
    pub fn set(&self, millis: i64) {
        if let Some(fixed) = &self.fixed {
            fixed.store(millis, Ordering::SeqCst);
        }
    }

    /// Milliseconds since the Unix epoch (0 if the system clock is before it).
    pub fn now_ms(&self) -> i64 {
        match &self.fixed {
            Some(fixed) => fixed.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
                }),
        }
    }

    /// The time as the sync core takes it.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(u64::try_from(self.now_ms()).unwrap_or(0))
    }
}

/// A monotonic instant, for measuring elapsed time only (commit windows, timing logs).
pub fn monotonic() -> Instant {
    Instant::now()
}

/// The async runtime's monotonic instant (pacing): tests that pause tokio's time move it.
pub fn reactor_instant() -> tokio::time::Instant {
    tokio::time::Instant::now()
}
