//! [`Guard`]: what the device keeps in plain text beside the wrapped key, so it can act
//! before (or without) the PIN: the council's [`DevicePolicy`] (wrong PINs, days without
//! reaching the server), the wrong PINs in a row and until when to wait, when the server
//! was last reached, how many records the server does not have yet, an offline sign-out
//! still to tell the server, and what the worker must be told after a wipe.
//!
//! None of it is about a child: numbers, times, a SHA-256 of a refresh token (which
//! authenticates nothing) and the words of a notice. It is one record (`guard`) in the
//! vault store, written whole after each change; a wipe clears it and writes it back
//! with only the notice and the pending sign-out.

use wasm_bindgen::JsValue;

use crate::js::{self, Obj};

pub use shared::device_policy::DevicePolicy;

/// The policy from the server's camelCase object (`devicePolicy`); missing or odd values
/// take the defaults, and the result is made [`DevicePolicy::consistent`].
pub fn policy_from_js(value: &JsValue) -> DevicePolicy {
    let default = DevicePolicy::default();
    let number = |key: &str, fallback: u32| {
        js::number(value, key)
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(fallback, |n| n as u32)
    };
    DevicePolicy {
        pin_attempts_before_wait: number("pinAttemptsBeforeWait", default.pin_attempts_before_wait),
        pin_wait_secs: number("pinWaitSecs", default.pin_wait_secs),
        pin_attempts_before_wipe: number("pinAttemptsBeforeWipe", default.pin_attempts_before_wipe),
        offline_wipe_days: number("offlineWipeDays", default.offline_wipe_days),
        offline_warning_days: number("offlineWarningDays", default.offline_warning_days),
    }
    .consistent()
}

fn policy_to_js(policy: DevicePolicy) -> JsValue {
    Obj::new()
        .set(
            "pinAttemptsBeforeWait",
            policy.pin_attempts_before_wait as usize,
        )
        .set("pinWaitSecs", policy.pin_wait_secs as usize)
        .set(
            "pinAttemptsBeforeWipe",
            policy.pin_attempts_before_wipe as usize,
        )
        .set("offlineWipeDays", policy.offline_wipe_days as usize)
        .set("offlineWarningDays", policy.offline_warning_days as usize)
        .done()
}

/// What a wrong PIN leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongPin {
    /// Try again; `before_wait` more wrong PINs make the device wait, `before_wipe` wipe it.
    TryAgain {
        /// Wrong PINs left before the device waits (0: it waits after each from now).
        before_wait: u32,
        /// Wrong PINs left before it wipes.
        before_wipe: u32,
    },
    /// Wait this many seconds before the next try.
    Wait {
        /// Seconds.
        seconds: u32,
        /// Wrong PINs left before it wipes.
        before_wipe: u32,
    },
    /// Too many: wipe the device.
    Wipe,
}

const DAY_MS: f64 = 86_400_000.0;

/// The device's plain-text record (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// The council's policy, as last told by the server.
    pub policy: DevicePolicy,
    /// Wrong PINs in a row.
    pub failures: u32,
    /// No PIN is tried before this time (ms since the epoch).
    pub wait_until: f64,
    /// When the server last answered this device (ms); 0 if never.
    pub last_contact: f64,
    /// How many records the server does not have yet.
    pub unsent: usize,
    /// An offline sign-out to tell the server: the hex SHA-256 of the refresh token.
    pub pending_sign_out: Option<String>,
    /// What to tell the worker after a wipe: `{kind, unsent, at}`, or `null`.
    pub notice: JsValue,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            policy: DevicePolicy::default(),
            failures: 0,
            wait_until: 0.0,
            last_contact: 0.0,
            unsent: 0,
            pending_sign_out: None,
            notice: JsValue::NULL,
        }
    }
}

