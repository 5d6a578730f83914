//! Verifying API keys on every `/v1` call: format and checksum first (no storage touched), then
//! the HMAC digest, an in-process cache, storage, the key's rules and its plan's rate limit.
//!
//! Writes that change what a key may do (revoke, disable, roll, allowlist edit, plan change) call
//! [`Verifier::forget_key`] / [`Verifier::forget_tenant`], so this process's very next request
//! sees them; every other process hears of them from storage ([`push`]: `NOTIFY` on
//! PostgreSQL, a polled change table on SQLite) and, while it cannot hear, reads storage on
//! every request. The cache's time-to-live is only a last bound.

pub mod changes;
mod invalidate;
mod limiter;
pub mod push;
mod records;
mod reported;
mod request_ids;
mod row;
pub mod shared;
pub mod tally;
pub use shared::check_rate_store;
pub mod usage;

use crate::throttle::{client_key, FailureGate, BLOCK_SECS};
use limiter::Limiters;
pub use limiter::{RateInfo, RATE_WINDOW_SECS};
pub use records::{KeyRecord, Refusal, TenantRecord, Verified, VerifyError};
pub use request_ids::RequestIds;
use row::{VerifyRow, KEY_COLUMNS};

use crate::db::Db;
use crate::limits::Limits;
use latchkey_domain::keys::{self, Digest, Pepper};
use latchkey_domain::verify::{self as rules, KeyState, Rejection};
use latchkey_domain::Plan;
use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Most keys (and, separately, unknown digests) remembered; 0 turns caching off.
    pub cache_capacity: u64,
    /// Upper bound on how stale an entry may be (changes from other processes).
    pub cache_ttl: Duration,
    pub limits: Limits,
    /// Failed verifications of well-formed keys allowed per client address a minute.
    pub failed_per_minute: u32,
    /// Most client addresses the failure throttle tracks at once.
    pub failed_clients_cap: usize,
    /// `redis://…` to share each key's rate limit with every replica; `None`: per process.
    pub shared_rate_limits: Option<String>,
    /// First wait before listening again after losing the PostgreSQL listener (doubling to 5 s).
    pub listener_retry: Duration,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            cache_capacity: 100_000,
            cache_ttl: Duration::from_secs(10),
            limits: Limits::default(),
            failed_per_minute: 120,
            failed_clients_cap: 100_000,
            shared_rate_limits: None,
            listener_retry: Duration::from_millis(100),
        }
    }
}

pub struct Verifier {
    db: Db,
    pepper: Arc<Pepper>,
    caching: bool,
    keys: Cache<Digest, Arc<KeyRecord>>,
    /// Digests that matched no key. Safe to remember: a new key's digest comes from a fresh
    /// 190-bit secret, so it cannot already be in here.
    unknown: Cache<Digest, ()>,
    tenants: Cache<i64, Arc<TenantRecord>>,
    /// Bumped by every invalidation, so a lookup that raced a write never re-caches stale data.
    epoch: AtomicU64,
    /// Whether this process hears every change ([`push`]); until it does, the caches are
    /// neither read nor filled.
    listening: AtomicBool,
    limiters: Limiters,
    /// Budgets kept in Redis for every replica at once; the local `limiters` answer when
    /// it is not configured or does not answer.
    shared: Option<Arc<shared::SharedLimiter>>,
    failed: FailureGate,
    /// Key lookups that reached storage (the throttle's effect is visible here).
    pub storage_lookups: AtomicU64,
    pub usage: usage::Usage,
    pub request_ids: RequestIds,
    /// The change log as read by this process, for `GET /v1/changes`.
    pub changes: Arc<changes::Changes>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("caching", &self.caching)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Must be called inside a Tokio runtime: it starts the usage writer and the task that
    /// hears invalidations from storage (the cache is bypassed until that one listens).
    pub fn start(
        db: Db,
        pepper: Arc<Pepper>,
        config: VerifierConfig,
        usage_config: usage::UsageConfig,
    ) -> Arc<Self> {
        let retry = config.listener_retry;
        let verifier = Arc::new(Self::new(db.clone(), pepper, config, usage_config));
        push::start(db, Arc::downgrade(&verifier), retry);
        verifier
    }

