//! Keyed throttles whose memory stays bounded under a flood of distinct keys: a GCRA budget per
//! key in a map that, once full, forgets the key seen least recently. It never starts afresh,
//! so a flood of new clients cannot hand a client that spent its budget a new one (unless that
//! client has been quiet longer than every one of them). Client addresses are kept per IPv6 /64
//! and, with a larger budget, per /48: one host may hold all 65,536 /64s of a /48.

use hashlink::LinkedHashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// The /48 an IPv6 client key (from [`client_key`]) lies in; `None` for IPv4 and unknown
/// addresses, which have no wider bucket.
pub fn block_key(client: u128) -> Option<u128> {
    let v4_mapped = client >> 32 == 0xffff;
    (client != u128::MAX && !v4_mapped).then_some(client & !((1u128 << 80) - 1))
}

/// How many times a /64's budget a whole /48 gets.
pub const BLOCK_FACTOR: u32 = 8;

/// How long a client that spent its failure budget stays blocked.
pub const BLOCK_SECS: u64 = 60;

/// A budget per client address: each client key has one, and an IPv6 /64 also spends from its
/// /48's, [`BLOCK_FACTOR`] times larger.
pub struct ClientBudget {
    by_client: Bounded<u128>,
    by_block: Bounded<u128>,
}

/// A spent client budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Over {
    pub retry_after_secs: u64,
    /// Set when the whole /48 spent its budget (not only this client's /64).
    pub block: Option<u128>,
}

impl ClientBudget {
    /// `per_minute` per client a minute (its /48: [`BLOCK_FACTOR`] times that); at most `cap`
    /// clients and `cap` /48s remembered.
    pub fn per_minute(per_minute: u32, cap: usize) -> Self {
        Self {
            by_client: Bounded::per_minute(per_minute, cap),
            by_block: Bounded::per_minute(per_minute.saturating_mul(BLOCK_FACTOR), cap),
        }
    }

    /// Takes one from `client`'s budget; `Err(seconds to wait)` when spent.
    pub fn check(&self, client: &u128) -> Result<(), u64> {
        self.check_n(*client, 1)
            .map_err(|over| over.retry_after_secs)
    }

    /// Takes `n` from `client`'s budget, then from its /48's. A /64 over its own budget spends
    /// none of the /48's, so it cannot use up its neighbours' share.
    pub fn check_n(&self, client: u128, n: u32) -> Result<(), Over> {
        self.by_client
            .check_n(&client, n)
            .map_err(|retry_after_secs| Over {
                retry_after_secs,
                block: None,
            })?;
        match block_key(client) {
            Some(b) => self
                .by_block
                .check_n(&b, n)
                .map_err(|retry_after_secs| Over {
                    retry_after_secs,
                    block: Some(b),
                }),
            None => Ok(()),
        }
    }

    /// Upkeep: forget clients whose budget is full again.
    pub fn housekeeping(&self) {
        self.by_client.housekeeping();
        self.by_block.housekeeping();
    }

