//! `audit verify`: walks a chain from its start (or its last retention checkpoint) to its head,
//! recomputing every link, and names the first one that does not hold. Links are MACs under the
//! audit key; a chain's part from before keyed links (migration 0011) is checked under the old
//! plain SHA-256 rule up to the end its MAC'd `audit_legacy` row names.

use super::chain::{last_checkpoint, ChainRow, GENESIS, SYSTEM_CHAIN};
use super::seal::{key, legacy_of, AuditKey, Legacy};
use super::AuditAction;
use crate::db::Db;
use latchkey_domain::error::AppResult;

/// What `audit verify` found in one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The tenant, or `None` for the tenant-less log.
    pub tenant_id: Option<i64>,
    /// Events checked (sealed ones, under either rule).
    pub verified: u64,
    /// Of those, events from before keyed links, checked under the old rule.
    pub legacy: u64,
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

impl Break {
    fn after(seq: i64, reason: impl Into<String>) -> Self {
        Self {
            event_id: None,
            seq,
            reason: reason.into(),
        }
    }
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

/// How to check one walk: under the key, and where the old rule ends.
struct Rule<'a> {
    chain: i64,
    /// `None`: every row under the old rule (checking a legacy part before sealing it).
    key: Option<&'a AuditKey>,
    /// The old rule's last place and the hash it must end on.
    legacy_end: Option<(i64, &'a str)>,
}

#[derive(Default)]
struct Walked {
    last_seq: i64,
    prev: String,
    verified: u64,
    legacy: u64,
    unsealed: u64,
    sealed_seen: bool,
    broken: Option<Break>,
}

/// Walks places `from_seq + 1 ..= until` (following `from_hash`), calling `seen` on each
/// verified row, and stops at the first break.
async fn walk(
    conn: &mut sqlx::AnyConnection,
    rule: &Rule<'_>,
    (from_seq, from_hash): (i64, &str),
    until: i64,
    mut seen: impl FnMut(&ChainRow),
) -> AppResult<Walked> {
    let mut w = Walked {
        last_seq: from_seq,
        prev: from_hash.to_owned(),
        ..Walked::default()
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE COALESCE(tenant_id, 0) = $1 \
         AND chain_seq > $2 AND chain_seq <= $3 ORDER BY COALESCE(tenant_id, 0), chain_seq \
         LIMIT 2000"
    );
    loop {
        let batch = sqlx::query_as::<_, ChainRow>(&sql)
            .bind(rule.chain)
            .bind(w.last_seq)
            .bind(until)
            .fetch_all(&mut *conn)
            .await?;
        if batch.is_empty() {
            return Ok(w);
        }
        for row in batch {
            if let Some(reason) = check_row(rule, &mut w, &row) {
                w.broken = Some(Break {
                    event_id: Some(row.id),
                    seq: row.chain_seq,
                    reason: reason.to_owned(),
                });
                return Ok(w);
            }
            seen(&row);
            w.last_seq = row.chain_seq;
        }
    }
}

fn check_row(rule: &Rule<'_>, w: &mut Walked, row: &ChainRow) -> Option<&'static str> {
    if row.chain_seq != w.last_seq + 1 {
        return Some("the events before it are missing");
    }
    let legacy_end = rule.legacy_end.filter(|(t, _)| row.chain_seq <= *t);
    let old_rule = rule.key.is_none() || legacy_end.is_some();
    match (&row.prev_hash, &row.hash, rule.key) {
        (None, None, _) if old_rule && !w.sealed_seen => w.unsealed += 1,
        (Some(p), Some(h), key) => {
            w.sealed_seen = true;
            if *p != w.prev {
                return Some(
                    "it does not follow the event before it (an event was removed, inserted \
                     or re-linked)",
                );
            }
            match key.filter(|_| !old_rule) {
                Some(k) if k.link(p, &row.canonical()) != *h => {
                    return Some(
                        "its content does not match its MAC (edited, or re-hashed without the key)",
                    )
                }
                None if row.digest(p) != *h => return Some("its content does not match its hash"),
                _ => {}
            }
            w.prev = h.clone();
            w.verified += 1;
            w.legacy += u64::from(old_rule);
        }
        _ => return Some("its link is missing"),
    }
    match legacy_end {
        Some((t, end)) if row.chain_seq == t && w.prev != end => {
            Some("the events from before keyed links no longer end where they were sealed")
        }
        _ => None,
    }
}

/// Checks a chain's legacy part under the old rule before it is sealed (`seal::adopt_legacy`):
/// it must run from its start to its recorded end, and a checkpoint it starts from must be
/// announced by an `audit.pruned` event, as the old rule required.
pub(super) async fn walk_legacy(
    conn: &mut sqlx::AnyConnection,
    l: &Legacy,
) -> AppResult<Option<Break>> {
    let rule = Rule {
        chain: l.chain,
        key: None,
        legacy_end: Some((l.through_seq, &l.through_hash)),
    };
    let mut announced = l.from_seq == 0;
    let w = walk(
        conn,
        &rule,
        (l.from_seq, &l.from_hash),
        l.through_seq,
        |row| announced |= announces(row, l.from_seq, &l.from_hash),
    )
    .await?;
    if w.broken.is_some() {
        return Ok(w.broken);
    }
    if w.last_seq != l.through_seq {
        return Ok(Some(Break::after(
            w.last_seq,
            "the events before the upgrade are missing",
        )));
    }
    if !announced {
        return Ok(Some(Break::after(
            l.from_seq,
            "a retention checkpoint has no audit.pruned event announcing it",
        )));
    }
    Ok(None)
}

fn announces(row: &ChainRow, through_seq: i64, through_hash: &str) -> bool {
    if row.action != AuditAction::AuditPruned.as_str() {
        return false;
    }
    let d: serde_json::Value = serde_json::from_str(&row.details).unwrap_or_default();
    d["through_seq"].as_i64() == Some(through_seq) && d["last_hash"].as_str() == Some(through_hash)
}

/// The chains to verify: every tenant (with events or not), every chain with a head, and every
/// chain that has events, so deleting a head does not hide a chain.
pub async fn chains(db: &Db) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM tenants UNION SELECT chain FROM audit_heads \
         UNION SELECT DISTINCT COALESCE(tenant_id, 0) FROM audit_events ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// Walks one chain and reports the first link that does not hold.
pub async fn verify(db: &Db, chain: i64) -> AppResult<ChainReport> {
    let key = key()?;
    let mut conn = db.pool.acquire().await?;
    let checkpoint = last_checkpoint(&mut conn, chain).await?;
    let legacy = legacy_of(&mut conn, chain).await?;
    let mut report = ChainReport {
        tenant_id: (chain != SYSTEM_CHAIN).then_some(chain),
        verified: 0,
        legacy: 0,
        unsealed: 0,
        pruned_through: checkpoint.as_ref().map(|c| c.through_seq),
        broken: None,
    };
    let start = match &checkpoint {
        Some(c) => (c.through_seq, c.through_hash.as_str()),
        None => (0, GENESIS),
    };
    if let Some(b) = check_start(key, chain, checkpoint.as_ref(), legacy.as_ref(), start) {
        report.broken = Some(b);
        return Ok(report);
    }
    let rule = Rule {
        chain,
        key: Some(key),
        legacy_end: legacy
            .as_ref()
            .map(|l| (l.through_seq, l.through_hash.as_str())),
    };
    let w = walk(&mut conn, &rule, start, i64::MAX, |_| {}).await?;
    (report.verified, report.legacy, report.unsealed) = (w.verified, w.legacy, w.unsealed);
    report.broken = match w.broken {
        Some(b) => Some(b),
        None => check_head(&mut conn, chain, &w, start.0).await?,
    };
    if report.broken.is_none() {
        if let Some(l) = legacy.filter(|l| start.0 < l.through_seq && w.last_seq < l.through_seq) {
            report.broken = Some(Break::after(
                w.last_seq,
                format!(
                    "the events before keyed links end at place {}",
                    l.through_seq
                ),
            ));
        }
    }
    Ok(report)
}

/// Where a walk starts must be vouched for by the key: a MAC'd checkpoint, or the pre-upgrade
/// checkpoint the MAC'd legacy row names. A legacy row must carry a valid MAC.
fn check_start(
    key: &AuditKey,
    chain: i64,
    checkpoint: Option<&super::chain::Checkpoint>,
    legacy: Option<&Legacy>,
    start: (i64, &str),
) -> Option<Break> {
    if let Some(l) = legacy {
        match &l.mac {
            None => {
                return Some(Break::after(
                    l.from_seq,
                    "the events from before keyed links were never sealed with the key (start \
                     Latchkey with the pepper; see the log if it refused them)",
                ))
            }
            Some(m) if *m != key.legacy(l) => {
                return Some(Break::after(
                    l.from_seq,
                    "the seal over the events from before keyed links is forged",
                ))
            }
            Some(_) => {}
        }
    }
    let named_by_legacy = legacy.is_some_and(|l| (l.from_seq, l.from_hash.as_str()) == start);
    let vouched = match checkpoint {
        Some(c) => match &c.mac {
            Some(m) => *m == key.checkpoint(chain, c.through_seq, &c.through_hash),
            None => named_by_legacy,
        },
        None => legacy.is_none() || named_by_legacy,
    };
    (!vouched).then(|| {
        let reason = match checkpoint {
            Some(_) => "a retention checkpoint carries no valid MAC (no prune wrote it)",
            None => "the retention checkpoint the chain was sealed from is gone",
        };
        Break::after(start.0, reason)
    })
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// The head must be where the walk ended: otherwise the newest events were removed. A chain
/// with events or a checkpoint but no head lost it to a writer.
async fn check_head(
    conn: &mut sqlx::AnyConnection,
    chain: i64,
    w: &Walked,
    start_seq: i64,
) -> AppResult<Option<Break>> {
    let head = sqlx::query_as::<_, Head>("SELECT seq, hash FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(head) = head else {
        return Ok((w.last_seq > 0 || start_seq > 0)
            .then(|| Break::after(w.last_seq, "the chain's head is missing")));
    };
    let hash_ok = head.hash == w.prev || (!w.sealed_seen && head.hash == GENESIS);
    if head.seq != w.last_seq || !hash_ok {
        return Ok(Some(Break::after(
            w.last_seq,
            format!(
                "the chain's head is at place {} but its events end here (the newest were removed)",
                head.seq
            ),
        )));
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
