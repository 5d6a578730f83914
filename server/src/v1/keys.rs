//! `/v1/whoami` and `/v1/keys…`: the same validation, plan limit and audit events as the UI,
//! plus the API's own rule that keys act only within their own rights (SPEC §3): a key sees and
//! manages only keys it covers (`scopes::may_manage`; any other key answers 404 `not_found`,
//! exactly like another tenant's), and a key it creates stays within its scopes, allowlist and
//! expiry.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::paging::{cursor_schema, limit_schema, page_limit, parse_cursor};
use super::rights::{allowlist_for, covered, within_creator};
use super::schemas::{self, KeySummary, RateLimitSummary, TenantSummary, WhoAmI};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use latchkey_domain::error::{AppError, FieldError};
use latchkey_domain::keys::Mode;
use latchkey_domain::scopes;
use latchkey_domain::views::{KeyEdit, KeyView, NewKey};
use serde::{Deserialize, Serialize};
use store::AppState;
use utoipa::openapi::schema::{Array, Object};
use utoipa::{IntoParams, ToSchema};

mod create_request;
pub use create_request::{CreateKeyRequest, CreatedKey};

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
        (status = 403, description = "ip_not_allowed or plan_required", body = ErrorBody),
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
    /// Include revoked keys (default: only active, disabled and expired ones). Ignored with
    /// `status`.
    pub include_revoked: Option<bool>,
    /// Only keys in this state: `active` (working now), `expiring` (active, expiring within 7
    /// days), `disabled`, `revoked` or `expired`.
    pub status: Option<latchkey_domain::views::KeyFilter>,
    /// Keys a page reads: 1 to 100, default 50.
    #[param(schema_with = limit_schema)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = cursor_schema)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub data: Vec<KeyView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The tenant's keys that the calling key covers (every scope of theirs it holds, and a mode it
/// may use: a test key sees only test keys), newest first. Other keys are left out, so a page
/// may hold fewer than `limit` keys (even none) and still have a `next_cursor`. Needs
/// `keys:read`.
#[utoipa::path(
    get,
    path = "/v1/keys",
    tag = "keys",
    params(ListQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of the keys the calling key covers", body = KeyList),
        (status = 400, description = "invalid_request: the query string does not decode (e.g. a `limit` that is not a number)", body = ErrorBody),
        (status = 403, description = "insufficient_scope (keys:read), ip_not_allowed or plan_required", body = ErrorBody),
        (status = 422, description = "validation_failed: `limit` out of range or a `cursor` that is not one", body = ErrorBody),
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
    let me = &caller.0.key;
    // Storage leaves out the other mode; scopes are filtered here, after the page is cut, so
    // the cursor still follows the rows read.
    let query = store::keys::KeyQuery {
        search: q.search.as_deref().unwrap_or(""),
        include_revoked: q.include_revoked.unwrap_or(false),
        status: q.status,
        mode: (me.mode == Mode::Test).then_some(Mode::Test),
        before,
        limit,
    };
    let (keys, next) = store::keys::list(&state.db, caller.tenant_id(), &query).await?;
    Ok(Json(KeyList {
        data: keys
            .into_iter()
            .filter(|k| scopes::may_manage(&me.scopes, me.mode, &k.scopes, k.mode))
            .collect(),
        next_cursor: next.map(|n| n.to_string()),
    }))
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
        (status = 400, description = "invalid_request: not JSON, or a field this request does not take (named in the message)", body = ErrorBody),
        (status = 403, description = "insufficient_scope (keys:write, or a scope the key lacks), mode_not_allowed, ip_not_allowed or plan_required", body = ErrorBody),
        (status = 409, description = "conflict: the plan's active-key limit is reached, or the organisation is suspended; requirements_pending: the operator's requirements are not all met (named in the message)", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (answered before the API reads it)"),
        (status = 422, description = "validation_failed, per field: a value outside its schema, and `allowlist` beyond the calling key's own or `expires_on` after the calling key's expiry", body = ErrorBody),
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
    let (allowlist, expires_on) =
        within_creator(me, body.allowlist, body.expires_on, store::db::now_ms())?;
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
            allowlist,
            expires_on,
            resources: body.resources,
        },
        Some(&me.scopes),
        me.resources.as_ref(),
        &state.settings.resource_types,
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

/// One key of the caller's tenant that the calling key covers. Needs `keys:read`.
#[utoipa::path(
    get,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key", body = KeyView),
        (status = 400, description = "invalid_request: the id is not UTF-8", body = ErrorBody),
        (status = 403, description = "insufficient_scope (keys:read), ip_not_allowed or plan_required", body = ErrorBody),
        (status = 404, description = "not_found: no such key, another tenant's, or one the calling key does not cover (a scope it lacks, or live for a test key)", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(READ)?;
    Ok(Json(covered(&state, &caller, &id).await?))
}

const IMMUTABLE: &str =
    "Mode and scopes never change after creation; roll the key or create a new one.";

/// Only these change. Naming `mode` or `scopes` answers 422 `validation_failed` (they never
/// change: roll or create a key instead); any other field 400 `invalid_request`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateKeyRequest {
    #[schema(schema_with = update_name)]
    pub name: Option<String>,
    #[schema(schema_with = update_description)]
    pub description: Option<String>,
    #[schema(schema_with = update_allowlist)]
    pub allowlist: Option<Vec<String>>,
    /// `false` disables the key (`401 key_disabled` from its next request, reversible);
    /// `true` enables it again. Omitted or `null`: unchanged. A revoked key stays revoked.
    pub enabled: Option<bool>,
    /// Refused whenever present (even `null`): read only so it can be named in the answer.
    #[serde(default, deserialize_with = "present")]
    #[schema(ignore)]
    pub scopes: Option<serde_json::Value>,
    /// As `scopes`.
    #[serde(default, deserialize_with = "present")]
    #[schema(ignore)]
    pub mode: Option<serde_json::Value>,
}

