//! Building a [`Verifier`]: its settings, and the tasks it starts (the change stream and the
//! usage batches).

use crate::cache::Cache;
use crate::remote::Remote;
use crate::stats::Counters;
use crate::{stream, usage, Inner, Verifier};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where per-key rate limits are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimit {
    /// In this process, from the budget each verdict carries (`governor`).
    #[default]
    Local,
    /// By Latchkey: every call asks `/v1/verify` (allows are not cached).
    Remote,
}

/// Why a [`Verifier`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The URL is not an `http(s)://` URL.
    #[error("the Latchkey URL must start with http:// or https://")]
    Url,
    /// No Tokio runtime to run the stream and the usage batches on.
    #[error("build the verifier inside a Tokio runtime")]
    NoRuntime,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Http(String),
}

/// Settings for a [`Verifier`]; start with [`Verifier::builder`].
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    url: String,
    token: String,
    heartbeat: Duration,
    lease: Option<Duration>,
    ttl: Duration,
    capacity: u64,
    timeout: Duration,
    rate_limit: RateLimit,
    usage: bool,
    usage_every: Duration,
    usage_batch: usize,
    usage_queue: usize,
}

impl VerifierBuilder {
    /// The defaults: heartbeat 250 ms (lease 500 ms), TTL 60 s, 100 000 answers, timeout 2 s,
    /// local rate limits, usage every second with a queue of 10 000.
    pub(crate) fn new(url: String, token: String) -> Self {
        VerifierBuilder {
            url,
            token,
            heartbeat: Duration::from_millis(250),
            lease: None,
            ttl: Duration::from_secs(60),
            capacity: 100_000,
            timeout: Duration::from_secs(2),
            rate_limit: RateLimit::Local,
            usage: true,
            usage_every: Duration::from_secs(1),
            usage_batch: 500,
            usage_queue: 10_000,
        }
    }

    /// Latchkey's heartbeat (`--changes-heartbeat-ms`, default 250 ms); the lease defaults to
    /// twice it.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// How long after the stream's last event or heartbeat cached allows are still served.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// The hard backstop on a cached answer's age (default 60 s).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Most answers cached (default 100 000).
    pub fn cache_capacity(mut self, n: u64) -> Self {
        self.capacity = n;
        self
    }

    /// The deadline of each call to Latchkey (default 2 s; a failed verify is retried once).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Where rate limits are enforced (default [`RateLimit::Local`]).
    pub fn rate_limit(mut self, where_: RateLimit) -> Self {
        self.rate_limit = where_;
        self
    }

    /// Whether answers served from the cache are reported to `/v1/usage` (default on), how
    /// often, and the queue's bound (default every second, 10 000 events).
    pub fn usage(mut self, on: bool, every: Duration, queue: usize) -> Self {
        self.usage = on;
        self.usage_every = every;
        self.usage_queue = queue;
        self
    }

    /// Starts the change stream and the usage batches; call inside a Tokio runtime.
    pub fn build(self) -> Result<Verifier, BuildError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(BuildError::Url);
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| BuildError::NoRuntime)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .map_err(|e| BuildError::Http(e.to_string()))?;
        let inner = Arc::new(Inner {
            remote: Remote {
                http,
                base: self.url.trim_end_matches('/').to_owned(),
                token: self.token,
                timeout: self.timeout,
            },
            cache: Cache::new(self.capacity, self.ttl),
            lease: self.lease.unwrap_or(self.heartbeat * 2),
            origin: Instant::now(),
            last_beat: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            last_event_id: Mutex::new(None),
            rate_limit: self.rate_limit,
            limiters: moka::sync::Cache::builder()
                .max_capacity(self.capacity.max(1))
                .time_to_idle(Duration::from_secs(120))
                .build(),
            usage: self.usage.then(|| usage::Queue::new(self.usage_queue)),
            counters: Counters::default(),
        });
        runtime.spawn(stream::run(Arc::downgrade(&inner)));
        if self.usage {
            runtime.spawn(usage::flush_every(
                Arc::downgrade(&inner),
                self.usage_every,
                self.usage_batch,
            ));
        }
        Ok(Verifier { inner })
    }
}
