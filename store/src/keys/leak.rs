//! Leak reports: tokens someone found exposed (GitHub secret scanning, or anyone holding one).
//! Each token proves itself: a well-formed key whose digest is stored is stopped at once by its
//! organisation's policy (revoke, or disable), marked leaked with the report's address, and
//! announced (`api_key.leaked`, beside `api_key.revoked` or `.disabled`), all in one
//! transaction. Anything else is ignored without a trace the reporter could tell apart.
//!
//! The route needs no credential, so what a report may cost is bounded before any work
//! ([`LeakGate`]): tokens per client address a minute, and reports acted on at once. Tokens
//! are looked up through the verifier, whose caches and failure gate keep repeated junk off
//! storage.

use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::Db;
use crate::throttle::{client_key, ClientBudget};
use crate::verify::{Verifier, VerifyError};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::webhooks::LeakPolicy;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Tokens one client address may report a minute (its IPv6 /48: eight times as many).
pub const TOKENS_PER_MINUTE: u32 = 1_200;
/// Reports acted on at once, process-wide.
pub const IN_FLIGHT: usize = 16;
/// Client addresses (and /48s) the token budget remembers; the least recent is forgotten first.
pub const TRACKED_MAX: usize = 100_000;

/// What leak reports may cost: a token budget per client address, and a bound on reports
/// being acted on at once. Both answer before any work is started.
pub struct LeakGate {
    budget: ClientBudget,
    turns: Arc<Semaphore>,
    bound: usize,
    /// Reports whose work was started.
    started: AtomicU64,
}

/// A report's turn at being acted on; its place is free again when dropped.
pub struct LeakTurn {
    _permit: OwnedSemaphorePermit,
    turns: Arc<Semaphore>,
    bound: usize,
}

impl Drop for LeakTurn {
    fn drop(&mut self) {
        // The permit is still held here: one fewer than counted.
        let running = self.bound - self.turns.available_permits() - 1;
        metrics::gauge!("latchkey_leak_reports_in_flight").set(running as f64);
    }
}

impl LeakGate {
    pub fn new(tokens_per_minute: u32, in_flight: usize, tracked: usize) -> Self {
        let bound = in_flight.max(1);
        Self {
            budget: ClientBudget::per_minute(tokens_per_minute, tracked),
            turns: Arc::new(Semaphore::new(bound)),
            bound,
            started: AtomicU64::new(0),
        }
    }

    /// Spends one per token (a report naming none costs one) from `client`'s budget and its
    /// /48's; `Err(seconds to wait)` when either is spent, and then nothing is taken.
    pub fn spend(&self, client: IpAddr, tokens: usize) -> Result<(), u64> {
        let n = u32::try_from(tokens.max(1)).unwrap_or(u32::MAX);
        self.budget
            .check_n(client_key(Some(client)), n)
            .map_err(|over| over.retry_after_secs)
    }

    /// A turn at acting on a report, unless [`IN_FLIGHT`] (as configured) are running.
    pub fn turn(&self) -> Option<LeakTurn> {
        let permit = self.turns.clone().try_acquire_owned().ok()?;
        self.started.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("latchkey_leak_reports_in_flight").set(self.in_flight() as f64);
        Some(LeakTurn {
            _permit: permit,
            turns: self.turns.clone(),
            bound: self.bound,
        })
    }

    /// Reports being acted on now.
    pub fn in_flight(&self) -> usize {
        self.bound - self.turns.available_permits()
    }

    /// Reports whose work was ever started.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Client addresses (or /48s) the budget holds now.
    pub fn tracked(&self) -> usize {
        self.budget.len()
    }
}

/// One reported token, as GitHub's secret-scanning partner body names it. Its `Debug` never
/// shows the token.
#[derive(Clone, Default)]
pub struct LeakReport {
    pub token: String,
    /// Where it was found (a commit, a gist, a paste).
    pub url: String,
    /// Who found it, e.g. `content`, `commit` or `gist` from GitHub.
    pub source: String,
}

impl std::fmt::Debug for LeakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakReport")
            .field("url", &self.url)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// A key a report stopped: the caller drops it from the verifier's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub tenant_id: i64,
    pub public_id: String,
}

#[derive(sqlx::FromRow)]
struct Found {
    id: i64,
    public_id: String,
    tenant_id: i64,
    name: String,
    status: String,
    disabled_at: Option<i64>,
    leaked_at: Option<i64>,
    leak_policy: String,
}

/// The report's address if it is a plain http(s) address safe to show; otherwise nothing.
fn shown_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty()
        || raw.len() > 2_000
        || latchkey_domain::text::unsafe_text_error(raw).is_some()
    {
        return None;
    }
    let parsed = url::Url::parse(raw).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

fn shown_source(raw: &str) -> String {
    let s: String = raw.trim().chars().take(100).collect();
    if latchkey_domain::text::unsafe_text_error(&s).is_some() {
        String::new()
    } else {
        s
    }
}

