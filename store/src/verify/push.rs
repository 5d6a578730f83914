//! Cache invalidation pushed from storage to every process on the database.
//!
//! Database triggers (migration 0008) announce every change to what a key or a tenant may do,
//! inside the writer's transaction, whoever the writer is: this process, another replica, the
//! operator CLI or SQL typed by hand. On PostgreSQL the announcement is a `NOTIFY` on
//! [`CHANNEL`], delivered on commit to every listening replica; on SQLite it is a row in
//! `cache_invalidations`, polled every [`SQLITE_POLL`]. Both engines also keep that table as the
//! change log `GET /v1/changes` streams from ([`changes`]).
//!
//! Fail safe, not fail stale: while this process cannot hear announcements (listener lost,
//! reconnecting, poll failing) the verifier reads storage on every request; when it hears them
//! again it drops every cached entry before trusting the cache.

use super::{changes, Verifier};
use crate::db::{now_ms, Db, Engine};
use latchkey_domain::keys::Digest;
use sqlx::postgres::PgListener;
use std::sync::Weak;
use std::time::Duration;

/// The PostgreSQL channel the triggers notify (per database, so tests on other databases of
/// the same server never hear each other).
pub const CHANNEL: &str = "latchkey_invalidate";

/// How often a SQLite server reads the change table: a CLI revoke holds within this.
pub const SQLITE_POLL: Duration = Duration::from_millis(25);

/// How often a PostgreSQL server reads the change log without being woken by a `NOTIFY`: the
/// backstop for a notification its listener missed (the caches have their own).
pub const POSTGRES_POLL: Duration = Duration::from_millis(250);

/// A listener silent this long is asked a `SELECT 1`; one that cannot answer within
/// [`PING_TIMEOUT`] is treated as lost (a half-open connection would otherwise look quiet).
const QUIET: Duration = Duration::from_secs(10);
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Change-table rows older than this are pruned (every server has read them long before).
const CHANGE_ROWS_KEPT_MS: i64 = 3_600_000;

/// What an announcement names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Key(Digest),
    Tenant(i64),
}

impl Target {
    /// Reads the triggers' payloads: `key:<digest hex>` or `tenant:<id>`.
    pub fn parse(payload: &str) -> Option<Self> {
        if let Some(hex) = payload.strip_prefix("key:") {
            return Digest::from_hex(hex).map(Target::Key);
        }
        payload
            .strip_prefix("tenant:")
            .and_then(|id| id.parse().ok())
            .map(Target::Tenant)
    }
}

/// How this process hears about changes, for `/healthz`, `/readyz` and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenState {
    /// Not yet connected, or reconnecting after a loss: the cache is bypassed.
    Connecting,
    /// Hearing every change: the cache is trusted.
    Listening,
}

impl ListenState {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenState::Connecting => "reconnecting",
            ListenState::Listening => "listening",
        }
    }
}

/// Starts the task that applies announcements to `verifier`'s caches; it ends when the
/// verifier is dropped.
pub(super) fn start(db: Db, verifier: Weak<Verifier>, first_retry: Duration) {
    match db.engine {
        Engine::Postgres => {
            tokio::spawn(read_log(db.clone(), verifier.clone(), POSTGRES_POLL, false));
            tokio::spawn(listen_postgres(db, verifier, first_retry));
        }
        Engine::Sqlite => {
            tokio::spawn(read_log(db, verifier, SQLITE_POLL, true));
        }
    }
}

