//! Per-key rate limits shared by every replica through Redis: the same GCRA as the local
//! limiter (a budget of `limit` requests refilling evenly over a minute), kept as one
//! "theoretical arrival time" per key and updated atomically by a Lua script that reads
//! Redis's own clock, so replicas with skewed clocks still share one budget.
//!
//! Redis is a dependency the service must survive: when it does not answer within
//! [`CALL_TIMEOUT`], the caller falls back to its local limiter (per process, as with
//! `--rate-limit-store local`), logs it, and tries Redis again after [`RETRY_AFTER`].
//!
//! No maintained crate does GCRA on Redis with the state the `RateLimit` headers need
//! (`redis-cell` is a server module, not loaded on stock Redis); the script is the well-known
//! GCRA formulation (Brandur's `redis-gcra`), a dozen lines.

use super::limiter::{RateInfo, RATE_WINDOW_SECS};
use latchkey_domain::verify::Rejection;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// Longest wait for Redis before answering from the local limiter instead.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, Redis is not asked again for this long (requests meanwhile stay fast).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// KEYS[1]: the key's budget. ARGV[1]: ms per request (the emission interval), ARGV[2]: the
/// burst in ms (interval × limit). Answers {allowed, ms until allowed, ms until full}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst
if allow_at > now then
  return {0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, 0, new_tat - now}
";

pub(super) struct SharedLimiter {
    conn: ConnectionManager,
    script: redis::Script,
    /// Milliseconds since `started` before which Redis is not asked (after a failure).
    down_until_ms: AtomicI64,
    /// When the fallback was last logged (ms since `started`), so an outage logs once in a while.
    logged_ms: AtomicI64,
    started: Instant,
    prefix: String,
}

/// Why the shared limiter could not answer: the caller uses its local one.
pub(super) struct Unavailable;

impl SharedLimiter {
    /// Connects lazily: a Redis that is down at start only means local limits until it is up.
    pub(super) fn new(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50));
        Ok(Self {
            conn: ConnectionManager::new_lazy_with_config(client, config)?,
            script: redis::Script::new(GCRA),
            down_until_ms: AtomicI64::new(0),
            logged_ms: AtomicI64::new(i64::MIN),
            started: Instant::now(),
            prefix: "latchkey:rate:".to_owned(),
        })
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Takes one request from the budget of the key `public_id` (public ids are random and
    /// unique across databases, so replicas of other deployments on one Redis never collide).
    pub(super) async fn take(
        &self,
        public_id: &str,
        limit: u32,
    ) -> Result<Result<RateInfo, Rejection>, Unavailable> {
        if self.elapsed_ms() < self.down_until_ms.load(Ordering::Relaxed) {
            return Err(Unavailable);
        }
        let limit_ms = RATE_WINDOW_SECS * 1000;
        let interval = (limit_ms / u64::from(limit.max(1))).max(1);
        let burst = interval * u64::from(limit.max(1));
        let key = format!("{}{public_id}", self.prefix);
        // A second try right away: the first after an outage finds the old connection broken
        // (the manager starts reconnecting), the second gets the new one.
        let mut why = String::new();
        let mut answer = None;
        for _ in 0..2 {
            let mut conn = self.conn.clone();
            let mut invocation = self.script.key(&key);
            invocation.arg(interval).arg(burst);
            let call = invocation.invoke_async::<(i64, i64, i64)>(&mut conn);
            match tokio::time::timeout(CALL_TIMEOUT, call).await {
                Ok(Ok(a)) => {
                    answer = Some(a);
                    break;
                }
                Ok(Err(e)) => why = e.to_string(),
                Err(_) => {
                    why = "timed out".to_owned();
                    break;
                }
            }
        }
        let Some(answer) = answer else {
            return Err(self.failed(&why));
        };
        let (allowed, wait_ms, full_ms) = answer;
        let wait_ms = u64::try_from(wait_ms).unwrap_or(0);
        let full_ms = u64::try_from(full_ms).unwrap_or(0);
        if allowed == 1 {
            let used = full_ms.div_ceil(interval).min(u64::from(limit));
            Ok(Ok(RateInfo {
                limit,
                remaining: limit.saturating_sub(u32::try_from(used).unwrap_or(limit)),
                reset_secs: full_ms.div_ceil(1000),
            }))
        } else {
            Ok(Err(Rejection::RateLimited {
                retry_after_secs: wait_ms.div_ceil(1000).max(1),
            }))
        }
    }

    fn failed(&self, why: &str) -> Unavailable {
        let now = self.elapsed_ms();
        let retry = i64::try_from(RETRY_AFTER.as_millis()).unwrap_or(1000);
        self.down_until_ms.store(now + retry, Ordering::Relaxed);
        metrics::counter!("latchkey_rate_limit_store_failures_total").increment(1);
        let last = self.logged_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 10_000
            && self
                .logged_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error = why,
                "Redis rate-limit store unavailable; limiting per process meanwhile"
            );
        }
        Unavailable
    }
}
