//! Every `/v1` error: `{"error": {"code", "message", "request_id", …}}`, from the verifier's
//! refusals and from `AppError`, with its OpenAPI schema.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_domain::error::AppError;
use latchkey_domain::verify::Rejection;
use serde::Serialize;
use utoipa::ToSchema;

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

    pub(super) fn render(&self, request_id: Option<&str>, mut headers: HeaderMap) -> Response {
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
            e @ AppError::RequirementsPending(_) => {
                Self::new(StatusCode::CONFLICT, "requirements_pending", e.to_string())
            }
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

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "The request body is over {} KiB.",
                crate::http::BODY_LIMIT / 1024
            ),
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

/// The error envelope every non-2xx `/v1` answer carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid_api_key`, `key_revoked`, `key_disabled`, `key_expired`, `ip_not_allowed`,
    /// `insufficient_scope`, `plan_required`, `rate_limited`, `validation_failed`, `not_found`,
    /// `payload_too_large`.
    pub code: String,
    pub message: String,
    /// Also in the `X-Request-Id` header.
    pub request_id: String,
    /// For `insufficient_scope`: the scope the request needed.
    pub required_scope: Option<String>,
    /// For `validation_failed`: one entry per bad field.
    pub fields: Option<Vec<FieldProblem>>,
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such endpoint. See /v1/openapi.json.",
    )
}
