//! `/v1/whoami` and `/v1/keys…`: the same validation, plan limit and audit events as the UI,
//! plus the API's own rule that a key never grants more than it holds.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Caller};
use super::paging::{page_limit, parse_cursor};
use super::schemas::{KeySummary, RateLimitSummary, TenantSummary, WhoAmI};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use latchkey_domain::keys::Mode;
use latchkey_domain::scopes;
use latchkey_domain::views::{KeyEdit, KeyView, NewKey};
use serde::{Deserialize, Serialize};
use store::AppState;
use utoipa::{IntoParams, ToSchema};

pub const READ: &str = "keys:read";
pub const WRITE: &str = "keys:write";

/// The calling key, its tenant and its remaining rate-limit budget. Needs no scope.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "keys",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The calling key", body = WhoAmI),
        (status = 401, description = "invalid_api_key, key_revoked or key_expired", body = ErrorBody),
        (status = 403, description = "ip_not_allowed or plan_required", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn whoami(caller: Caller) -> Json<WhoAmI> {
    let v = &caller.0;
    Json(WhoAmI {
        key: KeySummary::of(&v.key),
        tenant: TenantSummary::of(&v.tenant),
        rate_limit: RateLimitSummary {
            limit: v.rate.limit,
            remaining: v.rate.remaining,
            window_secs: store::verify::RATE_WINDOW_SECS,
        },
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Include revoked keys (default: only active and expired ones).
    pub include_revoked: Option<bool>,
    /// 1 to 100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub data: Vec<KeyView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The tenant's keys, newest first. Needs `keys:read`.
#[utoipa::path(
    get,
    path = "/v1/keys",
    tag = "keys",
    params(ListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of keys", body = KeyList),
        (status = 403, description = "insufficient_scope (keys:read)", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<KeyList>, ApiError> {
    caller.require(READ)?;
    let limit = page_limit(q.limit)?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let (keys, next) = store::keys::list(
        &state.db,
        caller.tenant_id(),
        q.search.as_deref().unwrap_or(""),
        q.include_revoked.unwrap_or(false),
        before,
        limit,
    )
    .await?;
    Ok(Json(KeyList {
        data: keys,
        next_cursor: next.map(|n| n.to_string()),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateKeyRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `live` or `test`; defaults to the calling key's mode. A test key cannot create live keys.
    pub mode: Option<String>,
    /// From the scope catalogue; each must be held by the calling key.
    pub scopes: Vec<String>,
    /// CIDRs or addresses; empty allows any address.
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// Last day the key works (UTC, `YYYY-MM-DD`).
    pub expires_on: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: KeyView,
    /// The plaintext key. Shown in this response only: store it now.
    pub secret: String,
}

/// Creates a key and returns its secret, once. Needs `keys:write`.
#[utoipa::path(
    post,
    path = "/v1/keys",
    tag = "keys",
    request_body = CreateKeyRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Created; the only response that carries the secret", body = CreatedKey),
        (status = 403, description = "insufficient_scope (keys:write, or a scope the key lacks) or mode_not_allowed", body = ErrorBody),
        (status = 409, description = "conflict: the plan's active-key limit is reached", body = ErrorBody),
        (status = 422, description = "validation_failed, per field", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    caller.require(WRITE)?;
    let me = &caller.0.key;
    let mode = match body.mode.as_deref() {
        None => me.mode,
        Some(m) => m
            .parse::<Mode>()
            .map_err(|_| ApiError::validation("mode", "Use live or test."))?,
    };
    if me.mode == Mode::Test && mode == Mode::Live {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mode_not_allowed",
            "A test key cannot create live keys.",
        ));
    }
    // Unknown scopes are a validation problem; known ones the key lacks are an escalation.
    let wanted = scopes::validate(&body.scopes, &state.settings.scope_catalogue)
        .map_err(|e| ApiError::validation("scopes", e.to_string()))?;
    if let Some(lacking) = wanted
        .iter()
        .find(|w| !scopes::covers(&me.scopes, std::slice::from_ref(*w)))
    {
        let mut e = ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("This key cannot grant `{lacking}`: a key can only grant scopes it holds."),
        );
        e.required_scope = Some(lacking.clone());
        return Err(e);
    }
    let (key, secret) = store::keys::create(
        &state.db,
        &state.pepper,
        &state.settings.scope_catalogue,
        caller.tenant_id(),
        caller.0.tenant.plan,
        &caller.actor(),
        NewKey {
            name: body.name,
            description: body.description,
            mode: Some(mode),
            scopes: wanted,
            allowlist: body.allowlist.join("\n"),
            expires_on: body.expires_on.unwrap_or_default(),
        },
        Some(&me.scopes),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key,
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// One key of the caller's tenant. Needs `keys:read`.
#[utoipa::path(
    get,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key", body = KeyView),
        (status = 404, description = "not_found (also for other tenants' keys)", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(READ)?;
    Ok(Json(
        store::keys::get(&state.db, caller.tenant_id(), &id).await?,
    ))
}

/// Only these change; mode and scopes never do (roll or create a key instead).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateKeyRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Replaces the allowlist; empty allows any address.
    pub allowlist: Option<Vec<String>>,
}

/// Edits name, description or allowlist; effective on the next request. Needs `keys:write`.
#[utoipa::path(
    patch,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)")),
    request_body = UpdateKeyRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key as it is now", body = KeyView),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "conflict: the key is revoked", body = ErrorBody),
        (status = 422, description = "validation_failed, per field", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateKeyRequest>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(WRITE)?;
    let tenant_id = caller.tenant_id();
    let current = store::keys::get(&state.db, tenant_id, &id).await?;
    let key = store::keys::update(
        &state.db,
        tenant_id,
        &caller.actor(),
        KeyEdit {
            id: id.clone(),
            name: body.name.unwrap_or(current.name),
            description: body.description.unwrap_or(current.description),
            allowlist: body.allowlist.unwrap_or(current.allowlist).join("\n"),
        },
    )
    .await?;
    state.verifier.forget_key(tenant_id, &id).await;
    Ok(Json(key))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// Why, for the audit log.
    pub reason: Option<String>,
}

/// Revokes a key; refused from its very next request. Needs `keys:write`.
#[utoipa::path(
    delete,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)"), RevokeQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The revoked key", body = KeyView),
        (status = 404, description = "not_found", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RevokeQuery>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(WRITE)?;
    let tenant_id = caller.tenant_id();
    let key = store::keys::revoke(
        &state.db,
        tenant_id,
        &caller.actor(),
        &id,
        q.reason.as_deref().unwrap_or(""),
    )
    .await?;
    state.verifier.forget_key(tenant_id, &id).await;
    Ok(Json(key))
}
