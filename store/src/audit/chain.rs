//! The tamper evidence: every event of a tenant (or of the tenant-less log, chain 0) stores the
//! SHA-256 of the previous event's hash and its own canonical form. Editing, removing or inserting
//! a row anywhere breaks the link after it, and `verify` names the first broken one. Retention
//! removes whole old ranges behind a checkpoint that keeps the last removed hash.

use super::{Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::AppResult;
use sha2::{Digest, Sha256};

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
    /// SHA-256 (hex) over the previous hash and the canonical event: a JSON array, so no field
    /// can bleed into the next.
    pub fn digest(&self, prev_hash: &str) -> String {
        let canonical = serde_json::json!([
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
        ]);
        let mut h = Sha256::new();
        h.update(prev_hash.as_bytes());
        h.update(b"\n");
        h.update(canonical.to_string().as_bytes());
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
    let hash = row.digest(&head.hash);
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
        let hash = row.digest(&prev);
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

/// What `audit verify` found in one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The tenant, or `None` for the tenant-less log.
    pub tenant_id: Option<i64>,
    /// Events checked (sealed ones).
    pub verified: u64,
    /// Events from before the chain existed (migration 0006), which carry no hash.
    pub unsealed: u64,
    /// Where retention cut the chain, if it did: the last removed place.
    pub pruned_through: Option<i64>,
    pub broken: Option<Break>,
}

/// The first link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The row where the chain breaks (`None` when what is missing is the newest events).
    pub event_id: Option<i64>,
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.event_id {
            Some(id) => write!(f, "event {id} (place {}): {}", self.seq, self.reason),
            None => write!(f, "after place {}: {}", self.seq, self.reason),
        }
    }
}

const COLUMNS: &str = "id, tenant_id, chain_seq, created_at, actor_user_id, actor, action, \
                       target_type, target_id, client_ip, details, prev_hash, hash";

/// The chains there are: every tenant that has events, and the tenant-less log.
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
}

pub(super) async fn last_checkpoint(
    conn: &mut sqlx::AnyConnection,
    chain: i64,
) -> AppResult<Option<Checkpoint>> {
    Ok(sqlx::query_as::<_, Checkpoint>(
        "SELECT through_seq, through_hash FROM audit_checkpoints WHERE chain = $1 \
         ORDER BY through_seq DESC LIMIT 1",
    )
    .bind(chain)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Walks one chain from its start (or its last retention checkpoint) to its head, recomputing
/// every hash, and reports the first link that does not hold.
pub async fn verify(db: &Db, chain: i64) -> AppResult<ChainReport> {
    let mut conn = db.pool.acquire().await?;
    let checkpoint = last_checkpoint(&mut conn, chain).await?;
    let mut report = ChainReport {
        tenant_id: (chain != SYSTEM_CHAIN).then_some(chain),
        verified: 0,
        unsealed: 0,
        pruned_through: checkpoint.as_ref().map(|c| c.through_seq),
        broken: None,
    };
    let (mut expect_seq, mut prev) = match &checkpoint {
        Some(c) => (c.through_seq + 1, c.through_hash.clone()),
        None => (1, GENESIS.to_owned()),
    };
    // The checkpoint must be announced by an `audit.pruned` event in the chain itself, or it
    // could be a forged excuse for deleted rows.
    let mut announced = checkpoint.is_none();
    let mut sealed_seen = false;
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE COALESCE(tenant_id, 0) = $1 \
         AND chain_seq >= $2 ORDER BY COALESCE(tenant_id, 0), chain_seq LIMIT 2000"
    );
    'walk: loop {
        let batch = sqlx::query_as::<_, ChainRow>(&sql)
            .bind(chain)
            .bind(expect_seq)
            .fetch_all(&mut *conn)
            .await?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            let broken = |reason: &str| Break {
                event_id: Some(row.id),
                seq: row.chain_seq,
                reason: reason.to_owned(),
            };
            if row.chain_seq != expect_seq {
                report.broken = Some(broken("the events before it are missing"));
                break 'walk;
            }
            match (&row.prev_hash, &row.hash) {
                (None, None) if !sealed_seen => report.unsealed += 1,
                (Some(p), Some(h)) => {
                    sealed_seen = true;
                    if *p != prev {
                        report.broken = Some(broken(
                            "it does not follow the event before it (an event was removed, \
                             inserted or re-hashed)",
                        ));
                        break 'walk;
                    }
                    if row.digest(p) != *h {
                        report.broken = Some(broken("its content does not match its hash"));
                        break 'walk;
                    }
                    if checkpoint.as_ref().is_some_and(|c| announces(&row, c)) {
                        announced = true;
                    }
                    prev = h.clone();
                    report.verified += 1;
                }
                _ => {
                    report.broken = Some(broken("its hash is missing"));
                    break 'walk;
                }
            }
            expect_seq += 1;
        }
    }
    if report.broken.is_none() {
        report.broken = check_head(&mut conn, chain, expect_seq - 1, &prev, sealed_seen).await?;
    }
    if report.broken.is_none() && !announced {
        report.broken = Some(Break {
            event_id: None,
            seq: expect_seq - 1,
            reason: "a retention checkpoint has no audit.pruned event announcing it".to_owned(),
        });
    }
    Ok(report)
}

fn announces(row: &ChainRow, c: &Checkpoint) -> bool {
    if row.action != AuditAction::AuditPruned.as_str() {
        return false;
    }
    let d: serde_json::Value = serde_json::from_str(&row.details).unwrap_or_default();
    d["through_seq"].as_i64() == Some(c.through_seq)
        && d["last_hash"].as_str() == Some(c.through_hash.as_str())
}

/// The head must be where the walk ended: otherwise the newest events were removed.
async fn check_head(
    conn: &mut sqlx::AnyConnection,
    chain: i64,
    last_seq: i64,
    last_hash: &str,
    sealed: bool,
) -> AppResult<Option<Break>> {
    let head = sqlx::query_as::<_, Head>("SELECT seq, hash, at FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(head) = head else {
        return Ok(None);
    };
    let hash_ok = head.hash == last_hash || (!sealed && head.hash == GENESIS);
    if head.seq != last_seq || !hash_ok {
        return Ok(Some(Break {
            event_id: None,
            seq: last_seq,
            reason: format!(
                "the chain's head is at place {} but its events end here (the newest were removed)",
                head.seq
            ),
        }));
    }
    Ok(None)
}

/// `verify` for every chain, or one tenant's.
pub async fn verify_all(db: &Db, tenant_id: Option<i64>) -> AppResult<Vec<ChainReport>> {
    let chains = match tenant_id {
        Some(t) => vec![t],
        None => chains(db).await?,
    };
    let mut out = Vec::with_capacity(chains.len());
    for c in chains {
        out.push(verify(db, c).await?);
    }
    Ok(out)
}
