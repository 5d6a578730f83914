//! Verify [Latchkey](https://github.com/latchkey) API keys inside your own service, at
//! in-process speed, without holding a revoked key.
//!
//! A [`Verifier`] answers from a verdict cache. The cache is filled on a miss by one call to
//! Latchkey's `POST /v1/verify`, and emptied by Latchkey's change stream (`GET /v1/changes`,
//! Server-Sent Events): a key revoked anywhere (the dashboard, the API, the CLI, another
//! replica, SQL by hand) is refused here within about 100 ms while the stream is connected.
//!
//! **The lease rule (fail closed).** A cached *allow* is served only while the stream has
//! delivered an event or a heartbeat within the lease (by default twice Latchkey's 250 ms
//! heartbeat). Past it every call goes to `/v1/verify`, and if that fails the call is refused
//! with [`Rejection::Unavailable`] (answer 503), never allowed. Cached *denials* are always
//! served. The cache is keyed by SHA-256 of the key (never the key) and has a hard
//! time-to-live as a last backstop.
//!
//! **Rate limits.** Each verdict carries the key's per-minute budget; cached allows take from
//! it in this process with [`governor`](https://docs.rs/governor) (so N host processes allow up
//! to N times the budget). [`RateLimit::Remote`] asks `/v1/verify` on every call instead, and
//! Latchkey counts every request.
//!
//! **Usage.** Answers served from the cache are batched to `POST /v1/usage` (key, status,
//! method, path, time), so the key's last use, chart and request log in Latchkey stay true.
//! The queue is bounded: past it the oldest events are dropped and counted.
//!
//! **Frameworks.** With the default `axum` feature, [`RequireKey`] is a `tower` layer
//! (tower-http's `AsyncRequireAuthorization`) that answers 401/403/429/503 with the `/v1`
//! error envelope and puts the [`Verdict`] in the request's extensions, where handlers take it
//! as an extractor.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use latchkey_client::{RequireKey, Verdict, Verifier};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder("http://127.0.0.1:3000", "the-service-token").build()?;
//!
//! // In a handler or a job: one call, answered from memory when it can be.
//! match verifier.verify("lk_live_…", Some("payments:read"), None).await {
//!     Ok(verdict) => println!("{} of {}", verdict.key_id, verdict.tenant.id),
//!     Err(rejection) => println!("answer {}: {}", rejection.status(), rejection.code()),
//! }
//!
//! // In an axum API: the layer verifies, the handler takes the verdict.
//! async fn payments(verdict: Verdict) -> String {
//!     format!("payments of {}", verdict.tenant.id)
//! }
//! let app: Router = Router::new()
//!     .route("/payments", get(payments))
//!     .layer(RequireKey::scope("payments:read").with(verifier.clone()));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! Metrics go to the [`metrics`](https://docs.rs/metrics) facade as `latchkey_client_*`
//! (stream state, lease lapses, cache hits and misses, remote calls, refusals); [`Verifier::stats`]
//! reads the same counters.
#![deny(missing_docs)]

mod builder;
mod cache;
#[cfg(feature = "axum")]
mod layer;
mod remote;
mod stats;
mod stream;
mod usage;
mod verdict;

pub use builder::{BuildError, RateLimit, VerifierBuilder};
#[cfg(feature = "axum")]
pub use layer::RequireKey;
pub use stats::Stats;
pub use verdict::{Code, Refusal, Rejection, Tenant, Verdict};

use cache::{Cache, Entry};
use governor::{DefaultDirectRateLimiter, Quota};
use remote::{Answer, Remote, UsageItem};
use stats::{bump, Counters};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Verifies keys from a cache kept true by Latchkey's change stream. Cheap to clone (shared).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("url", &self.inner.remote.base)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

struct Limiter {
    per_minute: u32,
    limiter: DefaultDirectRateLimiter,
}

pub(crate) struct Inner {
    remote: Remote,
    cache: Cache,
    lease: Duration,
    origin: Instant,
    /// Milliseconds after `origin` of the stream's last event or heartbeat (0: none yet).
    last_beat: AtomicU64,
    connected: AtomicBool,
    last_event_id: Mutex<Option<String>>,
    rate_limit: RateLimit,
    limiters: moka::sync::Cache<String, Arc<Limiter>>,
    usage: Option<usage::Queue>,
    counters: Counters,
}

impl Inner {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    pub(crate) fn beat(&self) {
        self.last_beat.store(self.now_ms(), Ordering::Release);
    }

    fn lease_holds(&self) -> bool {
        let at = self.last_beat.load(Ordering::Acquire);
        at > 0 && self.now_ms().saturating_sub(at) <= self.lease.as_millis() as u64
    }

    pub(crate) fn set_connected(&self, on: bool) {
        self.connected.store(on, Ordering::Release);
        metrics::gauge!("latchkey_client_stream_connected").set(if on { 1.0 } else { 0.0 });
    }

    pub(crate) fn last_event_id(&self) -> Option<String> {
        self.last_event_id.lock().ok().and_then(|id| id.clone())
    }

    pub(crate) fn set_last_event_id(&self, id: String) {
        if let Ok(mut last) = self.last_event_id.lock() {
            *last = Some(id);
        }
    }

