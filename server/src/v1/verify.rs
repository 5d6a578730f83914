//! `POST /v1/verify`: the host product's services ask whether a key may do something. They
//! authenticate with the service token from config; the answer is always 200 with a verdict.

use super::error::{ApiError, ErrorBody};
use super::extract::RequestId;
use super::schemas::{ip_address, KeySummary, RateLimitSummary, TenantSummary};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use latchkey_domain::keys::constant_time_eq;
use latchkey_domain::verify::{credential, Rejection};
use latchkey_domain::views::ResourceRef;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use store::throttle::{client_key, FailureGate, BLOCK_SECS};
use store::verify::usage::UsageEvent;
use store::verify::{VerifyError, RATE_WINDOW_SECS};
use store::AppState;
use utoipa::openapi::schema::Schema;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyRequest {
    /// The key the host product's caller presented.
    pub key: String,
    /// The scope the call needs; omitted: any valid key passes.
    pub scope: Option<String>,
    #[schema(schema_with = caller_ip)]
    pub ip: Option<String>,
    /// The resource the call acts on. A key limited to resources passes only one it covers,
    /// and refuses a call that names none (`resource_required`).
    pub resource: Option<ResourceRef>,
}

fn caller_ip() -> Schema {
    ip_address(
        "The caller's address (IPv4 or IPv6), checked against the key's allowlist. Required when \
         it has one.",
    )
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

/// Failed service-token attempts one client address may make a minute before `429`.
pub const FAILURES_PER_MINUTE: u32 = 10;
/// The most addresses the guard tracks: past it, stale ones are pruned (in a flood of fresh
/// ones, all of them), so a flood from many addresses cannot grow memory without bound.
pub const TRACKED_MAX: usize = 10_000;

/// Throttles failed service-token attempts on `POST /v1/verify` per client address (IPv6 by
/// /64, which one host can rotate through). An address over the limit is refused outright until
/// it cools down, right token or not: otherwise a guesser would still see which guess is right.
#[derive(Clone)]
pub struct VerifyGuard(Arc<FailureGate>);

impl Default for VerifyGuard {
    fn default() -> Self {
        Self::new(FAILURES_PER_MINUTE, TRACKED_MAX)
    }
}

impl VerifyGuard {
    pub fn new(failures_per_minute: u32, bound: usize) -> Self {
        Self(Arc::new(FailureGate::new(failures_per_minute, bound)))
    }

    /// Seconds until `client` may try again, while it is over the limit.
    pub fn blocked(&self, client: IpAddr) -> Option<u64> {
        self.0
            .is_blocked(client_key(Some(client)))
            .then_some(BLOCK_SECS)
    }

    /// Counts a failed attempt from `client`; seconds to wait when it is over the limit.
    pub fn failed(&self, client: IpAddr) -> Option<u64> {
        self.0
            .failed(client_key(Some(client)))
            .then_some(BLOCK_SECS)
    }

    /// How many addresses the guard holds state for (the larger of its two maps).
    pub fn tracked(&self) -> usize {
        let (budgets, blocked) = self.0.sizes();
        budgets.max(usize::try_from(blocked).unwrap_or(usize::MAX))
    }
}

fn too_many_failures(retry_after_secs: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many wrong service tokens from this address; try again after Retry-After seconds.",
    );
    e.retry_after_secs = Some(retry_after_secs);
    e
}

