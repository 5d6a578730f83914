//! The outbox: one delivery row per event and subscribed endpoint, written inside the
//! transaction that made the change, so a change and its webhook commit (or roll back)
//! together. The worker (`deliver`) sends them; nothing here does network IO.

use crate::audit::{Actor, Event};
use latchkey_domain::error::AppResult;
use latchkey_domain::keys::random_base62;
use latchkey_domain::time::iso_ms;
use latchkey_domain::webhooks::EventType;

/// The Standard Webhooks body: `{type, timestamp, data}`.
fn payload(event: EventType, now: i64, data: serde_json::Value) -> String {
    serde_json::json!({
        "type": event.as_str(),
        "timestamp": iso_ms(now),
        "data": data,
    })
    .to_string()
}

/// The tenant's endpoints that subscribe to `event`.
async fn subscribers(
    conn: &mut sqlx::AnyConnection,
    tenant_id: i64,
    event: EventType,
) -> AppResult<Vec<i64>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, events)| events.split_whitespace().any(|e| e == event.as_str()))
        .map(|(id, _)| id)
        .collect())
}

/// Queues `event` for the given endpoints; returns the event's id (`msg_…`, the `webhook-id`).
pub async fn enqueue_to(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    tenant_id: i64,
    endpoints: &[i64],
    event: EventType,
    data: serde_json::Value,
) -> AppResult<String> {
    let id = format!("msg_{}", random_base62(24));
    let body = payload(event, now, data);
    for endpoint in endpoints {
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_id, event_type, \
             payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(endpoint)
        .bind(tenant_id)
        .bind(&id)
        .bind(event.as_str())
        .bind(&body)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// Queues `event` for every endpoint of the tenant that subscribes to it. Returns how many.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    tenant_id: i64,
    event: EventType,
    data: serde_json::Value,
) -> AppResult<usize> {
    let endpoints = subscribers(conn, tenant_id, event).await?;
    if !endpoints.is_empty() {
        enqueue_to(conn, now, tenant_id, &endpoints, event, data).await?;
    }
    Ok(endpoints.len())
}

/// The key a webhook is about, as receivers see it: never the secret.
pub(crate) async fn key_data(
    conn: &mut sqlx::AnyConnection,
    tenant_id: i64,
    public_id: &str,
) -> AppResult<serde_json::Value> {
    let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT name, masked, mode, expires_at FROM api_keys \
         WHERE tenant_id = $1 AND public_id = $2",
    )
    .bind(tenant_id)
    .bind(public_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some((name, masked, mode, expires_at)) => serde_json::json!({
            "id": public_id,
            "name": name,
            "masked": masked,
            "mode": mode,
            "expires_at": expires_at,
        }),
        None => serde_json::json!({ "id": public_id }),
    })
}

/// The webhook an audited key change sends, queued beside its audit event (same transaction).
pub(crate) async fn from_audit(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    actor: &Actor,
    ev: &Event,
) -> AppResult<()> {
    let (Some(event), Some(tenant_id), Some("api_key"), Some(key_id)) = (
        EventType::of_audit(ev.action),
        ev.tenant_id,
        ev.target_type,
        ev.target_id.as_deref(),
    ) else {
        return Ok(());
    };
    let endpoints = subscribers(conn, tenant_id, event).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let key = key_data(conn, tenant_id, key_id).await?;
    let data = serde_json::json!({
        "key": key,
        "actor": actor.audit_name,
        "details": ev.details,
    });
    enqueue_to(conn, now, tenant_id, &endpoints, event, data).await?;
    Ok(())
}
