//! The device's one clock: the browser's time of day, read here and nowhere else.
//!
//! The sync core never reads a clock; the device driver passes it [`now`] with each event,
//! and the guard (PIN waits, last contact) and the records' times take [`now_ms`]. The
//! tidy test checks that no other file of the crate reads the time.

use shared::sync::Timestamp;

/// Milliseconds since the Unix epoch, by the device's clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The time as the sync core takes it.
pub fn now() -> Timestamp {
    Timestamp::from_millis(now_ms() as u64)
}
