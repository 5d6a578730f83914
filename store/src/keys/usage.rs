//! A key's usage charts and the keys list's "last 24 h" counts, read from the hourly counters
//! the usage writer keeps (`key_usage_hourly`), never from the request log.

use crate::db::Db;
use latchkey_domain::error::AppResult;
use latchkey_domain::usage::{last_24h_since, KeyUsage};
use std::collections::BTreeMap;

#[derive(Debug, sqlx::FromRow)]
struct CounterRow {
    hour: i64,
    status: i64,
    count: i64,
}

/// Both charts of one key (by public id) at the store's clock. Another tenant's key is "not
/// found".
pub async fn usage(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<KeyUsage> {
    let now = db.clock.now_ms();
    let key_id = super::row_id(db, tenant_id, public_id).await?;
    let rows = sqlx::query_as::<_, CounterRow>(
        "SELECT hour, status, count FROM key_usage_hourly \
         WHERE key_id = $1 AND tenant_id = $2 AND hour >= $3",
    )
    .bind(key_id)
    .bind(tenant_id)
    .bind(KeyUsage::since(now))
    .fetch_all(&db.pool)
    .await?;
    let rows: Vec<(i64, u16, u64)> = rows
        .into_iter()
        .map(|r| {
            (
                r.hour,
                u16::try_from(r.status).unwrap_or(u16::MAX),
                u64::try_from(r.count).unwrap_or(0),
            )
        })
        .collect();
    Ok(KeyUsage::build(&rows, now))
}

/// Requests in the last 24 hours (24 whole hours, the current one included) of each listed key
/// of the tenant, by public id; keys without any are left out.
pub async fn last_24h(
    db: &Db,
    tenant_id: i64,
    public_ids: &[String],
) -> AppResult<BTreeMap<String, u64>> {
    if public_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let marks: Vec<String> = (0..public_ids.len())
        .map(|i| format!("${}", i + 3))
        .collect();
    let sql = format!(
        "SELECT k.public_id, CAST(SUM(u.count) AS BIGINT) AS n FROM key_usage_hourly u \
         JOIN api_keys k ON k.id = u.key_id \
         WHERE u.tenant_id = $1 AND k.tenant_id = $1 AND u.hour >= $2 \
         AND k.public_id IN ({}) GROUP BY k.public_id",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, i64)>(&sql)
        .bind(tenant_id)
        .bind(last_24h_since(db.clock.now_ms()));
    for id in public_ids {
        q = q.bind(id.as_str());
    }
    Ok(q.fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}
