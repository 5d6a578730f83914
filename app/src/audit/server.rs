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
