//! The one gate every argon2id call passes (sign-in, password change, reset, invitation
//! accept, `user create`, the demo seed). Each call holds 19 MiB and a blocking thread, so a
//! flood of any of them must neither run nor queue without bound: a few run at once, a few more
//! wait their turn, and the rest are told at once to retry (429).
//!
//! It lives on the [`Db`](crate::db::Db), so every caller that can reach a user's row reaches
//! the gate too, including the CLI and the seed, which have no `AppState`.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use latchkey_domain::error::{AppError, AppResult};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{Semaphore, TryAcquireError};

/// How many password hashes run at once: two per core, at least four.
pub fn hashing_turns() -> usize {
    (std::thread::available_parallelism().map_or(2, |n| n.get()) * 2).max(4)
}

/// Cheap to clone: every clone is the same gate.
#[derive(Clone)]
pub struct Hasher(Arc<Gate>);

struct Gate {
    turns: Arc<Semaphore>,
    /// Callers allowed to wait for a turn; past it they are refused.
    queue: usize,
    waiting: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    refused: AtomicU64,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new(hashing_turns(), hashing_turns())
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("turns", &self.0.turns.available_permits())
            .field("queue", &self.0.queue)
            .finish_non_exhaustive()
    }
}

/// A place in the wait queue, given back however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a hash as running for as long as it runs (also if it panics).
struct Running(Arc<Gate>);

impl Running {
    fn start(gate: Arc<Gate>) -> Self {
        let now = gate.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        gate.peak.fetch_max(now, Ordering::SeqCst);
        Self(gate)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    /// `turns` hashes at once, `queue` more callers waiting.
    pub fn new(turns: usize, queue: usize) -> Self {
        Self(Arc::new(Gate {
            turns: Arc::new(Semaphore::new(turns.max(1))),
            queue,
            waiting: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
        }))
    }

    /// The most hashes that ever ran at once (tests and metrics).
    pub fn peak_in_flight(&self) -> usize {
        self.0.peak.load(Ordering::SeqCst)
    }

    /// Hashes running now.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.load(Ordering::SeqCst)
    }

    /// Calls refused because every turn and queue place was taken.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::SeqCst)
    }

    /// Runs `work` on the blocking pool once a turn is free. The turn is held by the blocking
    /// task itself: a caller that goes away mid-hash does not free it before the memory is.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let gate = &self.0;
        let turn = match gate.turns.clone().try_acquire_owned() {
            Ok(turn) => turn,
            Err(TryAcquireError::Closed) => return Err(AppError::internal("hasher closed")),
            Err(TryAcquireError::NoPermits) => {
                let place = Waiting(&gate.waiting);
                if gate.waiting.fetch_add(1, Ordering::SeqCst) >= gate.queue {
                    drop(place);
                    gate.refused.fetch_add(1, Ordering::SeqCst);
                    tracing::warn!("refused: every password-hashing turn and queue place is taken");
                    return Err(AppError::RateLimited {
                        retry_after_secs: 1,
                    });
                }
                let turn = gate
                    .turns
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(AppError::internal)?;
                drop(place);
                turn
            }
        };
        let gate = gate.clone();
        tokio::task::spawn_blocking(move || {
            let running = Running::start(gate);
            let out = work();
            // Counted out before the turn is given back, so the peak never overstates.
            drop(running);
            drop(turn);
            out
        })
        .await
        .map_err(AppError::internal)
    }

    /// argon2id with the crate's defaults (19 MiB, 2 passes).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(AppError::internal)
    }

    /// Whether `password` matches the stored hash; a malformed hash counts as a mismatch.
    pub async fn verify(&self, password: String, phc: String) -> AppResult<bool> {
        self.run(move || {
            PasswordHash::new(&phc)
                .map(|h| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_turns_and_the_queue_callers_are_refused_at_once() {
        let gate = Hasher::new(2, 1);
        let calls = (0..12).map(|_| gate.hash("correct horse battery".into()));
        let answers = futures_util::future::join_all(calls).await;
        let refused = answers
            .iter()
            .filter(|a| matches!(a, Err(AppError::RateLimited { .. })))
            .count();
        assert!(gate.peak_in_flight() <= 2, "{}", gate.peak_in_flight());
        assert!(refused >= 9, "{refused}");
        assert_eq!(gate.refused(), refused as u64);
        assert_eq!(
            answers.len() - refused,
            answers.iter().filter(|a| a.is_ok()).count()
        );
        assert_eq!(gate.in_flight(), 0);
    }
}
