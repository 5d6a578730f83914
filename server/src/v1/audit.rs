//! `GET /v1/audit-events`: the tenant's audit log, filtered and paged. Needs `audit:read`.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Caller};
use super::paging::{cursor_schema, limit_schema, page_limit, parse_cursor};
use axum::extract::State;
use axum::Json;
use latchkey_domain::audit::AuditAction;
use serde::{Deserialize, Serialize};
use store::audit::{list as list_events, AuditCursor, AuditFilter};
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
    /// Only this action, e.g. `api_key.revoked` (the list is in the parameter's schema).
    #[param(schema_with = action_schema)]
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
        (status = 422, description = "validation_failed: `limit` out of range, a `cursor` that is not one, or an unknown `action`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditEventList>, ApiError> {
    caller.require(READ)?;
    page(&state, caller.tenant_id(), q).await.map(Json)
}

/// One page of a tenant's events (this route, and the operator's view of any tenant).
pub async fn page(
    state: &AppState,
    tenant_id: i64,
    q: AuditQuery,
) -> Result<AuditEventList, ApiError> {
    let limit = page_limit(q.limit)?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let filter = AuditFilter {
        target_id: q.target_id,
        key: None,
        actor: q.actor,
        action: q.action,
        since: q.since,
        until: q.until,
    };
    if let Some(a) = filter.action.as_deref() {
        if AuditAction::parse(a).is_none() {
            return Err(ApiError::validation(
                "action",
                "Use one of the listed actions.",
            ));
        }
    }
    let cursor = before.map_or(AuditCursor::Newest, AuditCursor::Before);
    let page = list_events(&state.db, tenant_id, &filter, cursor, limit).await?;
    let (rows, next) = (page.rows, page.older);
    // Internal integers stay internal: a tenant is named by its public id, a person by the
    // SaaS's id for them (or not at all).
    let tenant_public = store::operator::tenants::by_id(&state.db, tenant_id)
        .await?
        .public_id;
    let users: Vec<i64> = rows
        .iter()
        .filter(|r| r.target_type.as_deref() == Some("user"))
        .filter_map(|r| r.target_id.as_deref()?.parse().ok())
        .collect();
    let external = store::operator::members::external_ids(&state.db, &users).await?;
    let target = |kind: Option<&str>, id: Option<String>| match kind {
        Some("tenant") => Some(tenant_public.clone()),
        Some("user") => id
            .and_then(|i| i.parse::<i64>().ok())
            .and_then(|i| external.get(&i).cloned()),
        _ => id,
    };
    Ok(AuditEventList {
        data: rows
            .into_iter()
            .map(|r| AuditEvent {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                target_id: target(r.target_type.as_deref(), r.target_id),
                target_type: r.target_type,
                client_ip: r.client_ip,
                details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
        next_cursor: next.map(|n| n.to_string()),
    })
}

/// The action filter's values: the one list in `latchkey_domain::audit`.
fn action_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(AuditAction::all().map(AuditAction::as_str)))
        .description(Some(format!("One of: {}", AuditAction::names())))
        .build()
}
