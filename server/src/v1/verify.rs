//! `POST /v1/verify`: the host product's services ask whether a key may do something. They
//! authenticate with the service token from config; the answer is always 200 with a verdict.

use super::keys::{KeySummary, TenantSummary};
use super::{ApiError, RequestId};
use app::state::AppState;
use app::verify::usage::UsageEvent;
use app::verify::{VerifyError, RATE_WINDOW_SECS};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use latchkey_domain::verify::{credential, Rejection};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::time::Instant;
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

#[derive(Debug, Serialize, ToSchema)]
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
    pub rate_limit: Option<super::keys::RateLimitSummary>,
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
    // Constant time: fold every byte's difference.
    got.iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
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
        (status = 401, description = "invalid_service_token", body = super::openapi::ErrorBody),
        (status = 422, description = "validation_failed (ip)", body = super::openapi::ErrorBody),
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
    let (answer, key) = match outcome {
        Ok(v) => {
            let verdict = match scope {
                Some(s) => v.require_scope(s),
                None => Ok(()),
            };
            let mut answer = VerifyResponse {
                valid: verdict.is_ok(),
                code: None,
                message: None,
                required_scope: None,
                retry_after_secs: None,
                key: Some(KeySummary::of(&v.key)),
                tenant: Some(TenantSummary::of(&v.tenant)),
                rate_limit: Some(super::keys::RateLimitSummary {
                    limit: v.rate.limit,
                    remaining: v.rate.remaining,
                    window_secs: RATE_WINDOW_SECS,
                }),
            };
            if let Err(r) = verdict {
                refuse(&mut answer, &r);
            }
            (answer, Some(v.key))
        }
        Err(VerifyError::Refused(refusal)) => {
            let mut answer = VerifyResponse {
                valid: false,
                code: None,
                message: None,
                required_scope: None,
                retry_after_secs: None,
                key: refusal.key.as_deref().map(KeySummary::of),
                tenant: None,
                rate_limit: None,
            };
            refuse(&mut answer, &refusal.rejection);
            (answer, refusal.key)
        }
        Err(VerifyError::Unavailable) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Key verification is temporarily unavailable. Please retry.",
            ))
        }
    };
    if let Some(key) = key {
        let status = match (&answer.code, answer.valid) {
            (_, true) => 200,
            (Some(code), false) => status_of(code),
            (None, false) => 403,
        };
        state.verifier.usage.record(UsageEvent {
            tenant_id: key.tenant_id,
            key_row_id: key.row_id,
            at_ms: app::db::now_ms(),
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

fn refuse(answer: &mut VerifyResponse, r: &Rejection) {
    answer.valid = false;
    answer.code = Some(r.code().to_owned());
    answer.message = Some(r.message());
    match r {
        Rejection::InsufficientScope(s) => answer.required_scope = Some(s.clone()),
        Rejection::RateLimited { retry_after_secs } => {
            answer.retry_after_secs = Some(*retry_after_secs)
        }
        _ => {}
    }
}

/// The status `/v1` would have answered with, for the request log.
fn status_of(code: &str) -> u16 {
    match code {
        "invalid_api_key" | "key_revoked" | "key_expired" => 401,
        "rate_limited" => 429,
        _ => 403,
    }
}
