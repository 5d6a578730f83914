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
}

impl Limiters {
    pub(super) fn new(limits: Limits) -> Self {
        let make = |n: u32| {
            let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_minute(n)).with_middleware::<StateInformationMiddleware>()
        };
        Self {
            limits,
            professional: make(limits.professional_rpm),
            enterprise: make(limits.enterprise_rpm),
        }
    }

    /// Takes one request from the key's budget (GCRA: the budget refills evenly over the window).
    pub(super) fn take(&self, plan: Plan, key_row_id: i64) -> Result<RateInfo, Rejection> {
        let limit = self.limits.per_minute(plan);
        let limiter = match plan {
            Plan::Professional => &self.professional,
            Plan::Enterprise => &self.enterprise,
            Plan::Starter => return Err(Rejection::PlanRequired),
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

    pub(super) fn retain_recent(&self) {
        self.professional.retain_recent();
        self.enterprise.retain_recent();
    }
}
