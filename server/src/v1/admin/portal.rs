//! `/v1/admin/portal-links` and `/v1/admin/portal-sessions/expire`: the SaaS backend signs its
//! users in to Latchkey with a one-time link, and ends those sessions when it wants.
//! Not under `Idempotency-Key`: a replay would have to store the link (a sign-in) to answer
//! it again, and every mint is a new link anyway.

use super::{live_tenant, Operator, PORTAL_WRITE};
use crate::v1::error::{ApiError, ErrorBody};
use crate::v1::extract::ApiJson;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use store::portal::MintInput;
use store::AppState;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalLinkRequest {
    /// The tenant's external id.
    #[schema(pattern = "^[A-Za-z0-9_.:@|-]{1,128}$")]
    pub tenant: String,
    /// The member's external user id (they must be a member of the tenant).
    #[schema(pattern = "^[A-Za-z0-9_.:@|-]{1,128}$")]
    pub user: String,
    /// Cap the session at member: it reads keys and changes nothing.
    #[serde(default)]
    pub read_only: bool,
    /// Shown as "← Back to …" in the session; must start with a `--portal-return-origin`.
    #[schema(max_length = 2048)]
    pub return_url: Option<String>,
    /// How long the link can be redeemed (default 120).
    #[schema(minimum = 1, maximum = 300)]
    #[serde(default, deserialize_with = "super::tenants::whole")]
    pub ttl_seconds: Option<u32>,
    /// The page the link lands on: `/keys` (default), `/keys/{key id}`, `/audit`, `/members`,
    /// `/webhooks`, `/billing`, `/account` or `/`.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalLink {
    /// `…/portal#lkp_…`: open it in the user's browser once. The token rides in the fragment,
    /// so it reaches no server log and no Referer.
    pub url: String,
    /// When it stops working, Unix milliseconds.
    pub expires_at: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpireRequest {
    /// The tenant's external id.
    #[schema(pattern = "^[A-Za-z0-9_.:@|-]{1,128}$")]
    pub tenant: String,
    /// Only this member's portal sessions (external user id); all of the tenant's otherwise.
    #[schema(pattern = "^[A-Za-z0-9_.:@|-]{1,128}$")]
    pub user: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Expired {
    /// How many portal sessions ended.
    pub expired: u64,
}

/// Mints a one-time sign-in link for a member of a tenant.
#[utoipa::path(
    post,
    path = "/v1/admin/portal-links",
    tag = "admin",
    request_body = PortalLinkRequest,
    security(("operator_token" = [])),
    responses(
        (status = 201, description = "Minted", body = PortalLink),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (portal:write)", body = ErrorBody),
        (status = 404, description = "not_found: no such tenant", body = ErrorBody),
        (status = 409, description = "tenant_deleted", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "validation_failed: `user` is not a member, `return_url` is not on a listed origin, `next` is not a Latchkey page of this tenant, `ttl_seconds` is out of range", body = ErrorBody),
    )
)]
pub async fn mint(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PortalLinkRequest>,
) -> Result<(StatusCode, Json<PortalLink>), ApiError> {
    op.require(PORTAL_WRITE)?;
    let t = live_tenant(&state, &body.tenant).await?;
    let input = MintInput {
        external_user_id: body.user,
        read_only: body.read_only,
        return_url: body.return_url,
        ttl_secs: body.ttl_seconds.map(u64::from),
        next: body.next,
    };
    let minted = store::portal::mint(
        &state.db,
        &state.settings.portal,
        t.id,
        &input,
        &op.call(&headers),
    )
    .await?;
    let base = match &state.settings.public_url {
        Some(url) => url.clone(),
        // Without `--public-url`, the address the operator reached us at.
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            let scheme = if state.settings.insecure_cookies {
                "http"
            } else {
                "https"
            };
            format!("{scheme}://{host}")
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(PortalLink {
            url: format!("{base}/portal#{}", minted.token()),
            expires_at: minted.expires_at,
        }),
    ))
}

/// Ends portal sessions at once, on every replica: the tenant's, or one member's.
#[utoipa::path(
    post,
    path = "/v1/admin/portal-sessions/expire",
    tag = "admin",
    request_body = ExpireRequest,
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "Ended", body = Expired),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 403, description = "insufficient_scope (portal:write)", body = ErrorBody),
        (status = 404, description = "not_found: no such tenant", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
    )
)]
pub async fn expire(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ExpireRequest>,
) -> Result<Json<Expired>, ApiError> {
    op.require(PORTAL_WRITE)?;
    let t = super::tenant(&state, &body.tenant).await?;
    let expired =
        store::portal::expire_sessions(&state.db, t.id, body.user.as_deref(), &op.call(&headers))
            .await?;
    Ok(Json(Expired { expired }))
}
