//! `GET /v1/audit-events`: the tenant's audit log, filtered and paged. Needs `audit:read`.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Caller};
use super::paging::{cursor_schema, limit_schema, page_limit, parse_cursor};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use store::audit::{list as list_events, AuditFilter};
use store::AppState;
use utoipa::{IntoParams, ToSchema};

pub const READ: &str = "audit:read";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events about this target, e.g. a key's `key_…` id.
    pub target_id: Option<String>,
    /// Only events by this actor (an email, `operator`, or `api_key:key_…`).
    pub actor: Option<String>,
    /// Only this action, e.g. `api_key.revoked`.
    pub action: Option<String>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
    /// Events a page holds: 1 to 100, default 50.
    #[param(schema_with = limit_schema)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = cursor_schema)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub client_ip: Option<String>,
    /// What changed; never a secret.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventList {
    pub data: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

/// The tenant's audit events, newest first.
#[utoipa::path(
    get,
    path = "/v1/audit-events",
    tag = "audit",
    params(AuditQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of events", body = AuditEventList),
        (status = 400, description = "invalid_request: the query string does not decode (e.g. a `since` that is not a number)", body = ErrorBody),
        (status = 403, description = "insufficient_scope (audit:read), ip_not_allowed or plan_required", body = ErrorBody),
        (status = 422, description = "validation_failed: `limit` out of range or a `cursor` that is not one", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditEventList>, ApiError> {
    caller.require(READ)?;
    let limit = page_limit(q.limit)?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let filter = AuditFilter {
        target_id: q.target_id,
        actor: q.actor,
        action: q.action,
        since: q.since,
        until: q.until,
    };
    let (rows, next) = list_events(&state.db, caller.tenant_id(), &filter, before, limit).await?;
    Ok(Json(AuditEventList {
        data: rows
            .into_iter()
            .map(|r| AuditEvent {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                client_ip: r.client_ip,
                details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
        next_cursor: next.map(|n| n.to_string()),
    }))
}
