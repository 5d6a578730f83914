//! Retention: removing a chain's oldest events as one whole range, behind a checkpoint that keeps
//! the last removed event's place and link (so `verify` starts from there) and a MAC over them,
//! announced by an `audit.pruned` event in the chain itself. The tenant-less log (failed
//! sign-ins, which anyone can cause) is also held to a number of rows, whatever the retention.

use super::chain::{chain_of, chains, last_checkpoint, SYSTEM_CHAIN};
use super::{record, Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::AppResult;
use std::time::Duration;

/// What a prune removed from one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub chain: i64,
    pub through_seq: i64,
    pub removed: u64,
}

#[derive(sqlx::FromRow)]
struct Cut {
    chain_seq: i64,
    hash: Option<String>,
    created_at: i64,
}

/// Removes every event of `chain` up to and including place `through_seq` (one transaction).
async fn prune_through(db: &Db, chain: i64, through: Cut, now: i64) -> AppResult<Option<Pruned>> {
    let mut tx = db.pool.begin().await?;
    // The trigger refuses checkpoints while the guard is closed: only here is it opened, and
    // closed again before the transaction ends (an early return rolls it back). It is also
    // the transaction's first statement, a write, which SQLite needs (see `lock_tenant`).
    set_guard(&mut tx, true).await?;
    if let Some(c) = last_checkpoint(&mut tx, chain).await? {
        if c.through_seq >= through.chain_seq {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    // Events from before the chain have no hash; the first sealed event follows GENESIS.
    let hash = through
        .hash
        .unwrap_or_else(|| super::chain::GENESIS.to_owned());
    let mac = super::seal::key()?.checkpoint(chain, through.chain_seq, &hash);
    sqlx::query(
        "INSERT INTO audit_checkpoints \
         (chain, through_seq, through_hash, cut_off, removed, created_at, mac) \
         VALUES ($1, $2, $3, $4, 0, $5, $6)",
    )
    .bind(chain)
    .bind(through.chain_seq)
    .bind(&hash)
    .bind(through.created_at)
    .bind(now)
    .bind(&mac)
    .execute(&mut *tx)
    .await?;
    set_guard(&mut tx, false).await?;
    let removed = sqlx::query(
        "DELETE FROM audit_events WHERE COALESCE(tenant_id, 0) = $1 AND chain_seq <= $2",
    )
    .bind(chain)
    .bind(through.chain_seq)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let details = serde_json::json!({
        "cut_off": through.created_at,
        "through_seq": through.chain_seq,
        "last_hash": hash,
        "removed": removed,
    });
    let tenant_id = (chain != SYSTEM_CHAIN).then_some(chain);
    let event = match tenant_id {
        Some(t) => Event::tenant(t, AuditAction::AuditPruned, details),
        None => Event {
            tenant_id: None,
            action: AuditAction::AuditPruned,
            target_type: None,
            target_id: None,
            details,
        },
    };
    record(&mut tx, now, &Actor::named("retention"), event).await?;
    tx.commit().await?;
    tracing::info!(
        chain,
        through_seq = through.chain_seq,
        removed,
        "audit events pruned"
    );
    Ok(Some(Pruned {
        chain,
        through_seq: through.chain_seq,
        removed,
    }))
}

async fn set_guard(conn: &mut sqlx::AnyConnection, open: bool) -> AppResult<()> {
    sqlx::query("UPDATE audit_prune_guard SET open = $1 WHERE id = 1")
        .bind(i32::from(open))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes the events of `chain` older than `cut_off` (Unix ms).
pub async fn prune_older_than(db: &Db, chain: i64, cut_off: i64) -> AppResult<Option<Pruned>> {
    let cut = sqlx::query_as::<_, Cut>(
        "SELECT chain_seq, hash, created_at FROM audit_events \
         WHERE COALESCE(tenant_id, 0) = $1 AND created_at < $2 \
         ORDER BY COALESCE(tenant_id, 0) DESC, chain_seq DESC LIMIT 1",
    )
    .bind(chain)
    .bind(cut_off)
    .fetch_optional(&db.pool)
    .await?;
    match cut {
        Some(cut) => prune_through(db, chain, cut, db.clock.now_ms()).await,
        None => Ok(None),
    }
}

/// Keeps at most about `keep` events of `chain`: the oldest beyond that go.
pub async fn cap_rows(db: &Db, chain: i64, keep: u64) -> AppResult<Option<Pruned>> {
    let head = sqlx::query_scalar::<_, i64>("SELECT seq FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(&db.pool)
        .await?;
    let Some(head) = head else { return Ok(None) };
    let through = head - i64::try_from(keep).unwrap_or(i64::MAX);
    if through < 1 {
        return Ok(None);
    }
    let cut = sqlx::query_as::<_, Cut>(
        "SELECT chain_seq, hash, created_at FROM audit_events \
         WHERE COALESCE(tenant_id, 0) = $1 AND chain_seq <= $2 \
         ORDER BY COALESCE(tenant_id, 0) DESC, chain_seq DESC LIMIT 1",
    )
    .bind(chain)
    .bind(through)
    .fetch_optional(&db.pool)
    .await?;
    match cut {
        Some(cut) => prune_through(db, chain, cut, db.clock.now_ms()).await,
        None => Ok(None),
    }
}

/// How long events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// `None`: forever.
    pub keep_for: Option<Duration>,
    /// The most events the tenant-less log keeps.
    pub system_rows: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_for: None,
            system_rows: 1_000_000,
        }
    }
}

/// One pass over every chain (the server runs it hourly; `audit prune` runs it once).
pub async fn run(db: &Db, retention: Retention) -> AppResult<Vec<Pruned>> {
    let mut done = Vec::new();
    if let Some(keep) = retention.keep_for {
        let ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let cut_off = db.clock.now_ms().saturating_sub(ms);
        for chain in chains(db).await? {
            done.extend(prune_older_than(db, chain, cut_off).await?);
        }
    }
    done.extend(cap_rows(db, chain_of(None), retention.system_rows).await?);
    Ok(done)
}
