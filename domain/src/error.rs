//! The one error type every server function returns. It crosses the wire as JSON, so it only
//! ever carries what a user may see: internal detail is logged on the server and dropped.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with one input field, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthorized,
    #[error("You don't have permission to do that.")]
    Forbidden,
    #[error("Your plan doesn't include this. Upgrade in Settings ▸ Billing.")]
    PlanRequired,
    #[error("Not found.")]
    NotFound,
    #[error("Please fix the highlighted fields.")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    /// The tenant's minting gates: no key is created or rolled while one is unmet (labels).
    #[error("Keys can be created once these are done: {}.", .0.join("; "))]
    RequirementsPending(Vec<String>),
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached our code (network, decoding). Only built by the framework.
    #[error("Could not reach the server. Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// The message for one field, if this is a validation error that names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errs) => errs
                .iter()
                .filter(|e| e.field == field)
                .map(|e| e.message.clone())
                .reduce(|a, b| format!("{a} {b}")),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden | AppError::PlanRequired => 403,
            AppError::NotFound => 404,
            AppError::Validation(_) => 422,
            AppError::Conflict(_) | AppError::RequirementsPending(_) => 409,
            AppError::RateLimited { .. } => 429,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }

    /// Logs the real cause and returns the generic error users see.
    #[cfg(feature = "storage")]
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        AppError::Internal
    }
}

#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "storage")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::internal(e)
    }
}

impl AppError {
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::PlanRequired => "plan_required",
            AppError::NotFound => "not_found",
            AppError::Validation(_) => "validation",
            AppError::Conflict(_) => "conflict",
            AppError::RequirementsPending(_) => "requirements_pending",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Internal => "internal",
            AppError::Transport(_) => "transport",
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

pub type AppResult<T> = Result<T, AppError>;
