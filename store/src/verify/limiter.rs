//! Per-key rate limits: one GCRA limiter (governor) per paid plan, keyed by the key's row id.

use crate::limits::Limits;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use latchkey_domain::verify::Rejection;
use latchkey_domain::Plan;
use std::num::NonZeroU32;

type KeyedLimiter =
    RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock, StateInformationMiddleware>;

/// The window the per-key limits are expressed in (requests per minute).
pub const RATE_WINDOW_SECS: u64 = 60;

/// The caller's remaining budget, for the `RateLimit` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the budget is full again.
    pub reset_secs: u64,
}

pub(super) struct Limiters {
    pub(super) limits: Limits,
    professional: KeyedLimiter,
    enterprise: KeyedLimiter,
    /// One limiter per distinct operator-set rate (few: the operator chooses them), so a
    /// tenant's own figure is a real GCRA quota like the plans'.
    custom: std::sync::Mutex<std::collections::HashMap<u32, std::sync::Arc<KeyedLimiter>>>,
}

/// Distinct operator-set rates given their own limiter; past it they share the nearest plan's.
const CUSTOM_RATES_MAX: usize = 256;

fn keyed(n: u32) -> KeyedLimiter {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_minute(n)).with_middleware::<StateInformationMiddleware>()
}

impl Limiters {
    pub(super) fn new(limits: Limits) -> Self {
        Self {
            limits,
            professional: keyed(limits.professional_rpm),
            enterprise: keyed(limits.enterprise_rpm),
            custom: Default::default(),
        }
    }

    /// Takes one request from the key's budget (GCRA: the budget refills evenly over the window).
    /// `custom`: the tenant's own per-minute figure, set by the operator.
    pub(super) fn take(
        &self,
        plan: Plan,
        custom: Option<u32>,
        key_row_id: i64,
    ) -> Result<RateInfo, Rejection> {
        let custom_limiter = custom.and_then(|n| self.custom_limiter(n));
        let (limit, limiter) = match (plan, &custom_limiter) {
            (Plan::Starter, _) => return Err(Rejection::PlanRequired),
            (_, Some((n, l))) => (*n, &**l),
            (Plan::Professional, None) => (self.limits.per_minute(plan), &self.professional),
            (Plan::Enterprise, None) => (self.limits.per_minute(plan), &self.enterprise),
        };
        // Time for one request's worth of budget to come back.
        let per_cell_ms = (RATE_WINDOW_SECS * 1000) / u64::from(limit.max(1));
        match limiter.check_key(&key_row_id) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = u64::from(limit.saturating_sub(remaining));
                Ok(RateInfo {
                    limit,
                    remaining,
                    reset_secs: (used * per_cell_ms).div_ceil(1000),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Rejection::RateLimited {
                    retry_after_secs: wait.as_millis().div_ceil(1000).max(1) as u64,
                })
            }
        }
    }

    fn custom_limiter(&self, n: u32) -> Option<(u32, std::sync::Arc<KeyedLimiter>)> {
        let mut map = self.custom.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = map.get(&n) {
            return Some((n, l.clone()));
        }
        if map.len() >= CUSTOM_RATES_MAX {
            tracing::warn!(rate = n, "too many distinct tenant rates; using the plan's");
            return None;
        }
        let l = std::sync::Arc::new(keyed(n));
        map.insert(n, l.clone());
        Some((n, l))
    }

    pub(super) fn retain_recent(&self) {
        self.professional.retain_recent();
        self.enterprise.retain_recent();
        let map = self.custom.lock().unwrap_or_else(|p| p.into_inner());
        for l in map.values() {
            l.retain_recent();
        }
    }
}