impl Guard {
    /// The stored record's value.
    pub fn to_js(&self) -> JsValue {
        Obj::new()
            .set("policy", policy_to_js(self.policy))
            .set("failures", self.failures as usize)
            .set("waitUntil", self.wait_until)
            .set("lastContact", self.last_contact)
            .set("unsent", self.unsent)
            .set("pendingSignOut", self.pending_sign_out.as_ref())
            .set("notice", self.notice.clone())
            .done()
    }

    /// From the stored record (missing values take the defaults).
    pub fn from_js(value: &JsValue) -> Guard {
        Guard {
            policy: policy_from_js(&js::get(value, "policy")),
            failures: js::number(value, "failures").map_or(0, |n| n as u32),
            wait_until: js::number(value, "waitUntil").unwrap_or(0.0),
            last_contact: js::number(value, "lastContact").unwrap_or(0.0),
            unsent: js::number(value, "unsent").map_or(0, |n| n as usize),
            pending_sign_out: js::text(value, "pendingSignOut"),
            notice: match js::get(value, "notice") {
                notice if notice.is_object() => notice,
                _ => JsValue::NULL,
            },
        }
    }

    /// Counts a wrong PIN at `now` and says what follows.
    pub fn wrong_pin(&mut self, now: f64) -> WrongPin {
        self.failures = self.failures.saturating_add(1);
        let policy = self.policy;
        if self.failures >= policy.pin_attempts_before_wipe {
            return WrongPin::Wipe;
        }
        let before_wipe = policy.pin_attempts_before_wipe - self.failures;
        if self.failures >= policy.pin_attempts_before_wait {
            self.wait_until = now + f64::from(policy.pin_wait_secs) * 1000.0;
            return WrongPin::Wait {
                seconds: policy.pin_wait_secs,
                before_wipe,
            };
        }
        WrongPin::TryAgain {
            before_wait: policy.pin_attempts_before_wait - self.failures,
            before_wipe,
        }
    }

    /// Seconds still to wait before a PIN may be tried at `now` (0: none).
    pub fn wait_left(&self, now: f64) -> u32 {
        ((self.wait_until - now) / 1000.0).ceil().max(0.0) as u32
    }

    /// Whether the device has been without the server too long at `now` and must wipe.
    pub fn contact_expired(&self, now: f64) -> bool {
        self.last_contact > 0.0
            && now - self.last_contact > f64::from(self.policy.offline_wipe_days) * DAY_MS
    }

    /// Whole days left before the device wipes for want of contact, once within the
    /// warning window; `None` before it (or if the server was never reached).
    pub fn contact_days_left(&self, now: f64) -> Option<u32> {
        if self.last_contact <= 0.0 {
            return None;
        }
        let deadline = self.last_contact + f64::from(self.policy.offline_wipe_days) * DAY_MS;
        let left = ((deadline - now) / DAY_MS).ceil().max(0.0) as u32;
        (left <= self.policy.offline_warning_days).then_some(left)
    }

    /// What the unlock screen says about PINs: `{failures, beforeWait, beforeWipe,
    /// waitSeconds}`.
    pub fn pin_state(&self, now: f64) -> JsValue {
        let policy = self.policy;
        Obj::new()
            .set("failures", self.failures as usize)
            .set(
                "beforeWait",
                policy
                    .pin_attempts_before_wait
                    .saturating_sub(self.failures) as usize,
            )
            .set(
                "beforeWipe",
                policy
                    .pin_attempts_before_wipe
                    .saturating_sub(self.failures) as usize,
            )
            .set("waitSeconds", self.wait_left(now) as usize)
            .done()
    }
}

/// The notice after a wipe: `kind` (`signedOut`, `revoked`, `pinWipe`, `offlineWipe`),
/// how many records that had not reached the server went with it, and when.
pub fn notice(kind: &str, unsent: usize, at: f64) -> JsValue {
    Obj::new()
        .set("kind", kind)
        .set("unsent", unsent)
        .set("at", at)
        .done()
}
