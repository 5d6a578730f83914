//! The delivery worker, one per process: claims due deliveries (a lease in the row; on
//! PostgreSQL `FOR UPDATE SKIP LOCKED`, so of several replicas exactly one takes each), POSTs
//! them signed the Standard Webhooks way, and records each attempt. A failure is retried with
//! exponential backoff and jitter for 24 hours, then the delivery is marked failed. A process
//! killed mid-delivery leaves its claim to lapse, and the delivery is sent again: at least once,
//! receivers dedupe on `webhook-id`.

use crate::db::{Db, Engine};
use latchkey_domain::error::AppResult;
use latchkey_domain::keys::Pepper;
use latchkey_domain::webhooks::{next_attempt_at, sign, signing_secret, ATTEMPTS_KEPT};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// The first retry's wait; each later one doubles (at most an hour), with jitter.
    pub retry_base: Duration,
    /// How often the worker looks for due deliveries when nothing wakes it.
    pub poll: Duration,
    /// How often expiring, expired and unused keys are looked for.
    pub scan_every: Duration,
    /// Run the worker in the background (tests that drive it step by step turn it off).
    pub background: bool,
    /// Deliveries claimed and sent at once.
    pub batch: i64,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            poll: Duration::from_secs(1),
            scan_every: Duration::from_secs(60),
            background: true,
            batch: 16,
        }
    }
}

pub struct Dispatcher {
    db: Db,
    pepper: Arc<Pepper>,
    /// `None` only if the TLS client could not be set up: attempts then fail and are retried,
    /// never sent by a client without these settings.
    client: Option<reqwest::Client>,
    config: DispatcherConfig,
    wake: Notify,
}

/// A delivery this process has claimed.
#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    endpoint_id: i64,
    event_id: String,
    event_type: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Target {
    url: String,
    secret_nonce: String,
    previous_nonce: Option<String>,
    previous_until: Option<i64>,
}

/// What one attempt came to.
struct Outcome {
    status_code: Option<u16>,
    error: Option<String>,
    latency_ms: i64,
}

