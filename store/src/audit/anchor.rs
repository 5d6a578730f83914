//! Anchors: each chain's newest link copied out of the database (`latchkey audit anchor`), one
//! JSON line per chain. The MACs stop a writer without the pepper from rewriting events, but not
//! from cutting a chain back (removing its newest events and moving its head), or from restoring
//! an older copy of the database; an anchor kept elsewhere proves that, up to it, nothing did:
//! every anchored link must still be in its chain (`audit verify --against`), or be covered by a
//! checkpoint that a prune wrote and MAC'd.

use super::verify::chains;
use crate::db::Db;
use latchkey_domain::error::AppResult;
use serde::{Deserialize, Serialize};

/// One chain's newest link at `anchored_at` (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub anchored_at: i64,
    /// The tenant, or `None` for the tenant-less log.
    pub tenant_id: Option<i64>,
    pub seq: i64,
    pub mac: String,
}

impl Anchor {
    pub fn to_line(&self) -> String {
        serde_json::json!(self).to_string()
    }
}

/// Reads anchor lines (blank lines skipped); names the first line that is not one.
pub fn parse(text: &str) -> Result<Vec<Anchor>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("line {} is not an anchor: {e}", i + 1))
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct Newest {
    chain_seq: i64,
    hash: String,
}

/// The newest link of every chain that has one.
pub async fn take(db: &Db) -> AppResult<Vec<Anchor>> {
    let now = db.clock.now_ms();
    let mut out = Vec::new();
    for chain in chains(db).await? {
        let newest = sqlx::query_as::<_, Newest>(
            "SELECT chain_seq, hash FROM audit_events \
             WHERE COALESCE(tenant_id, 0) = $1 AND hash IS NOT NULL \
             ORDER BY COALESCE(tenant_id, 0) DESC, chain_seq DESC LIMIT 1",
        )
        .bind(chain)
        .fetch_optional(&db.pool)
        .await?;
        if let Some(n) = newest {
            out.push(Anchor {
                anchored_at: now,
                tenant_id: (chain != super::chain::SYSTEM_CHAIN).then_some(chain),
                seq: n.chain_seq,
                mac: n.hash,
            });
        }
    }
    Ok(out)
}

/// An anchored link the database no longer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub anchor: Anchor,
    pub reason: &'static str,
}

#[derive(sqlx::FromRow)]
struct Covering {
    through_seq: i64,
    through_hash: String,
    mac: Option<String>,
}

/// Every anchor whose link is not where it was anchored.
pub async fn check(db: &Db, anchors: &[Anchor]) -> AppResult<Vec<Mismatch>> {
    let key = super::seal::key()?;
    let mut out = Vec::new();
    for a in anchors {
        let chain = super::chain::chain_of(a.tenant_id);
        let stored = sqlx::query_scalar::<_, Option<String>>(
            "SELECT hash FROM audit_events WHERE COALESCE(tenant_id, 0) = $1 AND chain_seq = $2",
        )
        .bind(chain)
        .bind(a.seq)
        .fetch_optional(&db.pool)
        .await?;
        let reason = match stored {
            Some(Some(h)) if h == a.mac => continue,
            Some(_) => "the event at this place no longer has the anchored link (rewritten)",
            None => {
                let covering = sqlx::query_as::<_, Covering>(
                    "SELECT through_seq, through_hash, mac FROM audit_checkpoints \
                     WHERE chain = $1 AND through_seq >= $2",
                )
                .bind(chain)
                .bind(a.seq)
                .fetch_all(&db.pool)
                .await?;
                // Pruned since: fine if a prune (holding the key) wrote the checkpoint.
                let pruned = covering.iter().any(|c| {
                    c.mac.as_deref()
                        == Some(
                            key.checkpoint(chain, c.through_seq, &c.through_hash)
                                .as_str(),
                        )
                        && (c.through_seq != a.seq || c.through_hash == a.mac)
                });
                if pruned {
                    continue;
                }
                "the anchored event is gone (removed, or the chain was cut back)"
            }
        };
        out.push(Mismatch {
            anchor: a.clone(),
            reason,
        });
    }
    Ok(out)
}
