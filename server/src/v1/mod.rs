//! The key-authenticated API (`/v1`, SPEC §5): one envelope for every answer (request id,
//! JSON errors), one authentication layer for the key-authenticated routes (verify, rate
//! limit, usage), and the handlers, each of which declares the scope it needs.

pub mod audit;
pub mod keys;
pub mod openapi;
pub mod verify;

use app::error::AppError;
use app::state::AppState;
use app::verify::usage::UsageEvent;
use app::verify::{RateInfo, Verified, VerifyError, RATE_WINDOW_SECS};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use latchkey_domain::verify::{credential, Rejection};
use serde::Serialize;
use std::net::IpAddr;
use std::time::Instant;

/// Every `/v1` route, with the key-authenticated ones behind [`key_auth`].
pub fn router(state: AppState) -> Router<AppState> {
    let keyed = Router::new()
        .route("/v1/whoami", get(keys::whoami))
        .route("/v1/keys", get(keys::list).post(keys::create))
        .route(
            "/v1/keys/{id}",
            get(keys::get).patch(keys::update).delete(keys::revoke),
        )
        .route("/v1/audit-events", get(audit::list))
        .route_layer(middleware::from_fn_with_state(state.clone(), key_auth));
    Router::new()
        .merge(keyed)
        .route("/v1/verify", post(verify::verify))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1", any(not_found))
        .route("/v1/{*rest}", any(not_found))
        .layer(middleware::from_fn_with_state(state, envelope))
}

/// This request's id, set by [`envelope`] and echoed in `X-Request-Id` and error bodies.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The verified key and the caller's address, set by [`key_auth`] for the handlers.
#[derive(Debug, Clone)]
pub struct Caller(pub Verified, pub Option<IpAddr>);

impl Caller {
    /// The endpoint's scope check: `*` or exactly `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        self.0.require_scope(scope).map_err(ApiError::from)
    }

    /// The tenant every query of this request is scoped by.
    pub fn tenant_id(&self) -> i64 {
        self.0.tenant.id
    }

    /// Who writes are audited as: `api_key:<id>`, from the caller's address.
    pub fn actor(&self) -> app::api_keys::server::Actor {
        let key = &self.0.key;
        app::api_keys::server::Actor::api_key(&key.public_id, &key.name, self.1)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Only reachable behind `key_auth`; without it there is no verified key.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::from(Rejection::InvalidApiKey))
    }
}

/// A field-level validation problem in an API answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// Every `/v1` error: `{"error": {"code", "message", "request_id", …}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub required_scope: Option<String>,
    pub fields: Vec<FieldProblem>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            required_scope: None,
            fields: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            fields: vec![FieldProblem {
                field: field.to_owned(),
                message: message.clone(),
            }],
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
        }
    }

    fn body(&self, request_id: Option<&str>) -> serde_json::Value {
        let mut error = serde_json::json!({
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        });
        if let Some(scope) = &self.required_scope {
            error["required_scope"] = scope.clone().into();
        }
        if !self.fields.is_empty() {
            error["fields"] = serde_json::to_value(&self.fields).unwrap_or_default();
        }
        serde_json::json!({ "error": error })
    }

    fn render(&self, request_id: Option<&str>, mut headers: HeaderMap) -> Response {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.remove(header::CONTENT_LENGTH);
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"latchkey\""),
            );
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        let mut res = Response::new(Body::from(self.body(request_id).to_string()));
        *res.status_mut() = self.status;
        *res.headers_mut() = headers;
        res
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::FORBIDDEN);
        let mut e = ApiError::new(status, r.code(), r.message());
        match r {
            Rejection::InsufficientScope(scope) => e.required_scope = Some(scope),
            Rejection::RateLimited { retry_after_secs } => {
                e.retry_after_secs = Some(retry_after_secs)
            }
            _ => {}
        }
        e
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(fields) => Self {
                fields: fields
                    .into_iter()
                    .map(|f| FieldProblem {
                        field: f.field,
                        message: f.message,
                    })
                    .collect(),
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Some fields are invalid; see `fields`.",
                )
            },
            AppError::NotFound => {
                Self::new(StatusCode::NOT_FOUND, "not_found", "No such resource.")
            }
            AppError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            AppError::PlanRequired => Rejection::PlanRequired.into(),
            AppError::RateLimited { retry_after_secs } => {
                Rejection::RateLimited { retry_after_secs }.into()
            }
            AppError::Unauthorized => Rejection::InvalidApiKey.into(),
            AppError::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This key may not do that.",
            ),
            // The cause was logged where it happened; callers get no detail.
            AppError::Internal | AppError::Transport(_) => Self::internal(),
        }
    }
}

