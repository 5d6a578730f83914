//! The tamper evidence: every event of a tenant (or of the tenant-less log, chain 0) stores the
//! HMAC, under the audit key (`seal`), of the previous event's link and its own canonical form.
//! Editing, removing or inserting a row anywhere breaks the link after it, and `verify` names the
//! first broken one; without the pepper nobody can compute a new link. Retention removes whole old
//! ranges behind a MAC'd checkpoint that keeps the last removed link.

use super::{Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::AppResult;
use sha2::{Digest, Sha256};

pub use super::verify::{verify, verify_all, Break, ChainReport};

/// The "previous hash" of a chain's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain of events that belong to no tenant.
pub const SYSTEM_CHAIN: i64 = 0;

pub fn chain_of(tenant_id: Option<i64>) -> i64 {
    tenant_id.unwrap_or(SYSTEM_CHAIN)
}

/// An event's content as the chain hashes it: every stored column but the row id (assigned by
/// the database) and the hashes themselves.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainRow {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub chain_seq: i64,
    pub created_at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    pub details: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl ChainRow {
    /// The event as its link covers it: a JSON array, so no field can bleed into the next.
    pub fn canonical(&self) -> String {
        serde_json::json!([
            self.tenant_id,
            self.chain_seq,
            self.created_at,
            self.actor_user_id,
            self.actor,
            self.action,
            self.target_type,
            self.target_id,
            self.client_ip,
            self.details,
        ])
        .to_string()
    }

    /// The link before migration 0011: plain SHA-256 (hex) over the previous hash and the
    /// canonical event. Anyone could recompute it, so only events sealed by `audit_legacy` use it.
    pub fn digest(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        h.update(prev_hash.as_bytes());
        h.update(b"\n");
        h.update(self.canonical().as_bytes());
        hex::encode(h.finalize())
    }
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
    at: i64,
}

/// Takes the chain's next place and returns the head it follows. The `UPDATE` locks the head's
/// row until the transaction ends (PostgreSQL) or takes the database's write lock (SQLite).
async fn take_next(conn: &mut sqlx::AnyConnection, chain: i64) -> AppResult<Head> {
    sqlx::query(
        "INSERT INTO audit_heads (chain, seq, hash, at) VALUES ($1, 0, $2, 0) \
         ON CONFLICT (chain) DO NOTHING",
    )
    .bind(chain)
    .bind(GENESIS)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as::<_, Head>(
        "UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash, at",
    )
    .bind(chain)
    .fetch_one(&mut *conn)
    .await?)
}

pub(super) async fn append(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    actor: &Actor,
    ev: Event,
) -> AppResult<()> {
    let key = super::seal::key()?;
    let chain = chain_of(ev.tenant_id);
    let head = take_next(conn, chain).await?;
    let row = ChainRow {
        id: 0,
        tenant_id: ev.tenant_id,
        chain_seq: head.seq,
        // Never earlier than the event before it, so a time range is an id range.
        created_at: now.max(head.at),
        actor_user_id: actor.user_id,
        actor: actor.audit_name.clone(),
        action: ev.action.as_str().to_owned(),
        target_type: ev.target_type.map(str::to_owned),
        target_id: ev.target_id,
        client_ip: actor.client_ip.map(|ip| ip.to_string()),
        details: ev.details.to_string(),
        prev_hash: None,
        hash: None,
    };
    let hash = key.link(&head.hash, &row.canonical());
    insert(conn, &row, &head.hash, &hash).await?;
    sqlx::query("UPDATE audit_heads SET hash = $1, at = $2 WHERE chain = $3")
        .bind(&hash)
        .bind(row.created_at)
        .bind(chain)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    row: &ChainRow,
    prev_hash: &str,
    hash: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO audit_events \
         (tenant_id, chain_seq, actor_user_id, actor, action, target_type, target_id, client_ip, \
          details, created_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(row.tenant_id)
    .bind(row.chain_seq)
    .bind(row.actor_user_id)
    .bind(&row.actor)
    .bind(&row.action)
    .bind(&row.target_type)
    .bind(&row.target_id)
    .bind(&row.client_ip)
    .bind(&row.details)
    .bind(row.created_at)
    .bind(prev_hash)
    .bind(hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends many events of one tenant at once, sealed like `record` (bulk imports, the bench's
/// million-event tenant). One transaction; the head is locked for all of it.
pub async fn append_many(
    db: &Db,
    tenant_id: i64,
    actor: &Actor,
    events: impl IntoIterator<Item = (i64, AuditAction, Option<String>, serde_json::Value)>,
) -> AppResult<u64> {
    let audit_key = super::seal::key()?;
    let mut tx = db.pool.begin().await?;
    let chain = chain_of(Some(tenant_id));
    let head = take_next(&mut tx, chain).await?;
    let (mut seq, mut prev, mut at) = (head.seq, head.hash, head.at);
    let mut n = 0u64;
    for (when, action, key, details) in events {
        let row = ChainRow {
            id: 0,
            tenant_id: Some(tenant_id),
            chain_seq: seq,
            created_at: when.max(at),
            actor_user_id: actor.user_id,
            actor: actor.audit_name.clone(),
            action: action.as_str().to_owned(),
            target_type: key.as_ref().map(|_| "api_key".to_owned()),
            target_id: key,
            client_ip: actor.client_ip.map(|ip| ip.to_string()),
            details: details.to_string(),
            prev_hash: None,
            hash: None,
        };
        let hash = audit_key.link(&prev, &row.canonical());
        insert(&mut tx, &row, &prev, &hash).await?;
        (seq, prev, at) = (seq + 1, hash, row.created_at);
        n += 1;
    }
    if n == 0 {
        return Ok(0); // dropping the transaction gives the place back
    }
    sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2, at = $3 WHERE chain = $4")
        .bind(seq - 1)
        .bind(&prev)
        .bind(at)
        .bind(chain)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// The chains that have a head (what retention walks); `verify::chains` lists more.
pub async fn chains(db: &Db) -> AppResult<Vec<i64>> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT chain FROM audit_heads ORDER BY chain")
            .fetch_all(&db.pool)
            .await?,
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct Checkpoint {
    pub through_seq: i64,
    pub through_hash: String,
    /// `None` on checkpoints from before migration 0011.
    pub mac: Option<String>,
}

pub(super) async fn last_checkpoint(
    conn: &mut sqlx::AnyConnection,
    chain: i64,
) -> AppResult<Option<Checkpoint>> {
    Ok(sqlx::query_as::<_, Checkpoint>(
        "SELECT through_seq, through_hash, mac FROM audit_checkpoints WHERE chain = $1 \
         ORDER BY through_seq DESC LIMIT 1",
    )
    .bind(chain)
    .fetch_optional(&mut *conn)
    .await?)
}
