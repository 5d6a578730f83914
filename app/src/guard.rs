//! The one guard every server function starts with, and the request facts it needs. Everything
//! else on the server side lives in `store`; this only reads the Leptos request context.

use http::request::Parts;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::policy::Denial;
use latchkey_domain::Action;
use leptos::prelude::use_context;
use std::net::{IpAddr, SocketAddr};
use store::auth::{Session, SESSION_COOKIE};
use store::request;
use store::AppState;

/// The app state, from the context `leptos_routes_with_context` and the server-fn handler provide.
pub fn state() -> AppResult<AppState> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))
}

fn parts() -> AppResult<Parts> {
    use_context::<Parts>().ok_or_else(|| AppError::internal("request parts missing from context"))
}

/// The guard: a valid session, a membership in the session's tenant, and a role and plan that
/// allow `action`. Everything after it works only on `session.tenant_id`.
pub async fn require(action: Action) -> AppResult<Session> {
    let session = optional_session().await?.ok_or(AppError::Unauthorized)?;
    match action.check(session.role, session.plan) {
        Ok(()) => Ok(session),
        Err(Denial::Role) => Err(AppError::Forbidden),
        Err(Denial::Plan) => Err(AppError::PlanRequired),
    }
}

/// The caller's session if signed in, without an action check (the shell's session probe).
pub async fn optional_session() -> AppResult<Option<Session>> {
    let state = state()?;
    let parts = parts()?;
    let Some(token) = session_token(&parts) else {
        return Ok(None);
    };
    store::auth::session(&state.db, &token, client_ip_of(&state, &parts)).await
}

/// The session cookie's value, if the request carries one.
pub fn current_session_token() -> AppResult<Option<String>> {
    Ok(session_token(&parts()?))
}

fn session_token(parts: &Parts) -> Option<String> {
    request::cookie(&parts.headers, SESSION_COOKIE)
}

fn client_ip_of(state: &AppState, parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    request::client_ip(peer, &parts.headers, &state.settings.trusted_proxies)
}

/// The caller's address, for audit events and throttles.
pub fn current_client_ip() -> AppResult<IpAddr> {
    Ok(client_ip_of(&state()?, &parts()?))
}

/// Adds a `Set-Cookie` for the session (an empty token clears it).
pub fn set_session_cookie(state: &AppState, token: &str, max_age_secs: u64) {
    let cookie = store::auth::session_cookie(token, max_age_secs, !state.settings.insecure_cookies);
    if let (Some(opts), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        opts.append_header(http::header::SET_COOKIE, v);
    }
}
