//! [`Pacer`]: at most so many sync messages a second from one connection.
//!
//! A token bucket: a connection may send `burst` messages at once (a tablet reconnecting
//! offers one message per record it holds), then `per_second` on average. A faster peer
//! is not refused: its socket is simply read more slowly, so TCP pushes back on it while
//! every other connection is read as usual.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket for one connection's messages.
#[derive(Debug)]
pub struct Pacer {
    tokens: f64,
    per_second: f64,
    burst: f64,
    last: Instant,
}

impl Pacer {
    /// A full bucket of `burst` messages, refilled at `per_second`.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            tokens: burst,
            per_second: f64::from(per_second.max(1)),
            burst,
            last: crate::clock::reactor_instant(),
        }
    }

    /// How long the next message must wait (zero while the bucket holds a token); takes
    /// the token.
    pub fn delay(&mut self) -> Duration {
        let now = crate::clock::reactor_instant();
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pacer;

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_messages_come_at_the_rate() {
        let mut pacer = Pacer::new(100, 10);
        for _ in 0..10 {
            assert!(pacer.delay().is_zero());
        }
        let wait = pacer.delay();
        assert!(
            wait > std::time::Duration::from_millis(9)
                && wait <= std::time::Duration::from_millis(11)
        );
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        // A second refills a hundred, the bucket holds ten.
        for _ in 0..9 {
            assert!(pacer.delay().is_zero());
        }
    }
}