impl VerifyGuard {
    /// The service-token gate of `/v1/verify`, `/v1/changes` and `/v1/usage`, per client
    /// address as audit and sign-in see it (unknown: 0.0.0.0): a blocked address waits, and a
    /// wrong token counts against it. The token is checked before any body is read, so
    /// strangers learn nothing, not even what a valid body is.
    pub fn admit(
        &self,
        state: &AppState,
        connect: Option<Extension<ConnectInfo<SocketAddr>>>,
        headers: &HeaderMap,
        what: &str,
    ) -> Result<(), ApiError> {
        let client = store::request::client_ip(
            connect.map(|Extension(ConnectInfo(addr))| addr.ip()),
            headers,
            &state.settings.trusted_proxies,
        );
        if let Some(secs) = self.blocked(client) {
            return Err(too_many_failures(secs));
        }
        if !service_token_ok(state, headers) {
            if let Some(secs) = self.failed(client) {
                return Err(too_many_failures(secs));
            }
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_service_token",
                format!(
                    "{what} needs the service token (LATCHKEY_SERVICE_TOKEN) as a Bearer token."
                ),
            ));
        }
        Ok(())
    }
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
        (status = 400, description = "invalid_request: the body is not a JSON verify request", body = ErrorBody),
        (status = 401, description = "invalid_service_token: missing or wrong service token (checked before the body)", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (answered before the API reads it)"),
        (status = 422, description = "validation_failed: `ip` is not an address", body = ErrorBody),
        (status = 429, description = "rate_limited: too many wrong service tokens from this address; see Retry-After", body = ErrorBody),
        (status = 503, description = "unavailable: key verification cannot reach storage; retry", body = ErrorBody),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    Extension(guard): Extension<VerifyGuard>,
    Extension(request_id): Extension<RequestId>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<VerifyResponse>, ApiError> {
    let started = Instant::now();
    guard.admit(&state, connect, &headers, "POST /v1/verify")?;
    let body: VerifyRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The request body is not valid: {e}"),
        )
    })?;
    // An empty or padded `ip` is refused like any other non-address (the document says an
    // address); "no address" is said by leaving the field out.
    let ip = match body.ip.as_deref() {
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
            let asked = body
                .resource
                .as_ref()
                .map(|r| (r.kind.as_str(), r.id.as_str()));
            let verdict = scope
                .map_or(Ok(()), |s| v.require_scope(s))
                .and_then(|()| v.require_resource(asked));
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
            at_ms: state.db.clock.now_ms(),
            method: "VERIFY".to_owned(),
            path: store::verify::usage::clipped(scope.unwrap_or("(any scope)")),
            status,
            client_ip: ip,
            latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            request_id: request_id.0,
            refused: status >= 400,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn the_eleventh_failure_in_a_minute_is_refused_and_blocks_the_address() {
        let guard = VerifyGuard::default();
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        for i in 0..FAILURES_PER_MINUTE {
            assert_eq!(guard.blocked(ip), None, "attempt {i}");
            assert_eq!(guard.failed(ip), None, "attempt {i}");
        }
        let wait = guard.failed(ip).expect("over the limit");
        assert!((1..=61).contains(&wait), "{wait}");
        assert!(guard.blocked(ip).is_some(), "even a right token waits");
        // Other addresses are not affected; an IPv6 host counts by its /64.
        assert_eq!(guard.blocked("203.0.113.10".parse().expect("ip")), None);
        let v6: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        for _ in 0..FAILURES_PER_MINUTE {
            assert_eq!(guard.failed(v6), None);
        }
        assert!(guard
            .failed("2001:db8:1:2:ffff::9".parse().expect("ip"))
            .is_some());
        assert!(guard
            .blocked("2001:db8:1:2::42".parse().expect("ip"))
            .is_some());
        assert_eq!(guard.blocked("2001:db8:1:3::1".parse().expect("ip")), None);
    }

    #[test]
    fn a_flood_of_fresh_addresses_stays_within_the_bound() {
        let bound = TRACKED_MAX;
        let guard = VerifyGuard::new(FAILURES_PER_MINUTE, bound);
        let blocked_first: IpAddr = "198.51.100.1".parse().expect("ip");
        for _ in 0..=FAILURES_PER_MINUTE {
            guard.failed(blocked_first);
        }
        for i in 0..20_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(guard.failed(ip), None);
            assert!(guard.tracked() <= bound, "{} after {i}", guard.tracked());
        }
        // IPv6 /64s too (each a distinct key).
        for i in 0..20_000u128 {
            let ip = IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | (i << 64)));
            guard.failed(ip);
        }
        assert!(guard.tracked() <= bound, "{}", guard.tracked());
        // The address that was over the limit before the flood is still refused.
        assert!(guard.blocked(blocked_first).is_some());
    }
}