    /// Clients (or /48s, whichever more) held now.
    pub fn len(&self) -> usize {
        self.by_client.len().max(self.by_block.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Failures per client: past the budget the client is blocked for [`BLOCK_SECS`], whatever it
/// sends; a /48 past its budget is blocked whole. Used for unknown keys (before they cost
/// storage reads) and wrong service tokens (a blocked guesser must not learn which guess was
/// right). Both maps are bounded and forget the least recent client first.
pub struct FailureGate {
    failures: ClientBudget,
    /// `(whole /48?, key)`: a /64 key and its /48's can be the same number.
    blocked: moka::sync::Cache<(bool, u128), ()>,
}

impl FailureGate {
    pub fn new(per_minute: u32, cap: usize) -> Self {
        Self {
            failures: ClientBudget::per_minute(per_minute, cap),
            blocked: moka::sync::Cache::builder()
                .max_capacity(cap.max(1) as u64)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .time_to_live(Duration::from_secs(BLOCK_SECS))
                .build(),
        }
    }

    pub fn is_blocked(&self, client: u128) -> bool {
        self.blocked.contains_key(&(false, client))
            || block_key(client).is_some_and(|b| self.blocked.contains_key(&(true, b)))
    }

    /// Counts one failure; returns whether the client is now blocked.
    pub fn failed(&self, client: u128) -> bool {
        match self.failures.check_n(client, 1) {
            Ok(()) => false,
            // A spent /48 is one entry, not one per /64 it rotates through: those would
            // crowd every other block out of the map.
            Err(Over { block: Some(b), .. }) => {
                self.blocked.insert((true, b), ());
                true
            }
            Err(Over { block: None, .. }) => {
                self.blocked.insert((false, client), ());
                true
            }
        }
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

/// A GCRA budget per key (the limit `governor` applies, `per_minute` a minute with a burst of
/// as many), in a map of at most `cap` keys that forgets the least recently seen key first.
pub struct Bounded<K: Hash + Eq + Clone> {
    /// Nanoseconds one unit of budget takes to come back.
    interval_ns: u64,
    /// The whole budget, in nanoseconds: a key may run this far ahead of the clock.
    window_ns: u64,
    cap: usize,
    /// Key → its theoretical arrival time (nanoseconds since `started`); oldest seen first.
    entries: Mutex<LinkedHashMap<K, u64>>,
    started: Instant,
}

impl<K: Hash + Eq + Clone> Bounded<K> {
    /// `per_minute` requests a minute per key; at most `cap` keys kept.
    pub fn per_minute(per_minute: u32, cap: usize) -> Self {
        let per_minute = u64::from(per_minute.max(1));
        let interval_ns = 60_000_000_000 / per_minute;
        Self {
            interval_ns,
            window_ns: interval_ns * per_minute,
            cap: cap.max(1),
            entries: Mutex::new(LinkedHashMap::new()),
            started: Instant::now(),
        }
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, LinkedHashMap<K, u64>> {
        // A panic elsewhere cannot leave a half-written budget: every write is one store.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one from `key`'s budget; `Err(seconds to wait)` when it is spent.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        self.check_n(key, 1)
    }

    /// Takes `n` from `key`'s budget, or nothing when it cannot pay them all; `Err(seconds to
    /// wait)` then (a full minute when `n` is more than the whole budget).
    pub fn check_n(&self, key: &K, n: u32) -> Result<(), u64> {
        let now = self.now_ns();
        let cost = self.interval_ns.saturating_mul(u64::from(n));
        let mut map = self.map();
        // Seen just now, paid or not: a client that keeps trying stays remembered.
        let seen = map.to_back(key);
        let next = seen
            .as_deref()
            .copied()
            .unwrap_or(now)
            .max(now)
            .saturating_add(cost);
        if next - now > self.window_ns {
            let wait = if cost > self.window_ns {
                self.window_ns
            } else {
                next - now - self.window_ns
            };
            return Err(Duration::from_nanos(wait).as_millis().div_ceil(1000).max(1) as u64);
        }
        match seen {
            Some(tat) => *tat = next,
            None => {
                map.insert(key.clone(), next);
                while map.len() > self.cap {
                    map.pop_front();
                }
            }
        }
        Ok(())
    }

    /// Upkeep: forget keys whose budget is full again (the same as never seen).
    pub fn housekeeping(&self) {
        let now = self.now_ns();
        let mut map = self.map();
        map.retain(|_, tat| *tat > now);
        map.shrink_to_fit();
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.map().len()
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
            assert!(t.len() <= 1_000);
        }
        t.housekeeping();
        assert!(t.len() <= 1_000, "{}", t.len());
    }

    #[test]
    fn a_flood_forgets_the_least_recent_key_never_all_of_them() {
        let t = Bounded::<u32>::per_minute(1, 1_000);
        assert!(t.check(&0).is_ok());
        for k in 1..5_000 {
            assert!(t.check(&0).is_err(), "forgot the spent key after {k}");
            let _ = t.check(&k);
        }
        t.housekeeping();
        assert!(t.check(&0).is_err());
        // Quiet past a thousand newer keys, it is the one forgotten.
        for k in 5_000..6_000 {
            let _ = t.check(&k);
        }
        assert!(t.check(&0).is_ok());
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
    fn a_cost_is_paid_whole_or_not_at_all() {
        let t = Bounded::<u32>::per_minute(10, 10);
        assert!(t.check_n(&1, 11).is_err(), "more than the whole budget");
        assert!(t.check_n(&1, 7).is_ok(), "the refusal spent nothing");
        assert!(t.check_n(&1, 4).is_err());
        assert!(t.check_n(&1, 3).is_ok());
        assert!(t.check(&1).is_err());
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
        assert_eq!(
            block_key(client_key(Some(a))),
            block_key(client_key(Some(c)))
        );
        let other: IpAddr = "2001:db8:2:2::1".parse().expect("ip");
        assert_ne!(
            block_key(client_key(Some(a))),
            block_key(client_key(Some(other)))
        );
        assert_eq!(block_key(client_key(Some(v4))), None);
        assert_eq!(block_key(client_key(None)), None);
    }

    #[test]
    fn the_64s_of_one_48_share_a_budget_eight_times_one() {
        let budget = ClientBudget::per_minute(2, 1_000);
        let in_48 = |i: u128| (0x2001_0db8_0001_u128 << 80) | (i << 64);
        for i in 0..u128::from(BLOCK_FACTOR) {
            assert!(budget.check_n(in_48(i), 2).is_ok(), "/64 number {i}");
        }
        let over = budget.check_n(in_48(99), 1).expect_err("the /48 is spent");
        assert_eq!(over.block, block_key(in_48(0)));
        let elsewhere = (0x2001_0db8_0002_u128 << 80) | (1 << 64);
        assert!(budget.check_n(elsewhere, 2).is_ok());
    }

    #[test]
    fn a_48_that_spent_its_failures_is_blocked_whole() {
        let gate = FailureGate::new(1, 1_000);
        let in_48 = |i: u128| (0x2001_0db8_0001_u128 << 80) | (i << 64);
        for i in 0..u128::from(BLOCK_FACTOR) {
            assert!(!gate.failed(in_48(i)));
        }
        assert!(gate.failed(in_48(100)));
        assert!(gate.is_blocked(in_48(5_000)), "a fresh /64 of that /48");
        for i in 200..2_000 {
            assert!(gate.failed(in_48(i)));
        }
        assert_eq!(gate.sizes().1, 1, "one block for the whole /48");
        assert!(!gate.is_blocked((0x2001_0db8_0002_u128 << 80) | (1 << 64)));
    }
}