/// Acts on every report that names a real key; returns the keys it stopped. Tokens are
/// looked up through `verifier` as the reporter's (`actor.client_ip`): junk seen before costs
/// no storage read, and a reporter past its failure budget gets no more lookups of new junk.
pub async fn report(
    db: &Db,
    verifier: &Verifier,
    actor: &Actor,
    reports: &[LeakReport],
) -> AppResult<Vec<Stopped>> {
    let mut stopped = Vec::new();
    for r in reports {
        let record = match verifier
            .find_reported(r.token.trim(), actor.client_ip)
            .await
        {
            Ok(Some(record)) => record,
            // Junk, or a token this reporter may no longer have looked up.
            Ok(None) | Err(VerifyError::Refused(_)) => continue,
            Err(VerifyError::Unavailable) => return Err(AppError::Internal),
        };
        let found = sqlx::query_as::<_, Found>(
            "SELECT k.id, k.public_id, k.tenant_id, k.name, k.status, k.disabled_at, k.leaked_at, \
             t.leak_policy FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
             WHERE k.id = $1",
        )
        .bind(record.row_id)
        .fetch_optional(&db.pool)
        .await?;
        let Some(key) = found else { continue };
        if let Some(s) = stop(db, actor, r, key).await? {
            stopped.push(s);
        }
    }
    Ok(stopped)
}

async fn stop(db: &Db, actor: &Actor, r: &LeakReport, key: Found) -> AppResult<Option<Stopped>> {
    let policy = LeakPolicy::parse(&key.leak_policy).unwrap_or_default();
    let already_stopped =
        key.status == "revoked" || (policy == LeakPolicy::Disable && key.disabled_at.is_some());
    // A key already reported and already stopped is not announced again for every repeat.
    if already_stopped && key.leaked_at.is_some() {
        return Ok(None);
    }
    let url = shown_url(&r.url);
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    // Tenant row first: the one lock order (tenant, key, audit head) of key changes.
    crate::operator::lock_tenant(&mut tx, key.tenant_id).await?;
    let key_ref = (key.tenant_id, key.public_id.as_str());
    let done = match (already_stopped, policy) {
        (true, _) => "none",
        (false, LeakPolicy::Revoke) => {
            let reason = match &url {
                Some(u) => format!("Reported leaked at {u}"),
                None => "Reported leaked".to_owned(),
            };
            let revoked = super::revoke_in(
                &mut tx, now, actor, key_ref.0, key_ref.1, &key.name, &reason,
            )
            .await?;
            if revoked {
                "revoked"
            } else {
                "none"
            }
        }
        (false, LeakPolicy::Disable) => {
            let reason = Some("Reported leaked");
            let disabled = super::lifecycle::set_enabled_in(
                &mut tx, now, actor, key_ref, &key.name, false, reason,
            )
            .await?;
            if disabled {
                "disabled"
            } else {
                "none"
            }
        }
    };
    // First report of it wins the mark; a report racing it that stopped nothing either is
    // dropped (rolled back), so concurrent repeats record and announce the leak once.
    let marked = sqlx::query(
        "UPDATE api_keys SET leaked_at = $1, leak_url = $2 WHERE id = $3 AND leaked_at IS NULL",
    )
    .bind(now)
    .bind(&url)
    .bind(key.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked == 0 {
        if done == "none" {
            return Ok(None);
        }
        // Reported before, switched back on, now stopped again: this report's address.
        sqlx::query("UPDATE api_keys SET leaked_at = $1, leak_url = $2 WHERE id = $3")
            .bind(now)
            .bind(&url)
            .bind(key.id)
            .execute(&mut *tx)
            .await?;
    }
    let details = serde_json::json!({
        "name": key.name,
        "url": url,
        "source": shown_source(&r.source),
        "action": done,
    });
    let event = Event::key(
        key.tenant_id,
        AuditAction::KeyLeaked,
        &key.public_id,
        details,
    );
    record(&mut tx, now, actor, event).await?;
    tx.commit().await?;
    tracing::warn!(tenant_id = key.tenant_id, key_id = %key.public_id, action = done, "api key reported leaked");
    Ok(Some(Stopped {
        tenant_id: key.tenant_id,
        public_id: key.public_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_web_addresses_are_shown() {
        for (raw, shown) in [
            (
                "https://github.com/o/r/blob/abc/.env",
                Some("https://github.com/o/r/blob/abc/.env"),
            ),
            ("http://paste.example/x", Some("http://paste.example/x")),
            ("javascript:alert(1)", None),
            ("", None),
            ("https://e.com/\u{202e}x", None),
            ("not a url", None),
        ] {
            assert_eq!(shown_url(raw).as_deref(), shown, "{raw}");
        }
    }
}