impl Dispatcher {
    /// Must be called inside a Tokio runtime when `config.background` is set.
    pub fn start(db: Db, pepper: Arc<Pepper>, config: DispatcherConfig) -> Arc<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect could point anywhere; receivers answer where they were registered.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Latchkey-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| tracing::error!(error = %e, "webhook client setup failed"))
            .ok();
        let me = Arc::new(Self {
            db,
            pepper,
            client,
            config,
            wake: Notify::new(),
        });
        if me.config.background {
            tokio::spawn(run(Arc::downgrade(&me)));
        }
        me
    }

    /// Asks the worker to look now (after a commit that queued something).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Finds expiring, expired and unused keys and queues their events (each once).
    pub async fn scan(&self) -> AppResult<usize> {
        super::scan::run(&self.db).await
    }

    /// Claims what is due and sends it; returns how many were attempted.
    pub async fn deliver_due(&self) -> AppResult<usize> {
        let now = self.db.clock.now_ms();
        // Longer than an attempt can take (the timeout), so a live worker's claim never lapses.
        let lease = i64::try_from(self.config.timeout.as_millis())
            .unwrap_or(i64::MAX / 4)
            .saturating_add(5_000);
        let lock = match self.db.engine {
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        // Only this claim's holder records the attempt: a worker whose claim lapsed (it took
        // longer than the lease) finds its row taken and records nothing.
        let claim = latchkey_domain::keys::random_base62(16);
        let claimed = sqlx::query_as::<_, Claimed>(&format!(
            "UPDATE webhook_deliveries SET locked_until = $1, claim = $4 WHERE id IN (\
             SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
             AND (locked_until IS NULL OR locked_until <= $2) \
             ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING id, endpoint_id, event_id, event_type, payload, attempts, created_at"
        ))
        .bind(now.saturating_add(lease))
        .bind(now)
        .bind(self.config.batch)
        .bind(&claim)
        .fetch_all(&self.db.pool)
        .await?;
        let n = claimed.len();
        let sends = claimed.into_iter().map(|c| self.attempt(c, &claim));
        let mut done = Vec::with_capacity(n);
        for result in futures_util::future::join_all(sends).await {
            match result {
                Ok(Some(attempted)) => done.push(attempted),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "a webhook attempt failed before sending"),
            }
        }
        // One transaction records the whole batch (one commit, not one per attempt). If it
        // fails, the claims lapse and the batch is sent again: at least once.
        if let Err(e) = self.record(&claim, done).await {
            tracing::error!(error = %e, "recording webhook attempts failed");
        }
        Ok(n)
    }

    /// Sends one claimed delivery; `None` when its endpoint is gone.
    async fn attempt(&self, c: Claimed, claim: &str) -> AppResult<Option<(Claimed, Outcome)>> {
        let target = sqlx::query_as::<_, Target>(
            "SELECT url, secret_nonce, previous_nonce, previous_until FROM webhook_endpoints \
             WHERE id = $1",
        )
        .bind(c.endpoint_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(target) = target else {
            // Queued by a change that raced the endpoint's removal: nobody to send it to.
            sqlx::query("DELETE FROM webhook_deliveries WHERE id = $1 AND claim = $2")
                .bind(c.id)
                .bind(claim)
                .execute(&self.db.pool)
                .await?;
            return Ok(None);
        };
        let outcome = self.send(&c, &target).await;
        Ok(Some((c, outcome)))
    }

    async fn send(&self, c: &Claimed, t: &Target) -> Outcome {
        let now = self.db.clock.now_ms();
        // Receivers compare it with their own clock: the wall clock, not the store's test clock.
        let timestamp = crate::db::now_ms() / 1000;
        let mut nonces = vec![t.secret_nonce.as_str()];
        if let (Some(prev), Some(until)) = (&t.previous_nonce, t.previous_until) {
            if until > now {
                nonces.push(prev);
            }
        }
        let signatures: Vec<String> = nonces
            .into_iter()
            .filter_map(|n| {
                sign(
                    &signing_secret(&self.pepper, n),
                    &c.event_id,
                    timestamp,
                    &c.payload,
                )
            })
            .collect();
        let Some(client) = &self.client else {
            return Outcome {
                status_code: None,
                error: Some("Latchkey could not set up its HTTP client".to_owned()),
                latency_ms: 0,
            };
        };
        let started = Instant::now();
        let sent = client
            .post(&t.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &c.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(c.payload.clone())
            .send()
            .await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match sent {
            Ok(resp) => Outcome {
                status_code: Some(resp.status().as_u16()),
                error: None,
                latency_ms,
            },
            Err(e) => Outcome {
                status_code: None,
                error: Some(if e.is_timeout() {
                    format!("No answer within {} s", self.config.timeout.as_secs_f32())
                } else if e.is_connect() {
                    "Could not connect".to_owned()
                } else {
                    "The request failed".to_owned()
                }),
                latency_ms,
            },
        }
    }

    /// Records a batch's attempts: each delivery's new state, an attempt row, and each
    /// endpoint's log pruned to its last 100.
    async fn record(&self, claim: &str, mut done: Vec<(Claimed, Outcome)>) -> AppResult<()> {
        if done.is_empty() {
            return Ok(());
        }
        // In queue order, so the log reads in the order events happened.
        done.sort_by_key(|(c, _)| c.id);
        let now = self.db.clock.now_ms();
        let mut tx = self.db.pool.begin().await?;
        let mut states = Vec::with_capacity(done.len());
        let mut endpoints = std::collections::BTreeSet::new();
        for (c, o) in &done {
            if let Some(state) = self.record_one(&mut tx, now, claim, c, o).await? {
                states.push((c, o, state));
                endpoints.insert(c.endpoint_id);
            }
        }
        for endpoint in endpoints {
            sqlx::query(
                "DELETE FROM webhook_attempts WHERE endpoint_id = $1 AND id <= (\
                 SELECT id FROM webhook_attempts WHERE endpoint_id = $1 \
                 ORDER BY id DESC LIMIT 1 OFFSET $2)",
            )
            .bind(endpoint)
            .bind(ATTEMPTS_KEPT)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        for (c, o, state) in states {
            metrics::counter!("latchkey_webhook_attempts_total", "outcome" => state).increment(1);
            tracing::info!(event = %c.event_id, kind = %c.event_type, state, status = ?o.status_code, "webhook attempt");
        }
        Ok(())
    }

    /// One attempt's row and its delivery's new state; `None` when the claim is no longer
    /// this worker's (it lapsed and another worker took over, or the endpoint was removed).
    async fn record_one(
        &self,
        tx: &mut sqlx::AnyConnection,
        now: i64,
        claim: &str,
        c: &Claimed,
        o: &Outcome,
    ) -> AppResult<Option<&'static str>> {
        let delivered = o.status_code.is_some_and(|s| (200..300).contains(&s));
        let attempt = u32::try_from(c.attempts + 1).unwrap_or(u32::MAX);
        let retry_base = i64::try_from(self.config.retry_base.as_millis()).unwrap_or(5_000);
        let next = if delivered {
            None
        } else {
            let jitter = 0.5 + rand::random::<f64>();
            next_attempt_at(c.created_at, now, retry_base, attempt, jitter)
        };
        let state = match (delivered, next) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let updated = sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
             next_attempt_at = $2, locked_until = NULL, claim = NULL \
             WHERE id = $3 AND state = 'pending' AND claim = $4",
        )
        .bind(state)
        .bind(next.unwrap_or(now))
        .bind(c.id)
        .bind(claim)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO webhook_attempts (endpoint_id, delivery_id, event_id, event_type, at, \
             status_code, latency_ms, error, next_retry_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.endpoint_id)
        .bind(c.id)
        .bind(&c.event_id)
        .bind(&c.event_type)
        .bind(now)
        .bind(o.status_code.map(i64::from))
        .bind(o.latency_ms)
        .bind(&o.error)
        .bind(next)
        .execute(&mut *tx)
        .await?;
        Ok(Some(state))
    }

    /// Drops finished deliveries older than a week (their attempts stay in the log).
    pub async fn prune(&self) -> AppResult<u64> {
        let cut = self.db.clock.now_ms() - 7 * 86_400_000;
        Ok(sqlx::query(
            "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND created_at < $1",
        )
        .bind(cut)
        .execute(&self.db.pool)
        .await?
        .rows_affected())
    }
}

/// The background loop: deliver what is due whenever woken or every `poll`; scan for
/// time-based events every `scan_every`; prune hourly. Ends when the dispatcher is dropped.
async fn run(me: Weak<Dispatcher>) {
    let Some(first) = me.upgrade() else { return };
    let (poll, scan_every) = (first.config.poll, first.config.scan_every);
    drop(first);
    let mut last_scan: Option<Instant> = None;
    let mut last_prune = Instant::now();
    loop {
        let Some(d) = me.upgrade() else { return };
        loop {
            match d.deliver_due().await {
                Ok(n) if i64::try_from(n).unwrap_or(0) >= d.config.batch => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery round failed");
                    break;
                }
            }
        }
        if last_scan.is_none_or(|at| at.elapsed() >= scan_every) {
            last_scan = Some(Instant::now());
            match d.scan().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(notices = n, "time-based key events queued");
                    continue;
                }
                Err(e) => tracing::error!(error = %e, "webhook scan failed"),
            }
        }
        if last_prune.elapsed() >= Duration::from_secs(3600) {
            last_prune = Instant::now();
            if let Err(e) = d.prune().await {
                tracing::error!(error = %e, "webhook prune failed");
            }
        }
        let notified = async { d.wake.notified().await };
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}
