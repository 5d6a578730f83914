//! Budgets shared by every replica through Redis (`--rate-limit-store redis://…`): per-key rate
//! limits and the sign-in throttles. The same GCRA as the local limiter (a budget of `limit` requests refilling evenly over a minute), kept as one
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

pub struct SharedLimiter {
    conn: ConnectionManager,
    script: redis::Script,
    /// Milliseconds since `started` before which Redis is not asked (after a failure).
    down_until_ms: AtomicI64,
    /// When the fallback was last logged (ms since `started`), so an outage logs once in a while.
    logged_ms: AtomicI64,
    started: Instant,
}

/// Why the shared store could not answer: the caller uses its local state.
pub struct Unavailable;

/// Every Redis key of ours starts with this.
const PREFIX: &str = "latchkey:";

/// One request to Redis.
enum Op<'a> {
    /// Take one from a GCRA budget.
    Gcra {
        key: &'a str,
        interval: u64,
        burst: u64,
    },
    /// Remember a flag for `ttl_ms`.
    Mark { key: &'a str, ttl_ms: u64 },
    /// Whether a flag is set.
    Marked { key: &'a str },
}

impl SharedLimiter {
    /// Connects lazily: a Redis that is down at start only means local limits until it is up.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
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
        })
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Takes one request from `bucket`'s budget of `limit` a minute (`key:<public id>` for an
    /// API key: public ids are random and unique across databases, so deployments sharing a
    /// Redis never collide; `sign-in-ip:…`, `sign-in-email:…` for the sign-in throttles).
    pub async fn take(
        &self,
        bucket: &str,
        limit: u32,
    ) -> Result<Result<RateInfo, Rejection>, Unavailable> {
        let limit_ms = RATE_WINDOW_SECS * 1000;
        let interval = (limit_ms / u64::from(limit.max(1))).max(1);
        let burst = interval * u64::from(limit.max(1));
        let key = format!("{PREFIX}{bucket}");
        let (allowed, wait_ms, full_ms) = self
            .run::<(i64, i64, i64)>(Op::Gcra {
                key: &key,
                interval,
                burst,
            })
            .await?;
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

    /// Sets the flag `bucket` for `ttl`.
    pub async fn mark(&self, bucket: &str, ttl: Duration) -> Result<(), Unavailable> {
        let key = format!("{PREFIX}{bucket}");
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.run::<()>(Op::Mark { key: &key, ttl_ms }).await
    }

    /// Whether the flag `bucket` is set.
    pub async fn marked(&self, bucket: &str) -> Result<bool, Unavailable> {
        let key = format!("{PREFIX}{bucket}");
        self.run::<bool>(Op::Marked { key: &key }).await
    }

    /// Runs `op` unless Redis failed within the last [`RETRY_AFTER`]; on failure, marks it down
    /// and logs (at most every 10 s).
    async fn run<T: redis::FromRedisValue>(&self, op: Op<'_>) -> Result<T, Unavailable> {
        if self.elapsed_ms() < self.down_until_ms.load(Ordering::Relaxed) {
            return Err(Unavailable);
        }
        // A second try right away: the first after an outage finds the old connection broken
        // (the manager starts reconnecting), the second gets the new one.
        let mut why = String::new();
        for _ in 0..2 {
            match tokio::time::timeout(CALL_TIMEOUT, self.attempt::<T>(&op)).await {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(e)) => why = e.to_string(),
                Err(_) => {
                    why = "timed out".to_owned();
                    break;
                }
            }
        }
        Err(self.failed(&why))
    }

    async fn attempt<T: redis::FromRedisValue>(&self, op: &Op<'_>) -> redis::RedisResult<T> {
        let mut conn = self.conn.clone();
        match op {
            Op::Gcra {
                key,
                interval,
                burst,
            } => {
                let mut invocation = self.script.key(*key);
                invocation.arg(*interval).arg(*burst);
                invocation.invoke_async(&mut conn).await
            }
            Op::Mark { key, ttl_ms } => {
                redis::cmd("SET")
                    .arg(*key)
                    .arg(1)
                    .arg("PX")
                    .arg(*ttl_ms)
                    .query_async(&mut conn)
                    .await
            }
            Op::Marked { key } => redis::cmd("EXISTS").arg(*key).query_async(&mut conn).await,
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

/// Checks a `--rate-limit-store` value: `local` (`None`) or a Redis URL.
pub fn check_rate_store(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() || value == "local" {
        return Ok(None);
    }
    if !value.starts_with("redis://") {
        return Err(format!("{value:?} is neither `local` nor a redis:// URL"));
    }
    redis::Client::open(value)
        .map(|_| Some(value.to_owned()))
        .map_err(|e| format!("not a usable Redis URL: {e}"))
}