async fn listen_postgres(db: Db, verifier: Weak<Verifier>, first_retry: Duration) {
    let Some(url) = db.url.clone() else {
        // No URL to listen with (a pool built by hand): never trust the cache.
        tracing::warn!("no database URL to LISTEN on; verifying every key from storage");
        return;
    };
    let first_retry = first_retry.max(Duration::from_millis(10));
    let mut backoff = first_retry;
    loop {
        match connect_listener(url.expose()).await {
            Ok(mut listener) => {
                let Some(v) = verifier.upgrade() else { return };
                // Listening from here on: whatever changed before is dropped, then trusted.
                v.resync();
                v.set_listening(ListenState::Listening);
                drop(v);
                tracing::info!(channel = CHANNEL, "listening for cache invalidations");
                backoff = first_retry;
                let lost = receive(&mut listener, &verifier).await;
                let Some(v) = verifier.upgrade() else { return };
                v.set_listening(ListenState::Connecting);
                v.resync();
                metrics::counter!("latchkey_invalidation_listener_losses_total").increment(1);
                tracing::warn!(reason = %lost, "lost the invalidation listener; verifying from storage until it is back");
            }
            Err(e) => {
                if verifier.strong_count() == 0 {
                    return;
                }
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot LISTEN for cache invalidations; verifying from storage");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(first_retry.max(Duration::from_secs(5)));
    }
}

async fn connect_listener(url: &str) -> Result<PgListener, sqlx::Error> {
    use std::str::FromStr;
    // Named, so an operator (or a test) can tell this connection apart in pg_stat_activity.
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?
        .application_name(&format!("latchkey-listener-{}", std::process::id()));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    // A lost connection is ours to notice and rebuild (so the cache is bypassed meanwhile).
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notifications until the connection is lost (or the verifier is gone); says why.
async fn receive(listener: &mut PgListener, verifier: &Weak<Verifier>) -> String {
    loop {
        match tokio::time::timeout(QUIET, listener.try_recv()).await {
            Ok(Ok(Some(n))) => {
                let Some(v) = verifier.upgrade() else {
                    return "shutting down".into();
                };
                v.apply_payload(n.payload());
                // The row is committed by now: the streams hear it at once, not at the next poll.
                v.changes.wake();
            }
            Ok(Ok(None)) => return "connection closed".into(),
            Ok(Err(e)) => return e.to_string(),
            Err(_quiet) => {
                if verifier.strong_count() == 0 {
                    return "shutting down".into();
                }
                let ping = sqlx::query("SELECT 1").execute(&mut *listener);
                match tokio::time::timeout(PING_TIMEOUT, ping).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return e.to_string(),
                    Err(_) => return "no answer to a ping".into(),
                }
            }
        }
    }
}

/// Reads the change log in id order: applies each row to this process's caches, then hands it
/// to the open change streams. On SQLite this is how every change is heard (a cheap `MAX(id)`
/// read every [`SQLITE_POLL`]), so it also decides whether the cache is trusted; on PostgreSQL
/// the `NOTIFY` listener is the fast path for the caches, and this reader (woken by it, and
/// every [`POSTGRES_POLL`] regardless) feeds the streams.
async fn read_log(db: Db, verifier: Weak<Verifier>, every: Duration, drives_cache: bool) {
    let mut reads: u64 = 0;
    let mut failing = false;
    loop {
        let Some(v) = verifier.upgrade() else { return };
        match read_new(&db, &v).await {
            Ok(()) => {
                failing = false;
                if drives_cache && v.listen_state() != ListenState::Listening {
                    v.resync();
                    v.set_listening(ListenState::Listening);
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot read the change log; verifying from storage");
                }
                failing = true;
                if drives_cache && v.listen_state() == ListenState::Listening {
                    v.set_listening(ListenState::Connecting);
                    v.resync();
                }
            }
        }
        reads += 1;
        // About once a minute: rows every stream and server has long read go.
        if reads.is_multiple_of((60_000 / every.as_millis().max(1)) as u64 + 1) {
            prune(&db).await;
        }
        let wait = every;
        let changes = v.changes.clone();
        drop(v);
        changes.woken_or(wait).await;
    }
}

/// One read: the newest id first (cheap), then the rows after the cursor when there are any.
async fn read_new(db: &Db, v: &Verifier) -> Result<(), sqlx::Error> {
    let newest = changes::newest(db).await?;
    let Some(mut cursor) = v.changes.cursor() else {
        // First read: start from the newest row (the caches are empty at start anyway).
        v.changes.mark_read(newest);
        return Ok(());
    };
    while cursor < newest {
        let page = changes::after(db, cursor, newest).await?;
        let Some(last) = page.last().map(|c| c.id) else {
            break;
        };
        for change in page {
            v.apply_payload(&change.target);
            v.changes.publish(change);
        }
        cursor = last;
    }
    v.changes.mark_read(newest.max(cursor));
    Ok(())
}

async fn prune(db: &Db) {
    if let Err(e) = sqlx::query("DELETE FROM cache_invalidations WHERE created_at < $1")
        .bind(now_ms() - CHANGE_ROWS_KEPT_MS)
        .execute(&db.pool)
        .await
    {
        tracing::warn!(error = %e, "pruning the change log failed");
    }
}

/// Reads a payload; an unreadable one clears everything (cannot tell what it meant).
pub(super) fn parse_or_all(payload: &str) -> Option<Target> {
    let target = Target::parse(payload);
    if target.is_none() {
        tracing::warn!(
            payload,
            "unreadable cache invalidation; clearing the caches"
        );
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_the_triggers_write_are_read() {
        let hex = "ab".repeat(32);
        assert_eq!(
            Target::parse(&format!("key:{hex}")),
            Digest::from_hex(&hex).map(Target::Key)
        );
        assert_eq!(Target::parse("tenant:42"), Some(Target::Tenant(42)));
        for junk in [
            "", "key:", "key:zz", "tenant:", "tenant:x", "other:1", "ping",
        ] {
            assert_eq!(Target::parse(junk), None, "{junk}");
        }
    }
}
