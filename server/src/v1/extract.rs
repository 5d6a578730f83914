//! What handlers extract: the request id, the verified caller, and JSON bodies, query strings
//! and path segments whose rejections are answered in the API's own error format.

use super::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use latchkey_domain::verify::Rejection;
use std::net::IpAddr;
use store::audit::Actor;
use store::verify::Verified;

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
    pub fn actor(&self) -> Actor {
        let key = &self.0.key;
        Actor::api_key(&key.public_id, &key.name, self.1)
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
            // A body streamed past the limit (no length declared up front).
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::payload_too_large())
            }
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

/// Path parameters whose rejections (a segment that is not UTF-8) are answered in the API's own
/// error format, not as axum's plain text.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("The path is not valid: {}", e.body_text()),
            )),
        }
    }
}
