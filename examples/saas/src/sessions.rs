//! The example's own sign-in sessions: random ids in a cookie, kept in memory with a bound, so
//! a flood of sign-ins cannot grow the process without end.

use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "saas_session";
/// Past this many sessions, the oldest is dropped (its user signs in again).
const MAX_SESSIONS: usize = 1_000;
const LIFETIME: Duration = Duration::from_secs(8 * 3600);

#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Entry>,
    /// Orders sessions by age even when two opened within one clock tick.
    opened: u64,
}

struct Entry {
    email: String,
    at: Instant,
    seq: u64,
}

impl Sessions {
    /// A new session for `email`; returns its id for the cookie.
    pub fn open(&self, email: &str) -> String {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let mut inner = self.lock();
        inner.by_id.retain(|_, e| e.at.elapsed() < LIFETIME);
        if inner.by_id.len() >= MAX_SESSIONS {
            let oldest = inner
                .by_id
                .iter()
                .min_by_key(|(_, e)| e.seq)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                inner.by_id.remove(&k);
            }
        }
        inner.opened += 1;
        let entry = Entry {
            email: email.to_owned(),
            at: Instant::now(),
            seq: inner.opened,
        };
        inner.by_id.insert(id.clone(), entry);
        id
    }

    /// The signed-in user's email for a session id, if it is live.
    pub fn user(&self, id: &str) -> Option<String> {
        self.lock()
            .by_id
            .get(id)
            .filter(|e| e.at.elapsed() < LIFETIME)
            .map(|e| e.email.clone())
    }

    pub fn close(&self, id: &str) {
        self.lock().by_id.remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map usable: take it back.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_random_bounded_and_closable() {
        let s = Sessions::default();
        let a = s.open("alice@example.test");
        assert_eq!(a.len(), 32);
        assert_eq!(s.user(&a).as_deref(), Some("alice@example.test"));
        assert_eq!(s.user("nope"), None);
        for _ in 0..MAX_SESSIONS {
            s.open("alice@example.test");
        }
        assert_eq!(s.lock().by_id.len(), MAX_SESSIONS);
        assert_eq!(s.user(&a), None, "the oldest went first");
        let b = s.open("alice@example.test");
        s.close(&b);
        assert_eq!(s.user(&b), None);
    }
}
