//! The change log as a feed for `GET /v1/changes`: every row the triggers write to
//! `cache_invalidations` (migrations 0008 and 0015), read in id order by one task per process and
//! handed to every open stream through a bounded broadcast channel.
//!
//! Ids are monotonic and, on PostgreSQL, handed out in commit order (the triggers take one
//! transaction lock), so "everything after id N" is a well-defined resume point on any replica.
//! The reader applies each row to this process's verifier before it is broadcast: a host that
//! hears a change and asks `/v1/verify` again never gets this replica's stale answer.

use crate::db::Db;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, Notify};

/// Changes one process keeps for streams that have not read them yet. A stream further behind
/// than this is dropped (its client resumes from `Last-Event-ID`, read back from storage).
pub const BUFFERED: usize = 1024;

/// How long after its last successful read of the log a process still heartbeats its streams.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Most rows one read of the log returns; a longer backlog is read in pages.
pub const PAGE: i64 = 1000;

/// One row of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: i64,
    pub event: ChangeEvent,
    /// The trigger's payload (`key:<digest>` / `tenant:<row id>`), for this process's caches.
    pub target: String,
}

/// What changed, as a stream names it: by public ids only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEvent {
    /// A key's verdict may have changed (revoked, disabled, edited, rolled, resources lost).
    Key { key_id: String, tenant: String },
    /// Everything of a tenant may have changed (plan, suspension, limits, metadata).
    Tenant { tenant: String },
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    target: String,
    kind: String,
    key_id: Option<String>,
    tenant: String,
}

impl From<Row> for Change {
    fn from(r: Row) -> Self {
        let event = match (r.kind.as_str(), r.key_id) {
            ("key", Some(key_id)) => ChangeEvent::Key {
                key_id,
                tenant: r.tenant,
            },
            _ => ChangeEvent::Tenant { tenant: r.tenant },
        };
        Change {
            id: r.id,
            event,
            target: r.target,
        }
    }
}

/// The feed: the newest id read, when the log was last read, and the channel to the streams.
pub struct Changes {
    tx: broadcast::Sender<Arc<Change>>,
    cursor: AtomicI64,
    /// Milliseconds after `origin` of the last successful read (0: never).
    read_at: AtomicU64,
    origin: Instant,
    /// A read is only "fresh" this long; past it streams stop their heartbeats, so a client's
    /// lease lapses rather than trusting a replica that cannot read its own log.
    fresh_for: Duration,
    wake: Notify,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("cursor", &self.cursor())
            .finish_non_exhaustive()
    }
}

impl Changes {
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            tx: broadcast::channel(BUFFERED).0,
            cursor: AtomicI64::new(-1),
            read_at: AtomicU64::new(0),
            origin: Instant::now(),
            fresh_for,
            wake: Notify::new(),
        }
    }

    /// A receiver of every change read from now on, and the newest id read before it
    /// (`None` until the log has been read once).
    pub fn subscribe(&self) -> (broadcast::Receiver<Arc<Change>>, Option<i64>) {
        let rx = self.tx.subscribe();
        (rx, self.cursor())
    }

    /// The newest id read (`None` until the log has been read once).
    pub fn cursor(&self) -> Option<i64> {
        let c = self.cursor.load(Ordering::Acquire);
        (c >= 0).then_some(c)
    }

    /// Whether the log was read successfully within the freshness window.
    pub fn is_fresh(&self) -> bool {
        let at = self.read_at.load(Ordering::Acquire);
        at > 0 && self.elapsed_ms().saturating_sub(at) <= self.fresh_for.as_millis() as u64
    }

    /// Open streams (receivers), for metrics and the bound tests.
    pub fn streams(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Asks the reader to read now (a NOTIFY arrived).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) async fn woken_or(&self, wait: Duration) {
        let _ = tokio::time::timeout(wait, self.wake.notified()).await;
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    pub(super) fn mark_read(&self, cursor: i64) {
        self.cursor.store(cursor, Ordering::Release);
        self.read_at.store(self.elapsed_ms(), Ordering::Release);
    }

    pub(super) fn publish(&self, change: Change) {
        self.cursor.store(change.id, Ordering::Release);
        // No receiver is not an error: nobody streams right now.
        let _ = self.tx.send(Arc::new(change));
    }
}

/// The newest id in the log (0 when it is empty).
pub async fn newest(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM cache_invalidations")
        .fetch_one(&db.pool)
        .await
        .map(|m| m.unwrap_or(0))
}

/// The oldest id still kept (`None`: the log is empty).
pub async fn oldest(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MIN(id) FROM cache_invalidations")
        .fetch_one(&db.pool)
        .await
}

/// Up to [`PAGE`] rows after `after` and at most `upto`, oldest first.
pub async fn after(db: &Db, after: i64, upto: i64) -> Result<Vec<Change>, sqlx::Error> {
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, target, kind, key_id, tenant FROM cache_invalidations \
         WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(upto)
    .bind(PAGE)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Change::from).collect())
}

/// Whether a stream may resume after `last_seen` from the kept log: every id after it is still
/// there. `false` means its client must be told to drop everything (`reset`).
pub async fn can_resume(db: &Db, last_seen: i64, cursor: i64) -> Result<bool, sqlx::Error> {
    if last_seen > cursor || last_seen < 0 {
        // From another database, or from before this one was emptied.
        return Ok(false);
    }
    if last_seen == cursor {
        return Ok(true);
    }
    Ok(match oldest(db).await? {
        // Rows before the oldest kept one were pruned; one right after `last_seen` is fine.
        Some(min) => min <= last_seen + 1,
        None => false,
    })
}
