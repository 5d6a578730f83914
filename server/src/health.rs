//! Liveness, health and readiness: what an orchestrator and the load balancer ask.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use store::AppState;

/// Liveness of the process alone (no storage, no layers): for an orchestrator's restart check,
/// and the bench's bare route of this router.
pub async fn livez() -> &'static str {
    "ok"
}

/// Health: the database answers. Also says how this process hears cache invalidations
/// (`listening`, or `reconnecting` while it verifies every key from storage instead).
pub async fn healthz(State(state): State<AppState>) -> Response {
    let invalidations = state.verifier.listen_state().as_str();
    match state.db.ping().await {
        Ok(_) => health_body(StatusCode::OK, "ok", invalidations),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            health_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                invalidations,
            )
        }
    }
}

/// Readiness, for the load balancer: migrations ran (they do before the server listens), the
/// database answers and this process hears every invalidation. A replica that is not ready
/// still answers correctly (from storage); it is only slower.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let state_now = state.verifier.listen_state();
    let listening = state_now == store::verify::push::ListenState::Listening;
    match state.db.ping().await {
        Ok(_) if listening => health_body(StatusCode::OK, "ready", state_now.as_str()),
        Ok(_) => health_body(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready",
            state_now.as_str(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unavailable");
            health_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready",
                state_now.as_str(),
            )
        }
    }
}

fn health_body(status: StatusCode, database: &str, invalidations: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({
            "status": database,
            "invalidations": invalidations,
        })),
    )
        .into_response()
}
