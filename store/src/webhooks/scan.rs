//! Time-based key events: `api_key.expiring` (7 days, then 1 day before), `api_key.expired`
//! and `api_key.unused`. A periodic scan finds keys that are due and writes a notice row with
//! the event, in one transaction; the notice's primary key (key, kind, basis) is what makes
//! each fire once, also with several replicas scanning at the same moment.

use crate::db::Db;
use latchkey_domain::error::AppResult;
use latchkey_domain::webhooks::EventType;

const DAY_MS: i64 = 86_400_000;
/// Keys looked at per kind and scan; the rest wait for the next scan.
const SCAN_LIMIT: i64 = 500;

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    public_id: String,
    tenant_id: i64,
    basis: i64,
    kind: String,
    unused_days: i64,
}

/// Which notice a key with an expiry is due, as SQL (`$1` now, `$2` a day from now).
const EXPIRY_KIND: &str = "CASE WHEN k.expires_at <= $1 THEN 'expired' \
     WHEN k.expires_at <= $2 THEN 'expiring_1d' ELSE 'expiring_7d' END";
/// The event that notice sends.
const EXPIRY_EVENT: &str =
    "CASE WHEN k.expires_at <= $1 THEN 'api_key.expired' ELSE 'api_key.expiring' END";

/// Queues every due notice; returns how many were sent (each at most once).
pub async fn run(db: &Db) -> AppResult<usize> {
    let now = db.clock.now_ms();
    // Only keys of organisations with an endpoint that wants the event: a notice is spent only
    // when someone hears it (an endpoint subscribing later hears of keys due from then on). An
    // expiry more than a week past is never announced (nor last year's keys to a new endpoint).
    let expiring = sqlx::query_as::<_, Due>(&format!(
        "SELECT k.id, k.public_id, k.tenant_id, k.expires_at AS basis, {EXPIRY_KIND} AS kind, \
         CAST(0 AS BIGINT) AS unused_days FROM api_keys k \
         WHERE k.status = 'active' AND k.rolled_to IS NULL AND k.expires_at IS NOT NULL \
         AND k.expires_at <= $3 AND k.expires_at > $4 \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = k.tenant_id \
             AND (' ' || e.events || ' ') LIKE ('% ' || {EXPIRY_EVENT} || ' %')) \
         AND NOT EXISTS (SELECT 1 FROM key_notices n WHERE n.key_id = k.id \
             AND n.basis = k.expires_at AND n.kind = {EXPIRY_KIND}) \
         ORDER BY k.id LIMIT $5"
    ))
    .bind(now)
    .bind(now + DAY_MS)
    .bind(now + 7 * DAY_MS)
    .bind(now - 7 * DAY_MS)
    .bind(SCAN_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    // Unused: enabled, unexpired keys with no request (or none since creation) for the
    // organisation's chosen number of days.
    let unused = sqlx::query_as::<_, Due>(
        "SELECT k.id, k.public_id, k.tenant_id, COALESCE(k.last_used_at, k.created_at) AS basis, \
         'unused' AS kind, t.unused_days FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.status = 'active' AND k.rolled_to IS NULL AND k.disabled_at IS NULL \
         AND (k.expires_at IS NULL OR k.expires_at > $1) \
         AND COALESCE(k.last_used_at, k.created_at) <= $1 - t.unused_days * $2 \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = k.tenant_id \
             AND (' ' || e.events || ' ') LIKE '% api_key.unused %') \
         AND NOT EXISTS (SELECT 1 FROM key_notices n WHERE n.key_id = k.id \
             AND n.kind = 'unused' AND n.basis = COALESCE(k.last_used_at, k.created_at)) \
         ORDER BY k.id LIMIT $3",
    )
    .bind(now)
    .bind(DAY_MS)
    .bind(SCAN_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    let mut sent = 0;
    for due in expiring.into_iter().chain(unused) {
        if notify(db, now, due).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Writes one notice and its event; `false` when another scan got there first.
async fn notify(db: &Db, now: i64, due: Due) -> AppResult<bool> {
    let (event, extra) = match due.kind.as_str() {
        "expired" => (
            EventType::Expired,
            serde_json::json!({ "expired_at": due.basis }),
        ),
        // Whole days left, rounded up: a key first seen with 3 days left says 3, not 7.
        "expiring_1d" | "expiring_7d" => (
            EventType::Expiring,
            serde_json::json!({
                "expires_at": due.basis,
                "days_left": (due.basis - now + DAY_MS - 1).div_euclid(DAY_MS),
            }),
        ),
        _ => (
            EventType::Unused,
            serde_json::json!({ "last_used_or_created_at": due.basis, "unused_days": due.unused_days }),
        ),
    };
    let mut tx = db.pool.begin().await?;
    let fresh = sqlx::query(
        "INSERT INTO key_notices (key_id, kind, basis, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(due.id)
    .bind(&due.kind)
    .bind(due.basis)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if fresh {
        let key = super::outbox::key_data(&mut tx, due.tenant_id, &due.public_id).await?;
        let data = serde_json::json!({ "key": key, "details": extra });
        super::outbox::enqueue(&mut tx, now, due.tenant_id, event, data).await?;
    }
    tx.commit().await?;
    Ok(fresh)
}
