//! The key-authenticated API (`/v1`, SPEC §5). This file is only the router; the parts live
//! beside it: `error` (the JSON error envelope), `extract` (request id, caller, JSON/query
//! extractors), `middleware` (envelope, key authentication, rate-limit headers), `paging`,
//! `schemas` (shared response types), the handlers (`keys`, `roll`, `audit`, `verify`) and
//! `openapi`.

pub mod admin;
pub mod audit;
pub mod authz;
pub mod changes;
pub mod error;
pub mod extract;
pub mod keys;
pub mod leaks;
pub mod middleware;
pub mod openapi;
pub mod paging;
pub mod rights;
pub mod roll;
pub mod schemas;
pub mod usage;
pub mod verify;

use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use axum::Router;
use store::AppState;
use tower_http::limit::RequestBodyLimitLayer;

pub use error::ApiError;
pub use extract::{ApiJson, ApiQuery, Caller, RequestId};

/// Every `/v1` route, with the key-authenticated ones behind [`key_auth`].
pub fn router(state: AppState) -> Router<AppState> {
    let keyed = Router::new()
        .route("/v1/whoami", get(keys::whoami))
        .route("/v1/keys", get(keys::list).post(keys::create))
        .route(
            "/v1/keys/{id}",
            get(keys::get).patch(keys::update).delete(keys::revoke),
        )
        .route("/v1/keys/{id}/roll", post(roll::roll))
        .route("/v1/keys/self/revoke", post(leaks::revoke_self))
        .route("/v1/audit-events", get(audit::list))
        .route_layer(from_fn_with_state(state.clone(), middleware::key_auth));
    Router::new()
        .merge(keyed)
        .merge(admin::router(state.clone()))
        .route("/v1/verify", post(verify::verify))
        .route("/v1/changes", get(changes::stream))
        .route("/v1/usage", post(usage::post))
        .route("/v1/authz", any(authz::authz))
        .route("/v1/authz/{*rest}", any(authz::authz_suffixed))
        .route("/v1/leaks", post(leaks::report))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1", any(error::not_found))
        .route("/v1/{*rest}", any(error::not_found))
        .layer(axum::Extension(verify::VerifyGuard::default()))
        .layer(axum::Extension(changes::StreamSlots(std::sync::Arc::new(
            tokio::sync::Semaphore::new(state.settings.gateway.changes_max_streams),
        ))))
        // Inside the envelope, so its 413 is answered in the API's error format.
        .layer(RequestBodyLimitLayer::new(crate::http::BODY_LIMIT))
        .layer(from_fn_with_state(state, middleware::envelope))
}
