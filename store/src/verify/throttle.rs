//! Failed verifications per client address. CRC32 is public, so anyone can mint well-formed,
//! checksum-valid keys that each cost a storage read; past a budget of such failures a client
//! is answered 429 without touching storage (keys already in the cache still work for it).

use crate::throttle::Bounded;
use moka::sync::Cache;
use std::time::Duration;

/// How long a client that spent its budget is refused storage lookups.
pub const BLOCK_SECS: u64 = 60;

pub(super) struct FailedAuth {
    failures: Bounded<u128>,
    blocked: Cache<u128, ()>,
}

impl FailedAuth {
    pub(super) fn new(per_minute: u32, cap: usize) -> Self {
        Self {
            failures: Bounded::per_minute(per_minute, cap),
            blocked: Cache::builder()
                .max_capacity(cap.max(1) as u64)
                .time_to_live(Duration::from_secs(BLOCK_SECS))
                .build(),
        }
    }

    /// Whether this client is past its budget and may not cost storage reads.
    pub(super) fn is_blocked(&self, client: u128) -> bool {
        self.blocked.contains_key(&client)
    }

    /// Counts one failed verification; past the budget the client is blocked for a while.
    pub(super) fn failed(&self, client: u128) {
        if self.failures.check(&client).is_err() {
            self.blocked.insert(client, ());
        }
    }

    pub(super) fn housekeeping(&self) {
        self.failures.housekeeping();
        self.blocked.run_pending_tasks();
    }

    /// (clients with a failure budget, clients blocked): for tests and metrics.
    pub(super) fn sizes(&self) -> (usize, u64) {
        self.blocked.run_pending_tasks();
        (self.failures.len(), self.blocked.entry_count())
    }
}
