//! `/v1/authz`: forward-auth for gateways (nginx `auth_request`, Traefik `forwardAuth`, Envoy
//! `ext_authz`). The original request's key (`Authorization`), method and path
//! (`X-Forwarded-Method`, `X-Forwarded-Uri`) are judged by the same verifier as `/v1`, from this
//! replica's change-fed cache; the scope comes from the operator's `--authz-rule`s, else from a
//! gateway-set `X-Latchkey-Scope`, else the request is refused. See `docs/forward-auth.md`.

use super::error::ApiError;
use super::middleware::{rate_headers, verify_presented};
use super::RequestId;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_domain::authz::{required, Required};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Instant;
use store::verify::usage::{clipped, UsageEvent};
use store::verify::{Verified, VerifyError};
use store::AppState;

const KEY_ID: HeaderName = HeaderName::from_static("x-latchkey-key-id");
const TENANT: HeaderName = HeaderName::from_static("x-latchkey-tenant");
const SCOPES: HeaderName = HeaderName::from_static("x-latchkey-scopes");
const MODE: HeaderName = HeaderName::from_static("x-latchkey-mode");

#[derive(Debug, Default, Deserialize)]
pub struct AuthzQuery {
    /// `403`: answer a rate-limited key 403 instead of 429 (nginx `auth_request` takes any
    /// other status than 2xx, 401 and 403 for an error).
    pub limit_status: Option<u16>,
}

/// Forward-auth for a gateway: 200 with the key's identity for the upstream, or the `/v1`
/// refusal (401, 403, 429) with its envelope.
#[utoipa::path(
    get,
    path = "/v1/authz",
    tag = "verify",
    params(
        ("limit_status" = Option<u16>, Query, description = "403: answer rate-limited keys 403 (nginx)"),
        ("X-Forwarded-Method" = Option<String>, Header, description = "The original request's method"),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "The original request's path and query"),
        ("X-Latchkey-Scope" = Option<String>, Header, description = "The scope needed, when no --authz-rule matches"),
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Allowed: X-Latchkey-Key-Id, X-Latchkey-Tenant, X-Latchkey-Scopes, X-Latchkey-Mode and the RateLimit headers"),
        (status = 401, description = "invalid_api_key, key_revoked, key_disabled, key_expired", body = super::error::ErrorBody),
        (status = 403, description = "insufficient_scope, ip_not_allowed, tenant_suspended, plan_required, no_authz_rule (and rate_limited with limit_status=403)", body = super::error::ErrorBody),
        (status = 429, description = "rate_limited; see Retry-After", body = super::error::ErrorBody),
        (status = 503, description = "unavailable: storage cannot be read", body = super::error::ErrorBody),
    )
)]
pub async fn authz(state: State<AppState>, query: Query<AuthzQuery>, req: Request) -> Response {
    judge(state, query, None, req).await
}

/// `/v1/authz/{*rest}`: Envoy's HTTP `ext_authz` appends the original path to its prefix.
pub async fn authz_suffixed(
    state: State<AppState>,
    query: Query<AuthzQuery>,
    Path(rest): Path<String>,
    req: Request,
) -> Response {
    judge(state, query, Some(rest), req).await
}

async fn judge(
    State(state): State<AppState>,
    Query(query): Query<AuthzQuery>,
    suffix: Option<String>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let headers = req.headers();
    let (method, uri) = forwarded(headers, req.method().as_str(), suffix.as_deref());
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = store::request::peer_client_ip(peer, headers, &state.settings.trusted_proxies);
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let outcome = verify_presented(&state, headers, client).await;
    let asked = headers
        .get("x-latchkey-scope")
        .and_then(|v| v.to_str().ok());
    let need = required(&state.settings.gateway.authz_rules, &method, &uri, asked);
    let (mut res, key, rate) = match outcome {
        Ok(v) => {
            let res = match allowed(&v, &need) {
                Ok(()) => identity(&v),
                Err(e) => e.into_response(),
            };
            (res, Some(v.key), Some(v.rate))
        }
        Err(VerifyError::Refused(r)) => {
            (ApiError::from(r.rejection).into_response(), r.key, r.rate)
        }
        Err(VerifyError::Unavailable) => (ApiError::unavailable().into_response(), None, None),
    };
    if let Some(rate) = rate {
        rate_headers(res.headers_mut(), rate);
    }
    let status = res.status();
    if status == StatusCode::TOO_MANY_REQUESTS && query.limit_status == Some(403) {
        if let Some(e) = res.extensions_mut().get_mut::<ApiError>() {
            e.status = StatusCode::FORBIDDEN;
        }
        *res.status_mut() = StatusCode::FORBIDDEN;
    }
    let outcome = res
        .extensions()
        .get::<ApiError>()
        .map_or("valid", |e| e.code);
    metrics::counter!("latchkey_authz_total", "outcome" => outcome).increment(1);
    if let Some(key) = key {
        state.verifier.usage.record(UsageEvent {
            tenant_id: key.tenant_id,
            key_row_id: key.row_id,
            at_ms: state.db.clock.now_ms(),
            method: clipped(&method),
            path: clipped(uri.split('?').next().unwrap_or("")),
            status: status.as_u16(),
            client_ip: client,
            latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            request_id,
            refused: status.as_u16() >= 400,
        });
    }
    res
}

/// The original request's method and path: the gateway's headers, else (Envoy) this request's
/// own method and the path after `/v1/authz`.
fn forwarded(headers: &HeaderMap, own_method: &str, suffix: Option<&str>) -> (String, String) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let method = header("x-forwarded-method")
        .unwrap_or(own_method)
        .to_ascii_uppercase();
    let uri = header("x-forwarded-uri")
        .or_else(|| header("x-original-uri"))
        .map(str::to_owned)
        .or_else(|| suffix.map(|s| format!("/{s}")))
        .unwrap_or_else(|| "/".to_owned());
    (method, uri)
}

fn allowed(v: &Verified, need: &Required<'_>) -> Result<(), ApiError> {
    match need {
        Required::Rule("") => Ok(()),
        Required::Rule(scope) | Required::Header(scope) => {
            v.require_scope(scope).map_err(ApiError::from)
        }
        Required::Nothing => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "no_authz_rule",
            "No --authz-rule covers this method and path, and the gateway named no scope \
             (X-Latchkey-Scope).",
        )),
    }
}

/// 200 with who the key is, for the gateway to copy upstream.
fn identity(v: &Verified) -> Response {
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    let mut put = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(KEY_ID, &v.key.public_id);
    put(TENANT, &v.tenant.public_id);
    put(SCOPES, &v.key.scopes.join(","));
    put(MODE, v.key.mode.as_str());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_request_comes_from_the_gateways_headers_or_the_suffix() {
        let mut h = HeaderMap::new();
        assert_eq!(forwarded(&h, "GET", None), ("GET".into(), "/".into()));
        assert_eq!(
            forwarded(&h, "delete", Some("payments/4")),
            ("DELETE".into(), "/payments/4".into())
        );
        h.insert("x-original-uri", HeaderValue::from_static("/orig?x=1"));
        assert_eq!(forwarded(&h, "GET", Some("p")).1, "/orig?x=1");
        h.insert("x-forwarded-uri", HeaderValue::from_static("/payments/1"));
        h.insert("x-forwarded-method", HeaderValue::from_static("post"));
        assert_eq!(
            forwarded(&h, "GET", Some("p")),
            ("POST".into(), "/payments/1".into())
        );
    }
}