    /// A verifier that hears no invalidations (so never trusts its cache): for measuring the
    /// storage path. Must be called inside a Tokio runtime: it starts the usage writer.
    /// A Redis URL that does not parse is logged and leaves limits per process: `serve`
    /// refuses one earlier ([`check_rate_store`]).
    pub fn new(
        db: Db,
        pepper: Arc<Pepper>,
        config: VerifierConfig,
        usage_config: usage::UsageConfig,
    ) -> Self {
        let ttl = config.cache_ttl;
        let shared = config.shared_rate_limits.as_deref().and_then(|url| {
            shared::SharedLimiter::new(url)
                .map(Arc::new)
                .map_err(|e| tracing::error!(error = %e, "Redis rate-limit store refused; limiting per process"))
                .ok()
        });
        Self {
            shared,
            usage: usage::Usage::start(db.clone(), usage_config),
            db,
            pepper,
            caching: config.cache_capacity > 0,
            keys: bounded(config.cache_capacity, ttl),
            unknown: bounded(config.cache_capacity, ttl),
            tenants: bounded(config.cache_capacity / 10 + 100, ttl),
            epoch: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            limiters: Limiters::new(config.limits),
            failed: FailureGate::new(config.failed_per_minute, config.failed_clients_cap),
            storage_lookups: AtomicU64::new(0),
            request_ids: RequestIds::new(),
            changes: Arc::new(changes::Changes::new(changes::FRESH_FOR)),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limiters.limits
    }

    /// Verifies a presented key for a caller at `client` (`None`: unknown address) and takes one
    /// request from its rate limit. The endpoint's scope is checked by the caller afterwards.
    pub async fn verify(
        &self,
        presented: &str,
        client: Option<IpAddr>,
    ) -> Result<Verified, VerifyError> {
        let (key, tenant) = self.admit(presented, client).await?;
        match self.take_rate(&key, &tenant).await {
            Ok(rate) => Ok(Verified { key, tenant, rate }),
            Err(rejection) => Err(VerifyError::Refused(Refusal {
                rejection,
                key: Some(key),
                rate: Some(RateInfo {
                    limit: self.per_minute(&tenant),
                    remaining: 0,
                    reset_secs: RATE_WINDOW_SECS,
                }),
            })),
        }
    }

    /// A key's requests a minute in this tenant: the operator's figure, else the plan's.
    pub fn per_minute(&self, tenant: &TenantRecord) -> u32 {
        match tenant.plan {
            Plan::Starter => 0,
            _ => tenant
                .rate_per_minute
                .unwrap_or_else(|| self.limiters.limits.per_minute(tenant.plan)),
        }
    }

    /// One request from the key's budget: in Redis when shared and answering, else here.
    async fn take_rate(
        &self,
        key: &KeyRecord,
        tenant: &TenantRecord,
    ) -> Result<RateInfo, Rejection> {
        if let (Some(shared), true) = (&self.shared, tenant.plan != Plan::Starter) {
            let limit = self.per_minute(tenant);
            if let Ok(answer) = shared.take(&format!("key:{}", key.public_id), limit).await {
                return answer;
            }
        }
        self.limiters
            .take(tenant.plan, tenant.rate_per_minute, key.row_id)
    }

    /// Everything but the rate limit: format, digest, lookup, revoked, expired, plan, address.
    async fn admit(
        &self,
        presented: &str,
        client: Option<IpAddr>,
    ) -> Result<(Arc<KeyRecord>, Arc<TenantRecord>), VerifyError> {
        // Typos and junk stop here, before any hashing or storage.
        let parsed = keys::parse(presented).map_err(|_| Rejection::InvalidApiKey)?;
        let digest = Digest::of(&self.pepper, parsed.full);
        let client_key = client_key(client);
        let Some(key) = self.key_by_digest(&digest, client_key).await? else {
            let _ = self.failed.failed(client_key);
            return Err(Rejection::InvalidApiKey.into());
        };
        let tenant = self.tenant(key.tenant_id).await?;
        // A suspended tenant refuses its keys, after revocation (which stays the truth).
        if tenant.suspended && !key.revoked {
            return Err(VerifyError::Refused(Refusal {
                rejection: Rejection::TenantSuspended,
                key: Some(key),
                rate: None,
            }));
        }
        let state = KeyState {
            revoked: key.revoked,
            disabled: key.disabled,
            expires_at: key.expires_at,
            allowlist: &key.allowlist,
        };
        match rules::admit(state, tenant.plan, client, self.db.clock.now_ms()) {
            Ok(()) => Ok((key, tenant)),
            Err(rejection) => Err(VerifyError::Refused(Refusal {
                rejection,
                key: Some(key),
                rate: None,
            })),
        }
    }

    /// The key with this digest: from the cache, else from storage unless `client` is blocked
    /// (then `rate_limited`). The block list is read only on a cache miss, off the hot path.
    async fn key_by_digest(
        &self,
        digest: &Digest,
        client: u128,
    ) -> Result<Option<Arc<KeyRecord>>, VerifyError> {
        let caching = self.cache_trusted();
        if caching {
            if let Some(hit) = self.keys.get(digest) {
                metrics::counter!("latchkey_key_cache_total", "result" => "hit").increment(1);
                return Ok(Some(hit));
            }
            if self.unknown.contains_key(digest) {
                metrics::counter!("latchkey_key_cache_total", "result" => "hit").increment(1);
                return Ok(None);
            }
            metrics::counter!("latchkey_key_cache_total", "result" => "miss").increment(1);
        } else {
            metrics::counter!("latchkey_key_cache_total", "result" => "bypass").increment(1);
        }
        if self.failed.is_blocked(client) {
            return Err(Rejection::RateLimited {
                retry_after_secs: BLOCK_SECS,
            }
            .into());
        }
        self.storage_lookups.fetch_add(1, Ordering::Relaxed);
        let epoch = self.epoch.load(Ordering::SeqCst);
        let row = sqlx::query_as::<_, VerifyRow>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE digest = $1"
        ))
        .bind(digest.to_hex())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(unavailable)?;
        let record = match row {
            Some(row) => {
                // The index found it by equality; compare again in constant time so no timing
                // difference depends on how much of a digest matched.
                if !Digest::from_hex(&row.digest).is_some_and(|d| d.ct_eq(digest)) {
                    return Ok(None);
                }
                let mut record = KeyRecord::try_from(row).map_err(unavailable)?;
                if let Some(limit) = record.resources.as_mut() {
                    limit.ids = sqlx::query_scalar::<_, String>(
                        "SELECT resource_id FROM key_resources WHERE key_id = $1",
                    )
                    .bind(record.row_id)
                    .fetch_all(&self.db.pool)
                    .await
                    .map_err(unavailable)?;
                }
                Some(Arc::new(record))
            }
            None => None,
        };
        if caching {
            match &record {
                Some(r) => self.keys.insert(digest.clone(), r.clone()),
                None => self.unknown.insert(digest.clone(), ()),
            }
            // An invalidation ran while we read: what we cached may predate it.
            if self.epoch.load(Ordering::SeqCst) != epoch {
                self.keys.invalidate(digest);
            }
        }
        Ok(record)
    }

    async fn tenant(&self, id: i64) -> Result<Arc<TenantRecord>, VerifyError> {
        let caching = self.cache_trusted();
        if caching {
            if let Some(hit) = self.tenants.get(&id) {
                return Ok(hit);
            }
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let row = crate::operator::tenants::by_id(&self.db, id)
            .await
            .map_err(|e| match e {
                latchkey_domain::error::AppError::NotFound => {
                    VerifyError::from(Rejection::InvalidApiKey)
                }
                other => unavailable(other),
            })?;
        let record = Arc::new(TenantRecord {
            id: row.id,
            public_id: row.public_id,
            external_id: row.external_id,
            slug: row.slug,
            name: row.name,
            plan: row.plan,
            suspended: row.status == latchkey_domain::operator::TenantStatus::Suspended,
            metadata: row.metadata,
            rate_per_minute: row.rate_per_minute,
        });
        if caching {
            self.tenants.insert(id, record.clone());
            if self.epoch.load(Ordering::SeqCst) != epoch {
                self.tenants.invalidate(&id);
            }
        }
        Ok(record)
    }

    /// The Redis store every budget is shared through, when configured (sign-in uses it too).
    pub fn shared_store(&self) -> Option<Arc<shared::SharedLimiter>> {
        self.shared.clone()
    }

    /// Periodic upkeep: forget rate-limit and throttle state that is idle again, bound the
    /// throttle's memory, expire cache entries.
    pub fn housekeeping(&self) {
        self.limiters.retain_recent();
        self.failed.housekeeping();
        self.usage.housekeeping();
        self.keys.run_pending_tasks();
        self.unknown.run_pending_tasks();
    }

    /// (clients with a failure budget, clients blocked): the throttle's memory, for tests.
    pub fn failure_throttle_sizes(&self) -> (usize, u64) {
        self.failed.sizes()
    }
}

fn bounded<K, V>(capacity: u64, ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(capacity.max(1))
        .time_to_live(ttl)
        .build()
}

fn unavailable(e: impl std::fmt::Display) -> VerifyError {
    tracing::error!(error = %e, "key verification could not read storage");
    VerifyError::Unavailable
}
