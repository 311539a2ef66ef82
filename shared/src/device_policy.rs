//! [`DevicePolicy`]: what a worker's device does about wrong PINs and long silences
//! (domain requirement D7), set by the council on the server and applied offline by the
//! device, which gets it in the sign-in answer (`devicePolicy`).

/// The rules a worker's device applies offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePolicy {
    /// Wrong PINs in a row after which the device makes the worker wait.
    pub pin_attempts_before_wait: u32,
    /// How long it waits, in seconds, after each wrong PIN from then on.
    pub pin_wait_secs: u32,
    /// Wrong PINs in a row after which the device wipes its records.
    pub pin_attempts_before_wipe: u32,
    /// Days without reaching the server after which the device wipes its records on its
    /// next opening.
    pub offline_wipe_days: u32,
    /// How many days before that wipe the worker is warned, each time the app opens.
    pub offline_warning_days: u32,
}

impl DevicePolicy {
    /// The policy made consistent, as both ends apply it: at least one wrong PIN before a
    /// wait, a wipe only after the wait has started, at least one day before an offline wipe.
    #[must_use]
    pub fn consistent(self) -> Self {
        let before_wait = self.pin_attempts_before_wait.max(1);
        DevicePolicy {
            pin_attempts_before_wait: before_wait,
            pin_attempts_before_wipe: self.pin_attempts_before_wipe.max(before_wait + 1),
            offline_wipe_days: self.offline_wipe_days.max(1),
            ..self
        }
    }
}

impl Default for DevicePolicy {
    /// 5 wrong PINs, then a 60-second wait after each; 10 wipe. 30 days without contact
    /// wipe, warned from 7 days before.
    fn default() -> Self {
        DevicePolicy {
            pin_attempts_before_wait: 5,
            pin_wait_secs: 60,
            pin_attempts_before_wipe: 10,
            offline_wipe_days: 30,
            offline_warning_days: 7,
        }
    }
}
