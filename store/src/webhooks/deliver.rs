//! The delivery worker, one per process: claims due deliveries fairly (`claim`: a lease in the
//! row, a cap per endpoint, tenants in turn), POSTs each signed the Standard Webhooks way on
//! its own task (a semaphore bounds how many are in flight), and records each attempt as soon
//! as it ends, so a receiver that never answers delays nobody else's deliveries. A failure is
//! retried with exponential backoff and jitter for 24 hours, then the delivery is marked
//! failed. A process killed mid-delivery leaves its claim to lapse, and the delivery is sent
//! again: at least once, receivers dedupe on `webhook-id`. Addresses inside the server's
//! network are refused when connecting (`reach`) unless private addresses are allowed.

use super::claim::{claim, Claimed};
use super::reach;
use super::record::Outcome;
use crate::db::Db;
use futures_util::StreamExt;
use latchkey_domain::error::AppResult;
use latchkey_domain::keys::Pepper;
use latchkey_domain::webhooks::{sign, signing_secret};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};

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
    /// Deliveries claimed at once (at most as many as there are free sending slots).
    pub batch: i64,
    /// Attempts in flight at once; each holds a slot until it is recorded.
    pub concurrency: usize,
    /// Attempts in flight at once to one endpoint, across replicas: a receiver that never
    /// answers holds at most this many slots.
    pub per_endpoint: i64,
    /// "Send test event" presses allowed per endpoint a minute.
    pub test_sends_per_minute: u32,
    /// Whether endpoints may be inside the server's network (`--webhook-allow-private`).
    /// Off: such addresses are refused when saved and again when connecting.
    pub allow_private: bool,
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
            concurrency: 32,
            // One at a time: each endpoint gets its events (and its log) in order.
            per_endpoint: 1,
            test_sends_per_minute: 5,
            allow_private: false,
        }
    }
}

pub struct Dispatcher {
    pub(super) db: Db,
    pepper: Arc<Pepper>,
    /// `None` only if the TLS client could not be set up: attempts then fail and are retried,
    /// never sent by a client without these settings.
    client: Option<reqwest::Client>,
    pub(super) config: DispatcherConfig,
    wake: Notify,
    /// Sending slots (`config.concurrency`).
    slots: Arc<Semaphore>,
    /// Test-event budgets, by endpoint row id.
    pub(super) test_sends: crate::throttle::Bounded<i64>,
}

#[derive(sqlx::FromRow)]
struct Target {
    url: String,
    secret_nonce: String,
    previous_nonce: Option<String>,
    previous_until: Option<i64>,
}

impl Dispatcher {
    /// Must be called inside a Tokio runtime when `config.background` is set.
    pub fn start(db: Db, pepper: Arc<Pepper>, config: DispatcherConfig) -> Arc<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect could point anywhere; receivers answer where they were registered.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the gate below.
            .no_proxy()
            .user_agent(concat!("Latchkey-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !config.allow_private {
            builder = builder.dns_resolver(Arc::new(reach::GuardedResolver));
        }
        let client = builder
            .build()
            .map_err(|e| tracing::error!(error = %e, "webhook client setup failed"))
            .ok();
        let me = Arc::new(Self {
            db,
            pepper,
            client,
            slots: Arc::new(Semaphore::new(config.concurrency.max(1))),
            test_sends: crate::throttle::Bounded::per_minute(config.test_sends_per_minute, 100_000),
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

    /// Claims what is due, sends it and records each attempt as it ends; returns how many
    /// were attempted once all have been (tests drive the worker with this).
    pub async fn deliver_due(&self) -> AppResult<usize> {
        let (claim, claimed) = claim(&self.db, &self.config, self.config.batch).await?;
        let n = claimed.len();
        let mut running: futures_util::stream::FuturesUnordered<_> = claimed
            .into_iter()
            .map(|c| async {
                let _slot = self.slots.acquire().await;
                self.attempt_and_record(c, &claim).await;
            })
            .collect();
        while running.next().await.is_some() {}
        Ok(n)
    }

    /// The background worker's round: claims as many as there are free slots and spawns each
    /// attempt, which records itself and frees its slot when it ends. Returns whether more may
    /// be due right away.
    async fn pump(me: &Arc<Self>) -> AppResult<bool> {
        let free = i64::try_from(me.slots.available_permits()).unwrap_or(i64::MAX);
        if free == 0 {
            // Every slot is busy; the first attempt to end wakes the loop.
            return Ok(false);
        }
        let want = me.config.batch.min(free);
        let (claim, claimed) = claim(&me.db, &me.config, want).await?;
        let n = i64::try_from(claimed.len()).unwrap_or(i64::MAX);
        let claim: Arc<str> = claim.into();
        for c in claimed {
            let Ok(slot) = me.slots.clone().acquire_owned().await else {
                break;
            };
            let (d, claim) = (me.clone(), claim.clone());
            tokio::spawn(async move {
                d.attempt_and_record(c, &claim).await;
                drop(slot);
                d.wake();
            });
        }
        Ok(n >= want)
    }

    async fn attempt_and_record(&self, c: Claimed, claim: &str) {
        match self.attempt(c, claim).await {
            Ok(Some((c, outcome))) => {
                // If this fails the claim lapses and the delivery is sent again: at least once.
                if let Err(e) = self.record(claim, &c, &outcome).await {
                    tracing::error!(error = %e, "recording a webhook attempt failed");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "a webhook attempt failed before sending"),
        }
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
        if !self.config.allow_private && reach::literal_refused(&t.url) {
            return Outcome::refused();
        }
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
            Err(e) if reach::was_refused(&e) => Outcome::refused(),
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
            match Dispatcher::pump(&d).await {
                Ok(true) => continue,
                Ok(false) => break,
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
            d.test_sends.housekeeping();
        }
        let notified = async { d.wake.notified().await };
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}
