//! Usage: each identified `/v1` request becomes a request-log row and moves the key's "last
//! used", written in batches by one background task. The request path only pushes onto a
//! queue bounded by count and by bytes (`try_send`): it never waits for storage, and a full
//! queue drops (and counts) rather than slowing verification down. Nor does it wake the writer:
//! the writer drains the queue on its interval, when a batch's worth has arrived, or on
//! `flush` (a wake per request cost a thread hand-off each: measured in `make bench`).
//!
//! Refusals of an identified key (revoked, expired, wrong address, suspended, rate limited)
//! are what a leaked-then-revoked key produces at any rate an attacker likes, so they are
//! logged at most `refusal_rows_per_minute` times per key; the rest are counted and written
//! as one summary row per key a minute. A refusal never moves "last used".

use super::tally::{hour_of, Tally};
use crate::db::{now_ms, Db};
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub mod posted;
mod writer;
pub use writer::prune;
pub(crate) use writer::write_batch;
use writer::{run, Inbox};

/// Longest path a request-log row keeps, in bytes (a path may be up to 64 KiB).
pub const PATH_MAX: usize = 256;

/// One request made with an identified key.
#[derive(Debug, Clone)]
pub struct UsageEvent {
    pub tenant_id: i64,
    pub key_row_id: i64,
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub client_ip: Option<IpAddr>,
    pub latency_us: u64,
    pub request_id: String,
    /// Verification refused the key: logged within the per-key budget, never "last used".
    pub refused: bool,
}

impl UsageEvent {
    /// What this event holds in memory while queued (the queue's byte bound counts this).
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.method.len() + self.path.len() + self.request_id.len()
    }
}

#[derive(Debug, Clone)]
pub struct UsageConfig {
    /// How often queued events are written.
    pub flush_interval: Duration,
    /// A batch this large is written at once, without waiting for the interval.
    pub batch_max: usize,
    /// Queue length; beyond it events are dropped and counted.
    pub queue: usize,
    /// Queue size in bytes; beyond it events are dropped and counted.
    pub queue_bytes: usize,
    /// Refusals logged per key per minute (GCRA: a burst of this many, then evenly).
    pub refusal_rows_per_minute: u32,
    /// How often the counts of refusals not logged are written (one row per key).
    pub summary_every: Duration,
    /// Request-log rows older than this are pruned.
    pub retention: Duration,
    pub prune_every: Duration,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_secs(1),
            batch_max: 2_000,
            queue: 100_000,
            queue_bytes: 64 << 20,
            refusal_rows_per_minute: 60,
            summary_every: Duration::from_secs(60),
            retention: Duration::from_secs(30 * 86_400),
            prune_every: Duration::from_secs(3_600),
        }
    }
}

/// Counters, for tests and the benchmark.
#[derive(Debug, Default)]
pub struct UsageStats {
    pub recorded: AtomicU64,
    pub dropped: AtomicU64,
    /// Batches written (one transaction each).
    pub flushes: AtomicU64,
    pub rows_written: AtomicU64,
    pub failed_rows: AtomicU64,
    /// Refusals past their key's log budget: counted, not logged one by one.
    pub refusals_unlogged: AtomicU64,
    /// Bytes of the events queued now.
    pub queued_bytes: AtomicUsize,
    /// Events queued now.
    pub queued_events: AtomicUsize,
}

/// Refusals of one key not logged one by one since the last summary.
#[derive(Debug, Clone)]
struct Unlogged {
    tenant_id: i64,
    count: u64,
    last_status: u16,
    /// The same refusals by (hour, status), for the hourly counters (which count every one).
    buckets: std::collections::BTreeMap<(i64, u16), u64>,
}

type KeyedLimiter = RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>;

pub struct Usage {
    /// Never awaited on by the writer (it only `try_recv`s), so a send wakes no task.
    events: mpsc::Sender<UsageEvent>,
    /// `flush` requests; the writer stops when this closes (the `Usage` is gone).
    flushes: mpsc::Sender<oneshot::Sender<()>>,
    /// Told when a batch's worth is queued, so a burst is written without waiting.
    batch_ready: Arc<tokio::sync::Notify>,
    batch_max: usize,
    pub stats: Arc<UsageStats>,
    max_bytes: usize,
    refusal_budget: KeyedLimiter,
    /// Keyed by key row id; keys are rows of our own table, so this is bounded by them.
    unlogged: Arc<Mutex<HashMap<i64, Unlogged>>>,
    /// Requests dropped by a full queue: not logged, still counted (by key, hour and status,
    /// so bounded by keys; emptied at every write).
    overflow: Arc<Mutex<Tally>>,
}

