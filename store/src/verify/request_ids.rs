//! Request ids for `/v1` answers and request-log rows.

use latchkey_domain::keys;
use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out request ids: a random per-process prefix and a counter. Unique without a syscall
/// per request (they label log lines, they are not secrets).
pub struct RequestIds {
    prefix: String,
    next: AtomicU64,
}

impl RequestIds {
    pub(super) fn new() -> Self {
        Self {
            prefix: keys::random_base62(10),
            next: AtomicU64::new(1),
        }
    }

    pub fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("req_{}{n:08x}", self.prefix)
    }
}
