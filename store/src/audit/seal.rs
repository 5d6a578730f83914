//! The key the audit chain is sealed with. Each link is HMAC-SHA-256 under a key derived from the
//! pepper (which never enters the database), so someone who can write the database but does not
//! hold the pepper can no longer recompute links after an edit, forge a retention checkpoint or
//! vouch for a rewritten past.
//!
//! The key belongs to the process, as the pepper does (one pepper per process, checked against
//! the database by `pepper::check_against_storage`): it is installed once at start, before the
//! first audit write, so `record`'s many callers need nothing new. Writing an event without it is
//! refused rather than sealed with a key anyone could know.

use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::keys::{Digest, Pepper};
use std::sync::OnceLock;

/// What the audit key is the pepper's HMAC of: a key of its own, never the pepper itself.
const LABEL: &str = "latchkey audit chain v1";

/// HMAC-SHA-256 key for the audit chain.
pub struct AuditKey {
    /// Identifies the key (it is HMAC(pepper, label)), to tell a second, different install.
    id: Digest,
    hmac: Pepper,
}

impl AuditKey {
    pub fn derive(pepper: &Pepper) -> Self {
        let id = Digest::of(pepper, LABEL);
        let hmac = match Pepper::new(id.as_bytes().to_vec()) {
            Some(p) => p,
            None => unreachable!("a 32-byte digest is a long enough HMAC key"),
        };
        Self { id, hmac }
    }

    fn mac(&self, message: &str) -> String {
        Digest::of(&self.hmac, message).to_hex()
    }

    /// One event's link: the MAC of the previous link and the event's canonical form.
    pub fn link(&self, prev: &str, canonical: &str) -> String {
        self.mac(&format!("event\n{prev}\n{canonical}"))
    }

    /// A retention checkpoint's MAC: only a process holding the pepper could have pruned.
    pub fn checkpoint(&self, chain: i64, through_seq: i64, through_hash: &str) -> String {
        self.mac(&format!(
            "checkpoint\n{chain}\n{through_seq}\n{through_hash}"
        ))
    }

    /// The MAC over a chain's part from before keyed links (migration 0011): its start and end.
    pub fn legacy(&self, l: &Legacy) -> String {
        self.mac(&format!(
            "legacy\n{}\n{}\n{}\n{}\n{}",
            l.chain, l.from_seq, l.from_hash, l.through_seq, l.through_hash
        ))
    }
}

static KEY: OnceLock<AuditKey> = OnceLock::new();

/// Installs the audit key derived from `pepper` for this process. Returns false (and keeps the
/// first) if a key from another pepper was installed already: a process has one pepper.
pub fn install(pepper: &Pepper) -> bool {
    let fresh = AuditKey::derive(pepper);
    let installed = KEY.get_or_init(|| AuditKey::derive(pepper));
    let same = installed.id.ct_eq(&fresh.id);
    if !same {
        tracing::error!(
            "a second, different pepper was given to this process; the audit chain keeps the first"
        );
    }
    same
}

/// The installed key; refusing is better than sealing with a key a database writer could know.
pub fn key() -> AppResult<&'static AuditKey> {
    KEY.get().ok_or_else(|| {
        AppError::internal(
            "the audit key is not loaded: load the pepper before writing audit events",
        )
    })
}

/// A chain's part from before keyed links: events up to `through_seq` carry plain SHA-256
/// links, checked from `from_seq` (the retention checkpoint then, or 0) to `through_hash`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Legacy {
    pub chain: i64,
    pub from_seq: i64,
    pub from_hash: String,
    pub through_seq: i64,
    pub through_hash: String,
    pub mac: Option<String>,
}

pub(super) async fn legacy_of(
    conn: &mut sqlx::AnyConnection,
    chain: i64,
) -> AppResult<Option<Legacy>> {
    Ok(sqlx::query_as::<_, Legacy>(
        "SELECT chain, from_seq, from_hash, through_seq, through_hash, mac FROM audit_legacy \
         WHERE chain = $1",
    )
    .bind(chain)
    .fetch_optional(&mut *conn)
    .await?)
}

/// On the first start with the pepper after migration 0011: checks each chain's older part under
/// the old rule and, if it holds, seals it with the key. A part that does not hold stays
/// unsealed, and `audit verify` reports that chain broken. Returns how many chains were sealed.
pub async fn adopt_legacy(db: &Db) -> AppResult<u64> {
    let key = key()?;
    let pending = sqlx::query_as::<_, Legacy>(
        "SELECT chain, from_seq, from_hash, through_seq, through_hash, mac FROM audit_legacy \
         WHERE mac IS NULL ORDER BY chain",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut sealed = 0;
    for mut l in pending {
        let mut conn = db.pool.acquire().await?;
        let (from_seq, from_hash) = match super::chain::last_checkpoint(&mut conn, l.chain).await? {
            Some(c) => (c.through_seq, c.through_hash),
            None => (0, super::chain::GENESIS.to_owned()),
        };
        (l.from_seq, l.from_hash) = (from_seq, from_hash);
        let walk = super::verify::walk_legacy(&mut conn, &l).await?;
        if let Some(b) = walk {
            tracing::error!(
                chain = l.chain,
                broken = %b,
                "the audit chain's events from before keyed links do not verify; left unsealed"
            );
            continue;
        }
        let mac = key.legacy(&l);
        sqlx::query(
            "UPDATE audit_legacy SET from_seq = $1, from_hash = $2, mac = $3 \
             WHERE chain = $4 AND mac IS NULL",
        )
        .bind(l.from_seq)
        .bind(&l.from_hash)
        .bind(&mac)
        .bind(l.chain)
        .execute(&mut *conn)
        .await?;
        tracing::info!(
            chain = l.chain,
            through_seq = l.through_seq,
            "sealed the audit chain's events from before keyed links with the audit key"
        );
        sealed += 1;
    }
    Ok(sealed)
}