    /// Takes one request from the key's budget in this process.
    fn take_rate(&self, v: &Verdict) -> Result<(), Box<Refusal>> {
        let per_minute = v.limit_per_minute;
        let Some(n) = NonZeroU32::new(per_minute) else {
            return Ok(());
        };
        let limiter = self
            .limiters
            .get(&v.key_id)
            .filter(|l| l.per_minute == per_minute)
            .unwrap_or_else(|| {
                let l = Arc::new(Limiter {
                    per_minute,
                    limiter: governor::RateLimiter::direct(Quota::per_minute(n)),
                });
                self.limiters.insert(v.key_id.clone(), l.clone());
                l
            });
        limiter.limiter.check().map_err(|not_until| {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Box::new(Refusal {
                code: Code::RateLimited,
                message: "This API key is over its rate limit; retry after Retry-After seconds."
                    .into(),
                required_scope: None,
                retry_after_secs: Some(wait.as_secs() + 1),
                key_id: Some(v.key_id.clone()),
                tenant: Some(v.tenant.id.clone()),
            })
        })
    }

    fn record(&self, key_id: &str, status: u16, method: &str, path: &str) {
        let Some(queue) = &self.usage else { return };
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let dropped = queue.push(UsageItem {
            key_id: key_id.to_owned(),
            status,
            method: method.to_owned(),
            path: usage::clip(path).to_owned(),
            at_ms,
        });
        if dropped {
            bump(
                &self.counters.usage_dropped,
                "latchkey_client_usage_dropped_total",
            );
        }
    }
}

impl Verifier {
    /// Settings for a verifier of keys on the Latchkey at `url`, authenticated with its service
    /// token (`LATCHKEY_SERVICE_TOKEN`).
    pub fn builder(url: impl Into<String>, service_token: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder::new(url.into(), service_token.into())
    }

    /// Whether `key` may act with `scope` (`None`: any valid key) on `resource`
    /// (`(type, id)`, for keys limited to resources). Reported as usage with method `VERIFY`
    /// and the scope as its path, like `/v1/verify`.
    pub async fn verify(
        &self,
        key: &str,
        scope: Option<&str>,
        resource: Option<(&str, &str)>,
    ) -> Result<Verdict, Rejection> {
        self.check(
            key,
            scope,
            resource,
            "VERIFY",
            scope.unwrap_or("(any scope)"),
        )
        .await
        .map(|v| (*v).clone())
    }

    /// [`Verifier::verify`] for a request the host is answering: usage records its method
    /// and path. The verdict is shared, not copied.
    pub async fn check(
        &self,
        key: &str,
        scope: Option<&str>,
        resource: Option<(&str, &str)>,
        method: &str,
        path: &str,
    ) -> Result<Arc<Verdict>, Rejection> {
        let i = &self.inner;
        let id = cache::id_of(key.trim(), scope, resource);
        if let Some(hit) = i.cache.get(&id) {
            match &hit.outcome {
                Err(refusal) => {
                    bump(&i.counters.cache_hits, "latchkey_client_cache_hits_total");
                    return Err(self.refused(Box::new(refusal.clone()), method, path));
                }
                Ok(v) if i.rate_limit == RateLimit::Local && i.lease_holds() => {
                    bump(&i.counters.cache_hits, "latchkey_client_cache_hits_total");
                    return match i.take_rate(v) {
                        Ok(()) => {
                            i.record(&v.key_id, 200, method, path);
                            Ok(v.clone())
                        }
                        Err(r) => Err(self.refused(r, method, path)),
                    };
                }
                Ok(_) => {
                    if !i.lease_holds() {
                        bump(
                            &i.counters.lease_lapses,
                            "latchkey_client_lease_lapses_total",
                        );
                    }
                }
            }
        }
        bump(
            &i.counters.cache_misses,
            "latchkey_client_cache_misses_total",
        );
        let since = i.cache.epoch();
        bump(
            &i.counters.remote_calls,
            "latchkey_client_remote_calls_total",
        );
        match i.remote.verify(key.trim(), scope, resource).await {
            Ok(Answer::Allow(v)) => {
                let v = Arc::new(v);
                if i.rate_limit == RateLimit::Local && v.limit_per_minute > 0 {
                    i.cache.fill(id, Entry::allow(v.clone()), since);
                }
                Ok(v)
            }
            Ok(Answer::Deny(r)) => {
                // A rate limit passes by itself: not remembered.
                if r.code != Code::RateLimited {
                    i.cache.fill(id, Entry::deny(r.clone()), since);
                }
                bump(&i.counters.refusals, "latchkey_client_refusals_total");
                Err(Rejection::Refused(Box::new(r)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "Latchkey did not answer /v1/verify; refusing");
                bump(&i.counters.refusals, "latchkey_client_refusals_total");
                Err(Rejection::Unavailable)
            }
        }
    }

    fn refused(&self, r: Box<Refusal>, method: &str, path: &str) -> Rejection {
        let i = &self.inner;
        bump(&i.counters.refusals, "latchkey_client_refusals_total");
        if let Some(key_id) = &r.key_id {
            i.record(key_id, r.code.status(), method, path);
        }
        Rejection::Refused(r)
    }

    /// Whether the change stream is connected now.
    pub fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Whether cached allows may be served now (the stream spoke within the lease).
    pub fn lease_holds(&self) -> bool {
        self.inner.lease_holds()
    }

    /// Waits up to `timeout` for the lease to hold; says whether it does.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.lease_holds() {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// The id of the last change event heard (what a reconnect resumes after).
    pub fn last_event_id(&self) -> Option<String> {
        self.inner.last_event_id()
    }

    /// What this verifier has done so far.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// Answers cached now.
    pub fn cached(&self) -> u64 {
        self.inner.cache.len()
    }

    /// Posts every queued usage event now (also done every second by itself).
    pub async fn flush_usage(&self) -> Result<(), String> {
        usage::flush_once(&self.inner, usize::MAX).await
    }
}
