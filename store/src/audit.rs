//! Audit events: who acted (one `Actor` type for people, keys, the operator and the seed),
//! appended inside the caller's transaction, and read back newest first. Rows are never
//! updated or deleted (the schema refuses it).

use crate::db::{keyset_page, now_ms, storable, Db, Keyed};
use latchkey_domain::error::AppResult;
use latchkey_domain::views::AuditRow;
use std::net::IpAddr;

/// Who is acting: written into `created_by`/`revoked_by` (display) and audit events (audit name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// What pages show, e.g. the person's name.
    pub display: String,
    /// What the audit log records, e.g. an email, `api_key:key_…` or `operator`.
    pub audit_name: String,
    pub client_ip: Option<IpAddr>,
}

impl Actor {
    /// A signed-in person.
    pub fn user(user_id: i64, name: &str, email: &str, client_ip: Option<IpAddr>) -> Self {
        Self {
            user_id: Some(user_id),
            display: name.to_owned(),
            audit_name: email.to_owned(),
            client_ip,
        }
    }

    /// A key acting through the `/v1` API: audited as `api_key:<id>`.
    pub fn api_key(public_id: &str, name: &str, client_ip: Option<IpAddr>) -> Self {
        Self {
            user_id: None,
            display: format!("API key “{name}”"),
            audit_name: format!("api_key:{public_id}"),
            client_ip,
        }
    }

    /// The operator's CLI (another process, no address).
    pub fn operator() -> Self {
        Self::named("operator")
    }

    /// A named system actor, e.g. the demo seed.
    pub fn named(name: &str) -> Self {
        Self {
            user_id: None,
            display: name.to_owned(),
            audit_name: name.to_owned(),
            client_ip: None,
        }
    }
}

/// What happened, to what. `details` must never contain a secret.
#[derive(Debug, Clone)]
pub struct Event {
    pub tenant_id: Option<i64>,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
}

impl Event {
    /// An event about one API key.
    pub fn key(
        tenant_id: i64,
        action: &'static str,
        key_id: &str,
        details: serde_json::Value,
    ) -> Self {
        Self {
            tenant_id: Some(tenant_id),
            action,
            target_type: Some("api_key"),
            target_id: Some(key_id.to_owned()),
            details,
        }
    }
}

/// Appends one event, inside the caller's transaction when given one.
pub async fn record<'e, E>(executor: E, actor: &Actor, ev: Event) -> AppResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_events \
         (tenant_id, actor_user_id, actor, action, target_type, target_id, client_ip, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ev.tenant_id)
    .bind(actor.user_id)
    .bind(actor.audit_name.as_str())
    .bind(ev.action)
    .bind(ev.target_type)
    .bind(ev.target_id)
    .bind(actor.client_ip.map(|ip| ip.to_string()))
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

/// One stored audit event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEventRow {
    pub id: i64,
    #[sqlx(rename = "created_at")]
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    pub details: String,
}

impl Keyed for AuditEventRow {
    fn keyset_id(&self) -> i64 {
        self.id
    }
}

impl From<AuditEventRow> for AuditRow {
    fn from(r: AuditEventRow) -> Self {
        Self {
            at: r.at,
            actor: r.actor,
            action: r.action,
            details: r.details,
        }
    }
}

const COLUMNS: &str = "id, created_at, actor, action, target_type, target_id, client_ip, details";

/// One page of a tenant's audit events, newest first, by keyset on the row id.
pub async fn list(
    db: &Db,
    tenant_id: i64,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<AuditEventRow>, Option<i64>)> {
    let texts = [&filter.target_id, &filter.actor, &filter.action];
    if texts.into_iter().flatten().any(|t| !storable(t)) {
        return Ok((Vec::new(), None));
    }
    let mut sql = format!("SELECT {COLUMNS} FROM audit_events WHERE tenant_id = $1 AND id < $2");
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
    let mut q = sqlx::query_as::<_, AuditEventRow>(&sql)
        .bind(tenant_id)
        .bind(before.unwrap_or(i64::MAX));
    for t in texts {
        q = q.bind(t.to_owned());
    }
    for n in numbers {
        q = q.bind(n);
    }
    let rows = q.bind(limit + 1).fetch_all(&db.pool).await?;
    keyset_page(rows, limit, Ok)
}

/// A key's audit events, newest first (its detail page shows the latest 200).
pub async fn key_trail(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<Vec<AuditRow>> {
    let rows = sqlx::query_as::<_, AuditEventRow>(&format!(
        "SELECT {COLUMNS} FROM audit_events \
         WHERE tenant_id = $1 AND target_id = $2 ORDER BY id DESC LIMIT 200"
    ))
    .bind(tenant_id)
    .bind(public_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(AuditRow::from).collect())
}
