//! `POST /v1/usage`: requests a host answered after verifying their keys in process (the
//! `latchkey-client` crate batches them), so each key's last use, chart and request log include
//! them. Service token as Bearer, like `/v1/verify`.

use super::error::ApiError;
use super::verify::VerifyGuard;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use store::verify::usage::posted::{self, PostedEvent};
use store::AppState;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageRequest {
    /// At most 1000 events (and 64 KiB).
    pub events: Vec<UsageItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageItem {
    /// The key's id (`key_…`), from its verdict.
    pub key_id: String,
    /// The status the host answered with.
    pub status: u16,
    /// The host's request method; default `HOST`.
    pub method: Option<String>,
    /// The host's request path (its first 256 bytes are kept).
    pub path: String,
    /// When, in milliseconds since the Unix epoch; dated at most an hour back.
    pub at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageResponse {
    pub accepted: usize,
    /// Events naming no existing key, skipped.
    pub unknown: usize,
}

/// Records usage of keys a host verified itself (service token as Bearer).
#[utoipa::path(
    post,
    path = "/v1/usage",
    tag = "verify",
    request_body = UsageRequest,
    security(("service_token" = [])),
    responses(
        (status = 202, description = "Queued", body = UsageResponse),
        (status = 400, description = "invalid_request: not a usage batch", body = super::error::ErrorBody),
        (status = 401, description = "invalid_service_token", body = super::error::ErrorBody),
        (status = 413, description = "The body is over 64 KiB"),
        (status = 422, description = "validation_failed: more than 1000 events", body = super::error::ErrorBody),
        (status = 429, description = "rate_limited: too many wrong service tokens from this address", body = super::error::ErrorBody),
        (status = 503, description = "unavailable: storage cannot be read", body = super::error::ErrorBody),
    )
)]
pub async fn post(
    State(state): State<AppState>,
    Extension(guard): Extension<VerifyGuard>,
    Extension(request_id): Extension<super::RequestId>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<UsageResponse>), ApiError> {
    guard.admit(&state, connect, &headers, "POST /v1/usage")?;
    let body: UsageRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The request body is not valid: {e}"),
        )
    })?;
    if body.events.len() > posted::MAX_EVENTS {
        return Err(ApiError::validation(
            "events",
            format!("Send at most {} events at a time.", posted::MAX_EVENTS),
        ));
    }
    let events = body
        .events
        .into_iter()
        .map(|e| PostedEvent {
            key_id: e.key_id,
            status: e.status,
            method: e.method.unwrap_or_else(|| "HOST".to_owned()),
            path: e.path,
            at_ms: e.at_ms,
            request_id: request_id.0.clone(),
        })
        .collect();
    let done = posted::record(&state.db, &state.verifier.usage, events)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "recording posted usage failed");
            ApiError::unavailable()
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(UsageResponse {
            accepted: done.accepted,
            unknown: done.unknown,
        }),
    ))
}
