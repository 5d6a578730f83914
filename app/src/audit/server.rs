//! Writing audit events. Rows are never updated or deleted (the schema refuses it).

use crate::db::now_ms;
use crate::error::AppResult;
use std::net::IpAddr;

/// One audit event. `details` must never contain a secret.
#[derive(Debug, Clone)]
pub struct Event {
    pub tenant_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    /// Who acted, readable: an email, or `operator` for the CLI.
    pub actor: String,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub client_ip: Option<IpAddr>,
    pub details: serde_json::Value,
}

/// Appends one event, inside the caller's transaction when given one.
pub async fn record<'e, E>(executor: E, ev: Event) -> AppResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events \
         (tenant_id, actor_user_id, actor, action, target_type, target_id, client_ip, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ev.tenant_id)
    .bind(ev.actor_user_id)
    .bind(ev.actor)
    .bind(ev.action)
    .bind(ev.target_type)
    .bind(ev.target_id)
    .bind(ev.client_ip.map(|ip| ip.to_string()))
    .bind(ev.details.to_string())
    .bind(now_ms())
    .execute(executor)
    .await?;
    Ok(())
}

/// Which audit events to list; every filter is optional and exact.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The target's id, e.g. a key's `key_…` id.
    pub target_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AuditEventRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    pub details: String,
}

/// One page of a tenant's audit events, newest first, by keyset on the row id.
pub async fn list(
    db: &crate::db::Db,
    tenant_id: i64,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<AuditEventRow>, Option<i64>)> {
    use sqlx::Row;
    let mut sql = String::from(
        "SELECT id, created_at, actor, action, target_type, target_id, client_ip, details \
         FROM audit_events WHERE tenant_id = $1 AND id < $2",
    );
    let mut texts: Vec<&str> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    for (column, value) in [
        ("target_id", &filter.target_id),
        ("actor", &filter.actor),
        ("action", &filter.action),
    ] {
        if let Some(v) = value {
            texts.push(v);
            sql.push_str(&format!(" AND {column} = ${}", 2 + texts.len()));
        }
    }
    let base = 2 + texts.len();
    if let Some(since) = filter.since {
        numbers.push(since);
        sql.push_str(&format!(" AND created_at >= ${}", base + numbers.len()));
    }
    if let Some(until) = filter.until {
        numbers.push(until);
        sql.push_str(&format!(" AND created_at < ${}", base + numbers.len()));
    }
    sql.push_str(&format!(
        " ORDER BY id DESC LIMIT ${}",
        base + numbers.len() + 1
    ));
    let mut q = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(before.unwrap_or(i64::MAX));
    for t in texts {
        q = q.bind(t.to_owned());
    }
    for n in numbers {
        q = q.bind(n);
    }
    let rows = q.bind(limit + 1).fetch_all(&db.pool).await?;
    crate::db::keyset_page(&rows, limit, |r| {
        Ok(AuditEventRow {
            id: r.try_get("id")?,
            at: r.try_get("created_at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            target_type: r.try_get("target_type")?,
            target_id: r.try_get("target_id")?,
            client_ip: r.try_get("client_ip")?,
            details: r.try_get("details")?,
        })
    })
}
