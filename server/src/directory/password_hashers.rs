//! [`PasswordHashers`]: a fixed pool of threads that check passwords with Argon2id, each
//! reusing one memory buffer for every check it makes.
//!
//! Argon2id with our parameters ([`HASH_MEMORY_KIB`], 2 passes) needs 19 MiB per check.
//! Run on whichever blocking thread served the request, each check allocated its 19 MiB
//! afresh and the allocator kept it per thread: thirty sign-ins took an idle server from 9
//! to 105 MiB for good. Here a fixed number of threads (one per core by default) each own
//! one buffer, allocated at its first check and reused for every later one, so checking
//! passwords never holds more than `threads × 19 MiB`, however many people sign in.
//!
//! Checks beyond the pool's threads wait in a queue, each with a deadline: one still
//! waiting when its deadline passes (or arriving at a full queue) is answered
//! [`HashError::Busy`] with a time to retry, which the API turns into `503` and
//! `Retry-After`. The caller has already counted the attempt against the lockout (see
//! `sessions`); a busy answer checked nothing, so the caller may give the allowance back.
//!
//! An unknown username costs the same as a known one: the password is hashed with a
//! fixed salt and the answer is "no".

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;
use tracing::{debug, warn};

/// Argon2id memory per check, in KiB (19 MiB, OWASP's first recommendation).
pub const HASH_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const HASH_PASSES: u32 = 2;
/// Salt for checking a password against an unknown username (the answer is always "no";
/// the salt only makes the work the same as for a real hash).
const UNKNOWN_USER_SALT: &[u8] = b"doorstep-unknown-user";

/// Why a password was not checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// Too many sign-ins at once: it waited past its deadline or the queue was full.
    #[error("too many people are signing in at once; try again in {retry_after_secs} seconds")]
    Busy {
        /// A guess at when the queue will have room.
        retry_after_secs: u64,
    },
    /// The pool is shutting down.
    #[error("the server is stopping")]
    Stopped,
}

/// The pool's counters (read by `/metrics`).
#[derive(Debug, Default)]
pub struct HasherStats {
    /// Checks waiting for a thread now.
    pub queued: AtomicUsize,
    /// Checks made.
    pub checked: AtomicU64,
    /// Checks refused busy.
    pub refused_busy: AtomicU64,
    /// Microseconds spent hashing, over all checks (the mean paces `Retry-After`).
    pub hashing_micros: AtomicU64,
}

impl HasherStats {
    /// The mean time one check takes (40 ms until one was made).
    fn mean_check(&self) -> Duration {
        let checked = self.checked.load(Ordering::Relaxed);
        if checked == 0 {
            return Duration::from_millis(40);
        }
        Duration::from_micros(self.hashing_micros.load(Ordering::Relaxed) / checked)
    }
}

struct Job {
    password: String,
    /// The stored PHC hash; `None` for an unknown username.
    stored: Option<String>,
    deadline: Instant,
    reply: oneshot::Sender<Result<bool, HashError>>,
}

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    threads: usize,
    capacity: usize,
    stats: Arc<HasherStats>,
}

impl Shared {
    fn retry_after(&self, queued: usize) -> u64 {
        let rounds = (queued / self.threads.max(1)) as u32 + 1;
        (self.stats.mean_check() * rounds).as_secs().clamp(1, 60)
    }
}

/// A fixed pool of password-checking threads (see the module doc).
pub struct PasswordHashers {
    shared: Arc<Shared>,
}

impl PasswordHashers {
    /// Starts `threads` checking threads (at least one) with room for `capacity` waiting
    /// checks.
    ///
    /// # Errors
    /// The OS error if a thread cannot be spawned.
    pub fn start(threads: usize, capacity: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
            }),
            wake: Condvar::new(),
            threads,
            capacity: capacity.max(1),
            stats: Arc::new(HasherStats::default()),
        });
        for index in 0..threads {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("doorstep-argon2-{index}"))
                .spawn(move || work(&shared))?;
        }
        Ok(Self { shared })
    }

    /// The default size: one thread per core.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    }

    /// The pool's counters.
    pub fn stats(&self) -> Arc<HasherStats> {
        self.shared.stats.clone()
    }

    /// Checks `password` against `stored` (a PHC string; `None` for an unknown user, which
    /// is never right but costs the same), waiting at most `wait` for a free thread.
    ///
    /// # Errors
    /// [`HashError::Busy`] if it could not start within `wait` or the queue is full,
    /// [`HashError::Stopped`] if the pool has stopped.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
        wait: Duration,
    ) -> Result<bool, HashError> {
        let (reply, answer) = oneshot::channel();
        {
            let mut queue = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if queue.closed {
                return Err(HashError::Stopped);
            }
            if queue.jobs.len() >= self.shared.capacity {
                self.shared
                    .stats
                    .refused_busy
                    .fetch_add(1, Ordering::Relaxed);
                return Err(HashError::Busy {
                    retry_after_secs: self.shared.retry_after(queue.jobs.len()),
                });
            }
            queue.jobs.push_back(Job {
                password,
                stored,
                deadline: crate::clock::monotonic() + wait,
                reply,
            });
            self.shared
                .stats
                .queued
                .store(queue.jobs.len(), Ordering::Relaxed);
        }
        self.shared.wake.notify_one();
        answer.await.unwrap_or(Err(HashError::Stopped))
    }

    /// Stops the threads once the queue is empty; checks asked for later fail.
    pub fn close(&self) {
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        queue.closed = true;
        drop(queue);
        self.shared.wake.notify_all();
    }
}

