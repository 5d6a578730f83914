//! `/v1/admin`: the operator API the SaaS backend keeps Latchkey in sync with (issue 24).
//! Authenticated by operator tokens (`lko_…`) only: a tenant's API key, even with `*`, and the
//! verify service token are refused like any wrong token. Every non-GET call may carry an
//! `Idempotency-Key` ([`idempotency`]).

pub mod gates;
mod idempotency;
pub mod members;
pub mod portal;
pub mod tenants;

use super::error::ApiError;
use super::verify::VerifyGuard;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Router};
use latchkey_domain::verify::credential;
use std::net::SocketAddr;
use store::operator::tokens::OperatorToken;
use store::operator::Call;
use store::AppState;

/// The scopes routes need.
pub const TENANTS_READ: &str = "tenants:read";
pub const TENANTS_WRITE: &str = "tenants:write";
pub const MEMBERS_READ: &str = "members:read";
pub const MEMBERS_WRITE: &str = "members:write";
pub const RESOURCES_WRITE: &str = "resources:write";
pub const PORTAL_WRITE: &str = "portal:write";

/// Wrong operator tokens one address may send a minute (`--failed-auth-per-minute`) before
/// `429`: storage is read for every well-formed token, so guessing is throttled like keys.
#[derive(Clone)]
pub struct AdminGuard(VerifyGuard);

/// The authenticated operator token, for the handlers.
#[derive(Debug, Clone)]
pub struct Operator(pub OperatorToken);

impl Operator {
    /// 403 `insufficient_scope` unless the token holds `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.0.holds(scope) {
            Ok(())
        } else {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("This operator token lacks the scope `{scope}`."),
            );
            e.required_scope = Some(scope.to_owned());
            Err(e)
        }
    }

    /// Who the call's writes are audited as, with its `Idempotency-Key`.
    pub fn call(&self, headers: &HeaderMap) -> Call {
        let key = headers
            .get(idempotency::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Call::token(&self.0.name, key)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Operator>()
            .cloned()
            .ok_or_else(invalid_token)
    }
}

fn invalid_token() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_operator_token",
        "/v1/admin needs an operator token (`latchkey operator-token create`) as a Bearer token.",
    )
}

/// Every `/v1/admin` route, behind [`operator_auth`] and then [`idempotency::layer`].
pub fn router(state: AppState) -> Router<AppState> {
    const TENANT: &str = "/v1/admin/tenants/{external_id}";
    let state_limit = state.settings.failed_auth_per_minute.max(1);
    Router::new()
        .route("/v1/admin/tenants", get(tenants::list))
        .route(
            TENANT,
            get(tenants::get).put(tenants::put).delete(tenants::delete),
        )
        .route(&format!("{TENANT}/members"), get(members::list))
        .route(
            &format!("{TENANT}/members/{{external_user_id}}"),
            put(members::put).delete(members::delete),
        )
        .route(
            &format!("{TENANT}/requirements"),
            get(gates::get_requirements).put(gates::put_requirements),
        )
        .route(&format!("{TENANT}/resources"), get(gates::list_resources))
        .route(
            &format!("{TENANT}/resources/{{type}}/{{id}}"),
            put(gates::put_resource).delete(gates::delete_resource),
        )
        .route(&format!("{TENANT}/audit-events"), get(gates::audit))
        .route_layer(from_fn_with_state(state.clone(), idempotency::layer))
        // After the idempotency layer, so outside it: see `portal`.
        .route("/v1/admin/portal-links", post(portal::mint))
        .route("/v1/admin/portal-sessions/expire", post(portal::expire))
        .route_layer(from_fn_with_state(state, operator_auth))
        .layer(Extension(AdminGuard(VerifyGuard::new(
            state_limit,
            super::verify::TRACKED_MAX,
        ))))
}

/// Authenticates the operator token (throttled per address like the service token) and hands
/// it to the handlers.
async fn operator_auth(
    State(state): State<AppState>,
    Extension(guard): Extension<AdminGuard>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = store::request::client_ip(peer, req.headers(), &state.settings.trusted_proxies);
    if let Some(secs) = guard.0.blocked(client) {
        return too_many(secs);
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| credential(v.as_bytes()))
        .map(|c| c.into_owned());
    let token = match presented {
        Some(t) => store::operator::tokens::authenticate(&state.db, &state.pepper, &t).await,
        None => Ok(None),
    };
    match token {
        Ok(Some(token)) => {
            req.extensions_mut().insert(Operator(token));
            next.run(req).await
        }
        Ok(None) => match guard.0.failed(client) {
            Some(secs) => too_many(secs),
            None => invalid_token().into_response(),
        },
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn too_many(secs: u64) -> Response {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many wrong operator tokens from this address; try again after Retry-After seconds.",
    );
    e.retry_after_secs = Some(secs);
    e.into_response()
}

/// The tenant a path names, or 404 (deleted ones too: their audit log stays readable).
pub async fn tenant(
    state: &AppState,
    external_id: &str,
) -> Result<store::operator::tenants::OperatorTenant, ApiError> {
    Ok(store::operator::tenants::by_external_id(&state.db, external_id).await?)
}

/// The tenant a write names: 404 when unknown, 409 once deleted.
pub async fn live_tenant(
    state: &AppState,
    external_id: &str,
) -> Result<store::operator::tenants::OperatorTenant, ApiError> {
    let t = tenant(state, external_id).await?;
    if t.status == latchkey_domain::operator::TenantStatus::Deleted {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "tenant_deleted",
            store::operator::tenants::TENANT_DELETED,
        ));
    }
    Ok(t)
}
