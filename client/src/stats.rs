//! Counters for tests and dashboards; each also goes to the `metrics` facade
//! (`latchkey_client_*`), which costs nothing until the host installs a recorder.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of what a [`crate::Verifier`] has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Answers served from the cache.
    pub cache_hits: u64,
    /// Answers that needed `/v1/verify`.
    pub cache_misses: u64,
    /// Calls made to `/v1/verify` (retries included).
    pub remote_calls: u64,
    /// Keys refused (any code), and `Unavailable` answers.
    pub refusals: u64,
    /// Cached allows not served because the stream was silent past its lease.
    pub lease_lapses: u64,
    /// Times the change stream (re)connected.
    pub stream_connects: u64,
    /// `reset` events heard (everything dropped).
    pub resets: u64,
    /// Change events heard (`key` and `tenant`).
    pub changes: u64,
    /// Usage events dropped because the queue was full (oldest first).
    pub usage_dropped: u64,
    /// Usage events posted to `/v1/usage`.
    pub usage_posted: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub remote_calls: AtomicU64,
    pub refusals: AtomicU64,
    pub lease_lapses: AtomicU64,
    pub stream_connects: AtomicU64,
    pub resets: AtomicU64,
    pub changes: AtomicU64,
    pub usage_dropped: AtomicU64,
    pub usage_posted: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64, name: &'static str) {
    counter.fetch_add(1, Ordering::Relaxed);
    metrics::counter!(name).increment(1);
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            cache_hits: r(&self.cache_hits),
            cache_misses: r(&self.cache_misses),
            remote_calls: r(&self.remote_calls),
            refusals: r(&self.refusals),
            lease_lapses: r(&self.lease_lapses),
            stream_connects: r(&self.stream_connects),
            resets: r(&self.resets),
            changes: r(&self.changes),
            usage_dropped: r(&self.usage_dropped),
            usage_posted: r(&self.usage_posted),
        }
    }
}
