//! `POST /v1/verify`: the host product's services ask whether a key may do something. They
//! authenticate with the service token from config; the answer is always 200 with a verdict.

use super::error::{ApiError, ErrorBody};
use super::extract::RequestId;
use super::schemas::{KeySummary, RateLimitSummary, TenantSummary};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use latchkey_domain::keys::constant_time_eq;
use latchkey_domain::verify::{credential, Rejection};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::time::Instant;
use store::verify::usage::UsageEvent;
use store::verify::{VerifyError, RATE_WINDOW_SECS};
use store::AppState;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyRequest {
    /// The key the host product's caller presented.
    pub key: String,
    /// The scope the call needs; omitted: any valid key passes.
    pub scope: Option<String>,
    /// The caller's address, checked against the key's allowlist. Required when it has one.
    pub ip: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub valid: bool,
    /// Why not, when not valid: the same codes `/v1` answers with.
    pub code: Option<String>,
    pub message: Option<String>,
    /// Set when the scope was missing.
    pub required_scope: Option<String>,
    /// Set when rate limited.
    pub retry_after_secs: Option<u64>,
    /// Set once the key was found (also for revoked or expired ones).
    pub key: Option<KeySummary>,
    pub tenant: Option<TenantSummary>,
    pub rate_limit: Option<RateLimitSummary>,
}

fn service_token_ok(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(expected) = state.settings.service_token_sha256 else {
        return false;
    };
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| credential(v.as_bytes()))
    else {
        return false;
    };
    let got: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    constant_time_eq(&got, &expected)
}

/// Verifies a key on behalf of a host service (service token as Bearer).
#[utoipa::path(
    post,
    path = "/v1/verify",
    tag = "verify",
    request_body = VerifyRequest,
    security(("service_token" = [])),
    responses(
        (status = 200, description = "The verdict: valid, or not with the reason code", body = VerifyResponse),
        (status = 401, description = "invalid_service_token", body = ErrorBody),
        (status = 422, description = "validation_failed (ip)", body = ErrorBody),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<VerifyResponse>, ApiError> {
    let started = Instant::now();
    // The token before the body: strangers learn nothing, not even what a valid body is.
    if !service_token_ok(&state, &headers) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_service_token",
            "POST /v1/verify needs the service token (LATCHKEY_SERVICE_TOKEN) as a Bearer token.",
        ));
    }
    let body: VerifyRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The request body is not valid: {e}"),
        )
    })?;
    let ip = match body.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| ApiError::validation("ip", "Use an IPv4 or IPv6 address."))?,
        ),
    };
    let outcome = state.verifier.verify(body.key.trim(), ip).await;
    let scope = body
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (answer, key, refusal) = match outcome {
        Ok(v) => {
            let verdict = scope.map_or(Ok(()), |s| v.require_scope(s));
            let answer = VerifyResponse {
                valid: true,
                key: Some(KeySummary::of(&v.key)),
                tenant: Some(TenantSummary::of(&v.tenant)),
                rate_limit: Some(RateLimitSummary {
                    limit: v.rate.limit,
                    remaining: v.rate.remaining,
                    window_secs: RATE_WINDOW_SECS,
                }),
                ..VerifyResponse::default()
            };
            (answer, Some(v.key), verdict.err())
        }
        Err(VerifyError::Refused(refusal)) => {
            let answer = VerifyResponse {
                key: refusal.key.as_deref().map(KeySummary::of),
                ..VerifyResponse::default()
            };
            (answer, refusal.key, Some(refusal.rejection))
        }
        Err(VerifyError::Unavailable) => return Err(ApiError::unavailable()),
    };
    // The request log records the status `/v1` would have answered with.
    let status = refusal.as_ref().map_or(200, Rejection::status);
    let answer = match refusal {
        Some(r) => refused(answer, r),
        None => answer,
    };
    if let Some(key) = key {
        state.verifier.usage.record(UsageEvent {
            tenant_id: key.tenant_id,
            key_row_id: key.row_id,
            at_ms: store::db::now_ms(),
            method: "VERIFY".to_owned(),
            path: scope.unwrap_or("(any scope)").to_owned(),
            status,
            client_ip: ip,
            latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            request_id: request_id.0,
        });
    }
    Ok(Json(answer))
}

/// The answer for a refused key: not valid, with the code `/v1` would have answered.
fn refused(answer: VerifyResponse, r: Rejection) -> VerifyResponse {
    let (required_scope, retry_after_secs) = match &r {
        Rejection::InsufficientScope(s) => (Some(s.clone()), None),
        Rejection::RateLimited { retry_after_secs } => (None, Some(*retry_after_secs)),
        _ => (None, None),
    };
    VerifyResponse {
        valid: false,
        code: Some(r.code().to_owned()),
        message: Some(r.message()),
        required_scope,
        retry_after_secs,
        ..answer
    }
}