impl ApiError {
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side. Please retry.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Key verification is temporarily unavailable. Please retry.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered without a request id here; `envelope` re-renders it with one.
        let mut res = self.render(None, HeaderMap::new());
        res.extensions_mut().insert(self);
        res
    }
}

/// JSON bodies whose rejections are answered in the API's own error format.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The request body is not valid: {}", e.body_text()),
            )),
        }
    }
}

/// Query strings whose rejections are answered in the API's own error format.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    axum::extract::Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The query string is not valid: {}", e.body_text()),
            )),
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such endpoint. See /v1/openapi.json.",
    )
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Around every `/v1` route: a request id, and errors rendered as the JSON envelope carrying it.
async fn envelope(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = state.verifier.request_ids.next();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        let (parts, _) = res.into_parts();
        res = err.render(Some(&id), parts.headers);
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
    res
}

/// Around the key-authenticated routes: verify the key (format, digest, cache/storage, rules,
/// rate limit), hand it to the handler, add the rate-limit headers, and queue the usage event.
async fn key_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Unknown (in-process) callers get `None`, which only an empty allowlist accepts.
    let client = app::request::peer_client_ip(
        req.extensions(),
        req.headers(),
        &state.settings.trusted_proxies,
    );
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| credential(v.as_bytes()))
        .map(|c| c.into_owned());
    let outcome = match presented {
        Some(key) => state.verifier.verify(&key, client).await,
        None => Err(VerifyError::from(Rejection::InvalidApiKey)),
    };
    // The request-log labels are only taken for identified keys: junk costs no allocations.
    let (mut res, logged, rate) = match outcome {
        Ok(verified) => {
            let logged = Some((verified.key.clone(), log_labels(&req)));
            let rate = verified.rate;
            req.extensions_mut().insert(Caller(verified, client));
            (next.run(req).await, logged, Some(rate))
        }
        Err(VerifyError::Refused(refusal)) => (
            ApiError::from(refusal.rejection).into_response(),
            refusal.key.map(|k| (k, log_labels(&req))),
            refusal.rate,
        ),
        Err(VerifyError::Unavailable) => (ApiError::unavailable().into_response(), None, None),
    };
    if let Some(rate) = rate {
        rate_headers(res.headers_mut(), rate);
    }
    if let Some((key, (method, path, request_id))) = logged {
        state.verifier.usage.record(UsageEvent {
            tenant_id: key.tenant_id,
            key_row_id: key.row_id,
            at_ms: app::db::now_ms(),
            method,
            path,
            status: res.status().as_u16(),
            client_ip: client,
            latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            request_id,
        });
    }
    res
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
        req.uri().path().to_owned(),
        request_id,
    )
}

/// `RateLimit-Policy` / `RateLimit` (IETF httpapi draft) and the older `X-RateLimit-*`.
pub fn rate_headers(headers: &mut HeaderMap, rate: RateInfo) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set(
        "ratelimit-policy",
        format!("\"per-key\";q={};w={RATE_WINDOW_SECS}", rate.limit),
    );
    set(
        "ratelimit",
        format!("\"per-key\";r={};t={}", rate.remaining, rate.reset_secs),
    );
    set("x-ratelimit-limit", rate.limit.to_string());
    set("x-ratelimit-remaining", rate.remaining.to_string());
    set("x-ratelimit-reset", rate.reset_secs.to_string());
}