fn update_name() -> Object {
    schemas::key_name(true, "The new name; omitted or `null`: unchanged.")
}

fn update_description() -> Object {
    schemas::free_text(true, "The new description; omitted or `null`: unchanged.")
}

fn update_allowlist() -> Array {
    schemas::allowlist(
        "Replaces the allowlist; omitted or `null`: unchanged. Must lie within the calling key's \
         own allowlist when it has one.",
    )
}

/// A field that counts as given whenever it appears, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// Edits name, description or allowlist of a key the calling key covers, or disables or enables
/// it; effective on the next request. Needs `keys:write`.
#[utoipa::path(
    patch,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)")),
    request_body = UpdateKeyRequest,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key as it is now", body = KeyView),
        (status = 400, description = "invalid_request: not JSON, a field this request does not take (named in the message), or an id that is not UTF-8", body = ErrorBody),
        (status = 403, description = "insufficient_scope (keys:write), ip_not_allowed or plan_required", body = ErrorBody),
        (status = 404, description = "not_found: no such key, another tenant's, or one the calling key does not cover", body = ErrorBody),
        (status = 409, description = "conflict: the key is revoked", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (answered before the API reads it)"),
        (status = 422, description = "validation_failed, per field: a value outside its schema, `mode` or `scopes` (immutable), and `allowlist` beyond the calling key's own", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateKeyRequest>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(WRITE)?;
    let immutable: Vec<FieldError> = [
        ("scopes", body.scopes.is_some()),
        ("mode", body.mode.is_some()),
    ]
    .into_iter()
    .filter(|(_, named)| *named)
    .map(|(field, _)| FieldError {
        field: field.to_owned(),
        message: IMMUTABLE.to_owned(),
    })
    .collect();
    if !immutable.is_empty() {
        return Err(AppError::Validation(immutable).into());
    }
    let tenant_id = caller.tenant_id();
    let current = covered(&state, &caller, &id).await?;
    if let Some(lines) = &body.allowlist {
        allowlist_for(lines, &caller.0.key)?;
    }
    let mut key = store::keys::update(
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
    if let Some(enabled) = body.enabled {
        key = store::keys::set_enabled(&state.db, tenant_id, &caller.actor(), &id, enabled).await?;
    }
    state.verifier.forget_key(tenant_id, &id).await;
    Ok(Json(key))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// Why, for the audit log.
    #[param(schema_with = revoke_reason)]
    pub reason: Option<String>,
}

fn revoke_reason() -> Object {
    schemas::free_text(false, "Shown in the audit log.")
}

/// Revokes a key the calling key covers; refused from its very next request. Needs `keys:write`.
/// The key is not erased: `GET` still answers it, with status `revoked`, for the audit trail.
#[utoipa::path(
    delete,
    path = "/v1/keys/{id}",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)"), RevokeQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The revoked key (revoking a revoked key changes nothing)", body = KeyView),
        (status = 400, description = "invalid_request: the query string does not decode, or the id is not UTF-8", body = ErrorBody),
        (status = 403, description = "insufficient_scope (keys:write), ip_not_allowed or plan_required", body = ErrorBody),
        (status = 404, description = "not_found: no such key, another tenant's, or one the calling key does not cover", body = ErrorBody),
        (status = 422, description = "validation_failed: `reason` outside its schema", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RevokeQuery>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(WRITE)?;
    let tenant_id = caller.tenant_id();
    covered(&state, &caller, &id).await?;
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
