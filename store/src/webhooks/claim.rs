//! Which due deliveries a worker takes next, fairly: at most `per_endpoint` in flight to any
//! one endpoint (counting every replica's claims), and turns taken round-robin across tenants,
//! those with fewest attempts in flight first. A tenant whose receivers never answer then holds
//! a bounded number of sending slots, and another tenant's event goes out as soon as any slot
//! is free, instead of queueing behind the backlog. One statement on both engines (window
//! functions); PostgreSQL also locks what it takes with `FOR UPDATE SKIP LOCKED`, so of
//! several replicas exactly one takes each delivery.

use super::DispatcherConfig;
use crate::db::{Db, Engine};
use latchkey_domain::error::AppResult;

/// A delivery this process has claimed.
#[derive(sqlx::FromRow)]
pub(super) struct Claimed {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: i64,
}

/// Due, unclaimed deliveries ranked: `rn` is a delivery's place in its endpoint's queue,
/// `turn` its tenant's turn (attempts the tenant has in flight, plus its place among the
/// tenant's candidates, each endpoint's first before any endpoint's second).
const PICK: &str = "SELECT id FROM (\
    SELECT d.id, d.next_attempt_at, COALESCE(t.n, 0) + ROW_NUMBER() OVER (\
        PARTITION BY d.tenant_id ORDER BY d.rn, d.next_attempt_at, d.id) AS turn \
    FROM (SELECT id, tenant_id, endpoint_id, next_attempt_at, ROW_NUMBER() OVER (\
            PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rn \
          FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
          AND (locked_until IS NULL OR locked_until <= $2)) d \
    LEFT JOIN (SELECT endpoint_id, COUNT(*) AS n FROM webhook_deliveries \
          WHERE state = 'pending' AND locked_until > $2 GROUP BY endpoint_id) e \
        ON e.endpoint_id = d.endpoint_id \
    LEFT JOIN (SELECT tenant_id, COUNT(*) AS n FROM webhook_deliveries \
          WHERE state = 'pending' AND locked_until > $2 GROUP BY tenant_id) t \
        ON t.tenant_id = d.tenant_id \
    WHERE d.rn + COALESCE(e.n, 0) <= $5) p \
    ORDER BY turn, next_attempt_at, id LIMIT $3";

/// Claims up to `limit` deliveries under a fresh claim id (returned): only that claim's holder
/// records their attempts.
pub(super) async fn claim(
    db: &Db,
    config: &DispatcherConfig,
    limit: i64,
) -> AppResult<(String, Vec<Claimed>)> {
    let now = db.clock.now_ms();
    // Longer than an attempt can take (the timeout), so a live worker's claim never lapses.
    let lease = i64::try_from(config.timeout.as_millis())
        .unwrap_or(i64::MAX / 4)
        .saturating_add(5_000);
    let chosen = match db.engine {
        // Window functions and FOR UPDATE cannot share a query level: lock in an outer one,
        // skipping rows another replica is claiming right now.
        Engine::Postgres => format!(
            "SELECT id FROM webhook_deliveries WHERE id IN ({PICK}) AND state = 'pending' \
             AND (locked_until IS NULL OR locked_until <= $2) FOR UPDATE SKIP LOCKED"
        ),
        Engine::Sqlite => PICK.to_owned(),
    };
    let claim = latchkey_domain::keys::random_base62(16);
    let claimed = sqlx::query_as::<_, Claimed>(&format!(
        "UPDATE webhook_deliveries SET locked_until = $1, claim = $4 WHERE id IN ({chosen}) \
         RETURNING id, endpoint_id, event_id, event_type, payload, attempts, created_at"
    ))
    .bind(now.saturating_add(lease))
    .bind(now)
    .bind(limit.max(0))
    .bind(&claim)
    .bind(config.per_endpoint.max(1))
    .fetch_all(&db.pool)
    .await?;
    Ok((claim, claimed))
}