impl Drop for PasswordHashers {
    fn drop(&mut self) {
        self.close();
    }
}

/// One checking thread: takes jobs until the pool closes, with one buffer for all of them.
fn work(shared: &Shared) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    shared
                        .stats
                        .queued
                        .store(queue.jobs.len(), Ordering::Relaxed);
                    break Some((job, queue.jobs.len()));
                }
                if queue.closed {
                    break None;
                }
                queue = shared
                    .wake
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let Some((job, still_queued)) = job else {
            return;
        };
        if crate::clock::monotonic() > job.deadline {
            shared.stats.refused_busy.fetch_add(1, Ordering::Relaxed);
            let _ = job.reply.send(Err(HashError::Busy {
                retry_after_secs: shared.retry_after(still_queued),
            }));
            continue;
        }
        if job.reply.is_closed() {
            // The request went away (its client hung up): nobody to answer.
            continue;
        }
        let started = crate::clock::monotonic();
        let right = check(&job.password, job.stored.as_deref(), &mut memory);
        let took = started.elapsed();
        shared.stats.checked.fetch_add(1, Ordering::Relaxed);
        shared
            .stats
            .hashing_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        debug!(took_ms = took.as_millis() as u64, "password checked");
        let _ = job.reply.send(Ok(right));
    }
}

/// The parameters every hash this server makes uses.
pub fn hash_params() -> Params {
    // Valid constants: `Params::new` fails only outside Argon2's ranges.
    Params::new(HASH_MEMORY_KIB, HASH_PASSES, 1, None).unwrap_or_default()
}

/// Whether `password` matches the PHC hash `stored` (`None`: an unknown user, never),
/// hashing in `memory`, which grows to the blocks the hash needs and is kept for the next
/// call. The work is the same whether or not the user exists.
pub fn check(password: &str, stored: Option<&str>, memory: &mut Vec<Block>) -> bool {
    let parsed = stored.and_then(|stored| PasswordHash::new(stored).ok());
    let Some(parsed) = parsed else {
        // Unknown user (or an unreadable stored hash): the same work, then "no".
        let params = hash_params();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; 32];
        grow(memory, params.block_count());
        let _ = argon.hash_password_into_with_memory(
            password.as_bytes(),
            UNKNOWN_USER_SALT,
            &mut out,
            &mut memory[..],
        );
        return false;
    };
    let (Ok(algorithm), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if params.block_count() > HASH_MEMORY_KIB as usize {
        warn!(
            kib = params.m_cost(),
            "a stored password hash needs more memory than the pool's hashes"
        );
    }
    grow(memory, params.block_count());
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// Grows `memory` to at least `blocks` (it never shrinks: the next check reuses it).
fn grow(memory: &mut Vec<Block>, blocks: usize) {
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashed(password: &str) -> String {
        crate::directory::hash_password(password).expect("hash")
    }

    #[test]
    fn the_right_password_matches_and_others_do_not() {
        let stored = hashed("correct horse battery staple");
        let mut memory = Vec::new();
        assert!(check(
            "correct horse battery staple",
            Some(&stored),
            &mut memory
        ));
        assert!(!check("wrong horse", Some(&stored), &mut memory));
        assert!(!check("correct horse battery staple", None, &mut memory));
        assert!(!check("anything", Some("not a phc string"), &mut memory));
        // One buffer, sized once for every check.
        assert_eq!(memory.len(), HASH_MEMORY_KIB as usize);
    }

    #[tokio::test]
    async fn the_pool_answers_and_a_check_past_its_deadline_is_busy() {
        let stored = hashed("a long enough password");
        let pool = PasswordHashers::start(1, 8).expect("pool");
        assert_eq!(
            pool.verify(
                "a long enough password".into(),
                Some(stored.clone()),
                Duration::from_secs(30)
            )
            .await,
            Ok(true)
        );
        // Fill the one thread, then ask with no time to wait: the second is refused.
        let slow = pool.verify("x".into(), Some(stored.clone()), Duration::from_secs(30));
        let hurried = pool.verify("y".into(), Some(stored), Duration::ZERO);
        let (slow, hurried) = tokio::join!(slow, hurried);
        assert_eq!(slow, Ok(false));
        assert!(
            matches!(hurried, Err(HashError::Busy { .. })),
            "{hurried:?}"
        );
        pool.close();
        assert_eq!(
            pool.verify("z".into(), None, Duration::from_secs(1)).await,
            Err(HashError::Stopped)
        );
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let pool = PasswordHashers::start(1, 1).expect("pool");
        let checks: Vec<_> = (0..4)
            .map(|i| pool.verify(format!("p{i}"), None, Duration::from_secs(30)))
            .collect();
        let answers = futures::future::join_all(checks).await;
        assert!(
            answers
                .iter()
                .any(|a| matches!(a, Err(HashError::Busy { .. }))),
            "{answers:?}"
        );
        assert!(answers.contains(&Ok(false)), "{answers:?}");
    }
}
