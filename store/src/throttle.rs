//! Keyed throttles whose memory stays bounded under a flood of distinct keys: a GCRA limiter
//! (governor) pruned of idle keys by the upkeep task, and replaced by a fresh one if distinct
//! keys still overfill it within one window (a flood then loses only budgets, never the
//! separate blocks and locks built on top).

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::Duration;

/// A client address as throttles key it: IPv6 by /64 (one subscriber's prefix), IPv4 whole,
/// and every unknown address (in-process callers) as one client.
pub fn client_key(ip: Option<IpAddr>) -> u128 {
    match ip {
        None => u128::MAX,
        Some(IpAddr::V4(v4)) => u128::from(v4.to_ipv6_mapped()),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6) & !((1u128 << 64) - 1),
        },
    }
}

/// How long a client that spent its failure budget stays blocked.
pub const BLOCK_SECS: u64 = 60;

/// Failures per client: past the budget the client is blocked for [`BLOCK_SECS`], whatever it
/// sends. Used for unknown keys (before they cost storage reads) and wrong service tokens
/// (a blocked guesser must not learn which guess was right). Both maps are bounded.
pub struct FailureGate {
    failures: Bounded<u128>,
    blocked: moka::sync::Cache<u128, ()>,
    cap: usize,
}

impl FailureGate {
    pub fn new(per_minute: u32, cap: usize) -> Self {
        Self {
            failures: Bounded::per_minute(per_minute, cap),
            blocked: moka::sync::Cache::builder()
                .max_capacity(cap.max(1) as u64)
                .time_to_live(Duration::from_secs(BLOCK_SECS))
                .build(),
            cap: cap.max(1),
        }
    }

    pub fn is_blocked(&self, client: u128) -> bool {
        self.blocked.contains_key(&client)
    }

    /// Counts one failure; returns whether the client is now blocked. A flood of distinct
    /// clients prunes the budgets as soon as it passes the cap, not only at the next upkeep.
    pub fn failed(&self, client: u128) -> bool {
        let spent = self.failures.check(&client).is_err();
        if spent {
            self.blocked.insert(client, ());
        }
        if self.failures.len() > self.cap {
            self.failures.housekeeping();
        }
        spent
    }

    pub fn housekeeping(&self) {
        self.failures.housekeeping();
        self.blocked.run_pending_tasks();
    }

    /// (clients with a failure budget, clients blocked): for tests and metrics.
    pub fn sizes(&self) -> (usize, u64) {
        self.blocked.run_pending_tasks();
        (self.failures.len(), self.blocked.entry_count())
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct Bounded<K: Hash + Eq + Clone> {
    quota: Quota,
    cap: usize,
    limiter: RwLock<Keyed<K>>,
}

impl<K: Hash + Eq + Clone> Bounded<K> {
    /// `per_minute` requests a minute per key; at most `cap` keys kept after upkeep.
    pub fn per_minute(per_minute: u32, cap: usize) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(n);
        Self {
            quota,
            cap: cap.max(1),
            limiter: RwLock::new(RateLimiter::keyed(quota)),
        }
    }

    /// Takes one from `key`'s budget; `Err(seconds to wait)` when it is spent.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        let Ok(limiter) = self.limiter.read() else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_millis().div_ceil(1000).max(1) as u64
        })
    }

    /// Upkeep: forget idle keys; start afresh if the map is still over its cap.
    pub fn housekeeping(&self) {
        let overfull = match self.limiter.read() {
            Ok(l) => {
                l.retain_recent();
                l.shrink_to_fit();
                l.len() > self.cap
            }
            Err(_) => true,
        };
        if overfull {
            if let Ok(mut l) = self.limiter.write() {
                *l = RateLimiter::keyed(self.quota);
            }
        }
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.limiter.read().map(|l| l.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_distinct_keys_stays_within_the_cap() {
        let t = Bounded::<u32>::per_minute(5, 1_000);
        for k in 0..20_000 {
            assert!(t.check(&k).is_ok());
        }
        assert_eq!(t.len(), 20_000);
        t.housekeeping();
        assert!(t.len() <= 1_000, "{}", t.len());
    }

    #[test]
    fn a_spent_budget_says_how_long_to_wait() {
        let t = Bounded::<u32>::per_minute(2, 10);
        assert!(t.check(&1).is_ok());
        assert!(t.check(&1).is_ok());
        let wait = t.check(&1).expect_err("spent");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(t.check(&2).is_ok(), "another key has its own budget");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(Some(a)), client_key(Some(b)));
        assert_ne!(client_key(Some(a)), client_key(Some(c)));
        let v4: IpAddr = "203.0.113.9".parse().expect("ip");
        assert_ne!(client_key(Some(v4)), client_key(None));
    }
}
