//! `POST /v1/keys/{id}/roll`: a replacement with the same rights, its secret in this answer
//! only, and the old key kept working for the chosen overlap. The calling key must cover the
//! key it rolls (as for edit and revoke), and the replacement stays within the caller's own
//! bounds (allowlist, expiry), as a key it creates would.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Caller};
use super::keys::WRITE;
use super::rights::{allowlist_for, covered};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use latchkey_domain::views::{KeyView, Overlap};
use serde::{Deserialize, Serialize};
use store::AppState;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollRequest {
    /// How long the old key keeps working beside the new one: `now`, `1h`, `24h` or `7d`
    /// (never past its own expiry). Required: a missing field must not stop a key at once.
    pub overlap: Overlap,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RolledKey {
    /// The replacement: same name, description, mode, scopes, allowlist and expiry.
    pub key: KeyView,
    /// The replacement's plaintext key. Shown in this response only: store it now.
    pub secret: String,
    /// The rolled key as it is now: working until its `expires_at` (the end of the overlap).
    pub replaced: KeyView,
}

/// Rolls a key the calling key covers. Needs `keys:write`.
#[utoipa::path(
    post,
    path = "/v1/keys/{id}/roll",
    tag = "keys",
    params(("id" = String, Path, description = "The key's public id (`key_…`)")),
    request_body = RollRequest,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Rolled; the only response that carries the new secret", body = RolledKey),
        (status = 400, description = "invalid_request: not JSON, a field this request does not take, an unknown overlap, or an id that is not UTF-8", body = ErrorBody),
        (status = 403, description = "insufficient_scope (keys:write), ip_not_allowed or plan_required", body = ErrorBody),
        (status = 404, description = "not_found: no such key, another tenant's, or one the calling key does not cover", body = ErrorBody),
        (status = 409, description = "conflict: the key was already rolled (roll its replacement), or is revoked or expired", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (answered before the API reads it)"),
        (status = 422, description = "validation_failed: the key's allowlist is beyond the calling key's own, or it outlives the calling key (`expires_at`)", body = ErrorBody),
    )
)]
pub async fn roll(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RollRequest>,
) -> Result<(StatusCode, Json<RolledKey>), ApiError> {
    caller.require(WRITE)?;
    let tenant_id = caller.tenant_id();
    let target = covered(&state, &caller, &id).await?;
    let me = &caller.0.key;
    allowlist_for(&target.allowlist, me)?;
    if let Some(mine) = me.expires_at {
        if target.expires_at.is_none_or(|t| t > mine) {
            return Err(ApiError::validation(
                "expires_at",
                "This key expires before the key it would roll: a key cannot issue a key that \
                 outlives it.",
            ));
        }
    }
    let rolled = store::keys::roll(
        &state.db,
        &state.pepper,
        tenant_id,
        caller.0.tenant.plan,
        &caller.actor(),
        &id,
        body.overlap,
    )
    .await?;
    state.verifier.forget_key(tenant_id, &id).await;
    Ok((
        StatusCode::CREATED,
        Json(RolledKey {
            key: rolled.new,
            secret: rolled.secret.expose().to_owned(),
            replaced: rolled.old,
        }),
    ))
}
