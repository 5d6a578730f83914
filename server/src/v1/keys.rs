//! `/v1/whoami` and `/v1/keys…`: the same validation, plan limit and audit events as the UI,
//! plus the API's own rule that a key never grants more than it holds.

use super::{ApiError, ApiJson, ApiQuery, Caller};
use app::api_keys::api::{KeyEdit, KeyStatus, KeyView, NewKey};
use app::api_keys::server as store;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use latchkey_domain::keys::Mode;
use latchkey_domain::scopes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const READ: &str = "keys:read";
pub const WRITE: &str = "keys:write";

/// A key as the API shows it: never the secret, never the digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    /// Public id (`key_…`), safe to log and share.
    pub id: String,
    pub name: String,
    pub description: String,
    /// `live` or `test`.
    pub mode: String,
    pub scopes: Vec<String>,
    /// CIDRs; empty allows any address.
    pub allowlist: Vec<String>,
    /// e.g. `lk_live_Ab3x…9fQ2`.
    pub masked: String,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    /// Unix milliseconds.
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

impl From<KeyView> for ApiKey {
    fn from(k: KeyView) -> Self {
        Self {
            id: k.id,
            name: k.name,
            description: k.description,
            mode: k.mode.as_str().to_owned(),
            scopes: k.scopes,
            allowlist: k.allowlist,
            masked: k.masked,
            status: match k.status {
                KeyStatus::Active => "active",
                KeyStatus::Revoked => "revoked",
                KeyStatus::Expired => "expired",
            }
            .to_owned(),
            expires_at: k.expires_at,
            created_at: k.created_at,
            created_by: k.created_by,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            revoked_by: k.revoked_by,
            revoke_reason: k.revoke_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeySummary {
    pub id: String,
    pub name: String,
    pub mode: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSummary {
    pub slug: String,
    pub name: String,
    /// `starter`, `professional` or `enterprise`.
    pub plan: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitSummary {
    /// Requests allowed per window.
    pub limit: u32,
    pub remaining: u32,
    pub window_secs: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub key: KeySummary,
    pub tenant: TenantSummary,
    pub rate_limit: RateLimitSummary,
}

impl KeySummary {
    pub fn of(k: &app::verify::KeyRecord) -> Self {
        Self {
            id: k.public_id.clone(),
            name: k.name.clone(),
            mode: k.mode.as_str().to_owned(),
            scopes: k.scopes.clone(),
        }
    }
}

impl TenantSummary {
    pub fn of(t: &app::verify::TenantRecord) -> Self {
        Self {
            slug: t.slug.clone(),
            name: t.name.clone(),
            plan: t.plan.as_str().to_owned(),
        }
    }
}

/// The calling key, its tenant and its remaining rate-limit budget. Needs no scope.
#[utoipa::path(
    get,
    path = "/v1/whoami",
    tag = "keys",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The calling key", body = WhoAmI),
        (status = 401, description = "invalid_api_key, key_revoked or key_expired", body = super::openapi::ErrorBody),
        (status = 403, description = "ip_not_allowed or plan_required", body = super::openapi::ErrorBody),
        (status = 429, description = "rate_limited", body = super::openapi::ErrorBody),
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
            window_secs: app::verify::RATE_WINDOW_SECS,
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
    pub data: Vec<ApiKey>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub fn parse_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => c
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::validation("cursor", "Use the next_cursor of a previous page.")),
    }
}

pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit.unwrap_or(50) {
        n @ 1..=100 => Ok(n),
        _ => Err(ApiError::validation("limit", "Use a limit from 1 to 100.")),
    }
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
        (status = 403, description = "insufficient_scope (keys:read)", body = super::openapi::ErrorBody),
        (status = 422, description = "validation_failed", body = super::openapi::ErrorBody),
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
    let (keys, next) = store::list(
        &state.db,
        caller.tenant_id(),
        q.search.as_deref().unwrap_or(""),
        q.include_revoked.unwrap_or(false),
        before,
        limit,
    )
    .await?;
    Ok(Json(KeyList {
        data: keys.into_iter().map(ApiKey::from).collect(),
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
    pub key: ApiKey,
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
        (status = 403, description = "insufficient_scope (keys:write, or a scope the key lacks) or mode_not_allowed", body = super::openapi::ErrorBody),
        (status = 409, description = "conflict: the plan's active-key limit is reached", body = super::openapi::ErrorBody),
        (status = 422, description = "validation_failed, per field", body = super::openapi::ErrorBody),
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
    let (key, secret) = store::create(
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
            key: key.into(),
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
        (status = 200, description = "The key", body = ApiKey),
        (status = 404, description = "not_found (also for other tenants' keys)", body = super::openapi::ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    caller.require(READ)?;
    Ok(Json(
        store::get(&state.db, caller.tenant_id(), &id).await?.into(),
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
        (status = 200, description = "The key as it is now", body = ApiKey),
        (status = 404, description = "not_found", body = super::openapi::ErrorBody),
        (status = 409, description = "conflict: the key is revoked", body = super::openapi::ErrorBody),
        (status = 422, description = "validation_failed, per field", body = super::openapi::ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateKeyRequest>,
) -> Result<Json<ApiKey>, ApiError> {
    caller.require(WRITE)?;
    let tenant_id = caller.tenant_id();
    let current = store::get(&state.db, tenant_id, &id).await?;
    let key = store::update(
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
    Ok(Json(key.into()))
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
        (status = 200, description = "The revoked key", body = ApiKey),
        (status = 404, description = "not_found", body = super::openapi::ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RevokeQuery>,
) -> Result<Json<ApiKey>, ApiError> {
    caller.require(WRITE)?;
    let tenant_id = caller.tenant_id();
    let key = store::revoke(
        &state.db,
        tenant_id,
        &caller.actor(),
        &id,
        q.reason.as_deref().unwrap_or(""),
    )
    .await?;
    state.verifier.forget_key(tenant_id, &id).await;
    Ok(Json(key.into()))
}