impl Usage {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(db: Db, config: UsageConfig) -> Self {
        let (events, queue) = mpsc::channel(config.queue.max(1));
        let (flushes, flush_rx) = mpsc::channel(16);
        let batch_ready = Arc::new(tokio::sync::Notify::new());
        let stats = Arc::new(UsageStats::default());
        let unlogged = Arc::new(Mutex::new(HashMap::new()));
        let overflow = Arc::new(Mutex::new(Tally::default()));
        let per_minute =
            NonZeroU32::new(config.refusal_rows_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let usage = Self {
            events,
            flushes,
            batch_ready: batch_ready.clone(),
            batch_max: config.batch_max.max(1),
            stats: stats.clone(),
            max_bytes: config.queue_bytes,
            refusal_budget: RateLimiter::keyed(Quota::per_minute(per_minute)),
            unlogged: unlogged.clone(),
            overflow: overflow.clone(),
        };
        let inbox = Inbox {
            queue,
            flushes: flush_rx,
            batch_ready,
            overflow,
        };
        tokio::spawn(run(db, inbox, config, stats, unlogged));
        usage
    }

    /// Events waiting to be written now.
    pub fn queue_len(&self) -> usize {
        self.stats.queued_events.load(Ordering::Relaxed)
    }

    /// Queues one event. Never waits.
    pub fn record(&self, mut event: UsageEvent) {
        if event.refused && self.refusal_budget.check_key(&event.key_row_id).is_err() {
            self.stats.refusals_unlogged.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut map) = self.unlogged.lock() {
                let entry = map.entry(event.key_row_id).or_insert(Unlogged {
                    tenant_id: event.tenant_id,
                    count: 0,
                    last_status: event.status,
                    buckets: Default::default(),
                });
                entry.count += 1;
                entry.last_status = event.status;
                *entry
                    .buckets
                    .entry((hour_of(event.at_ms), event.status))
                    .or_insert(0) += 1;
            }
            return;
        }
        if event.path.len() > PATH_MAX {
            event.path = clipped(&event.path);
        }
        let bytes = event.bytes();
        let queued = self.stats.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        if queued + bytes > self.max_bytes {
            self.stats.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.dropped(&event);
            return;
        }
        match self.events.try_send(event) {
            Ok(()) => {
                self.stats.recorded.fetch_add(1, Ordering::Relaxed);
                let queued = self.stats.queued_events.fetch_add(1, Ordering::Relaxed) + 1;
                if queued.is_multiple_of(self.batch_max) {
                    self.batch_ready.notify_one();
                }
            }
            Err(e) => {
                self.stats.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                self.dropped(&e.into_inner());
            }
        }
    }

    /// A request the queue had no room for: counted as dropped, and in the hourly counters.
    fn dropped(&self, e: &UsageEvent) {
        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut t) = self.overflow.lock() {
            t.add(e.tenant_id, e.key_row_id, e.at_ms, e.status, 1);
        }
    }

    /// Forgets the refusal budgets of keys that are idle again (periodic upkeep).
    pub fn housekeeping(&self) {
        self.refusal_budget.retain_recent();
    }

    /// Writes everything queued so far and waits for it (shutdown, tests).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.flushes.send(ack).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// The head of `s` a request-log row keeps (at most [`PATH_MAX`] bytes), copied, with any NUL
/// replaced: PostgreSQL text cannot hold one, and the row would fail its whole batch.
pub fn clipped(s: &str) -> String {
    let s: std::borrow::Cow<'_, str> = if s.contains('\0') {
        s.replace('\0', "\u{fffd}").into()
    } else {
        s.into()
    };
    let mut end = s.len().min(PATH_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// One summary row per key whose refusals were not all logged, then empties the counts into
/// `tally` (the summary rows themselves are not counted again).
fn summaries(unlogged: &Mutex<HashMap<i64, Unlogged>>, tally: &mut Tally) -> Vec<UsageEvent> {
    let taken = match unlogged.lock() {
        Ok(mut map) => std::mem::take(&mut *map),
        Err(_) => return Vec::new(),
    };
    let now = now_ms();
    for (key_row_id, u) in &taken {
        for ((hour, status), n) in &u.buckets {
            tally.add(u.tenant_id, *key_row_id, *hour, *status, *n);
        }
    }
    taken
        .into_iter()
        .map(|(key_row_id, u)| UsageEvent {
            tenant_id: u.tenant_id,
            key_row_id,
            at_ms: now,
            method: "REFUSED".to_owned(),
            path: format!("{} more refusals not logged one by one", u.count),
            status: u.last_status,
            client_ip: None,
            latency_us: 0,
            request_id: String::new(),
            refused: true,
        })
        .collect()
}
