//! The layers around `/v1`: the envelope (request id, JSON errors) around every route, and key
//! authentication (verify, rate limit, usage) around the key-authenticated ones.

use super::error::ApiError;
use super::extract::{Caller, RequestId};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_domain::verify::{credential, Rejection};
use std::net::SocketAddr;
use std::time::Instant;
use store::verify::usage::UsageEvent;
use store::verify::{RateInfo, VerifyError, RATE_WINDOW_SECS};
use store::AppState;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Around every `/v1` route: a request id, errors rendered as the JSON envelope carrying it,
/// and the API's headers.
pub async fn envelope(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = state.verifier.request_ids.next();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        let (parts, _) = res.into_parts();
        res = err.render(Some(&id), parts.headers);
    } else if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The body limit (or a `Bytes` body past it) answers in plain text.
        let (parts, _) = res.into_parts();
        res = ApiError::payload_too_large().render(Some(&id), parts.headers);
    } else if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        let (parts, _) = res.into_parts();
        let err = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This endpoint does not answer that method. See /v1/openapi.json.",
        );
        res = err.render(Some(&id), parts.headers);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID, v);
    }
    crate::headers::api(res.headers_mut(), !state.settings.insecure_cookies);
    res
}

/// Around the key-authenticated routes: verify the key (format, digest, cache/storage, rules,
/// rate limit), hand it to the handler, add the rate-limit headers, and queue the usage event.
pub async fn key_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Unknown (in-process) callers get `None`, which only an empty allowlist accepts.
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client =
        store::request::peer_client_ip(peer, req.headers(), &state.settings.trusted_proxies);
    let outcome = verify_presented(&state, req.headers(), client).await;
    let code = match &outcome {
        Ok(_) => "valid",
        Err(VerifyError::Refused(r)) => r.rejection.code(),
        Err(VerifyError::Unavailable) => "unavailable",
    };
    metrics::counter!("latchkey_verifications_total", "outcome" => code).increment(1);
    // The request-log labels are only taken for identified keys: junk costs no allocations.
    let (mut res, logged, rate) = match outcome {
        Ok(verified) => {
            let logged = Some((verified.key.clone(), log_labels(&req), false));
            let rate = verified.rate;
            req.extensions_mut().insert(Caller(verified, client));
            (next.run(req).await, logged, Some(rate))
        }
        Err(VerifyError::Refused(refusal)) => (
            ApiError::from(refusal.rejection).into_response(),
            refusal.key.map(|k| (k, log_labels(&req), true)),
            refusal.rate,
        ),
        Err(VerifyError::Unavailable) => (ApiError::unavailable().into_response(), None, None),
    };
    if let Some(rate) = rate {
        rate_headers(res.headers_mut(), rate);
    }
    let elapsed = started.elapsed();
    metrics::histogram!("latchkey_request_duration_seconds", "surface" => "v1")
        .record(elapsed.as_secs_f64());
    if let Some((key, (method, path, request_id), refused)) = logged {
        state.verifier.usage.record(UsageEvent {
            tenant_id: key.tenant_id,
            key_row_id: key.row_id,
            at_ms: state.db.clock.now_ms(),
            method,
            path,
            status: res.status().as_u16(),
            client_ip: client,
            latency_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            request_id,
            refused,
        });
    }
    res
}

/// Verifies the key in `Authorization` (Bearer, or Basic with the key as user) for a caller at
/// `client`; no key at all is `invalid_api_key`, like any unknown one.
pub async fn verify_presented(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
) -> Result<store::verify::Verified, VerifyError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| credential(v.as_bytes()))
        .map(|c| c.into_owned());
    match presented {
        Some(key) => state.verifier.verify(&key, client).await,
        None => Err(VerifyError::from(Rejection::InvalidApiKey)),
    }
}

/// Method, path and request id, as the request log records them.
fn log_labels(req: &Request) -> (String, String, String) {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    (
        req.method().as_str().to_owned(),
        // Only the head of a path is kept: it may be up to 64 KiB of an attacker's choosing.
        store::verify::usage::clipped(req.uri().path()),
        request_id,
    )
}

/// `RateLimit-Policy` / `RateLimit` (IETF httpapi draft) and the older `X-RateLimit-*`.
pub fn rate_headers(headers: &mut HeaderMap, rate: RateInfo) {
    const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
    const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
    const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
    const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
    const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
    let policy = format!("\"per-key\";q={};w={RATE_WINDOW_SECS}", rate.limit);
    if let Ok(v) = HeaderValue::from_str(&policy) {
        headers.insert(POLICY, v);
    }
    let now = format!("\"per-key\";r={};t={}", rate.remaining, rate.reset_secs);
    if let Ok(v) = HeaderValue::from_str(&now) {
        headers.insert(RATELIMIT, v);
    }
    // Numbers need no validation (and no intermediate string).
    headers.insert(LIMIT, HeaderValue::from(rate.limit));
    headers.insert(REMAINING, HeaderValue::from(rate.remaining));
    headers.insert(RESET, HeaderValue::from(rate.reset_secs));
}
