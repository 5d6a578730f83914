//! `GET /auth/oidc/start` and `GET /auth/oidc/callback`: signing in with the SaaS's OpenID
//! provider. Both answer 404 when it is off, and both spend the caller's sign-in budget (each
//! causes requests to the provider). A failure's detail goes to the log; the browser only
//! learns that single sign-on did not complete.

use axum::extract::{ConnectInfo, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use store::auth::oidc::{flow_cookie, Callback, Finish, FLOW_COOKIE, FLOW_TTL_SECS};
use store::AppState;

const FAILED: &str = "/signin?sso=failed";
const NO_MEMBERSHIP: &str = "/signin?sso=no-membership";

/// What the provider sends back (an `error` instead of a code when the person refused).
#[derive(Debug, Deserialize)]
pub struct Back {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn start(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(oidc) = state.oidc.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ip = client_ip(&state, &parts);
    if let Err(e) = state.sign_in.link_attempt(ip).await {
        tracing::info!(%ip, error = %e, "single sign-on start throttled");
        return see_other(FAILED, &[]);
    }
    let Some(redirect_uri) = redirect_uri(&state, &parts) else {
        tracing::warn!("single sign-on: no --public-url and no Host header to call back to");
        return see_other(FAILED, &[]);
    };
    match oidc.start(&redirect_uri, state.db.clock.now_ms()).await {
        Some((url, sealed)) => {
            let cookie = flow_cookie(&sealed, FLOW_TTL_SECS, !state.settings.insecure_cookies);
            see_other(&url, &[cookie])
        }
        None => see_other(FAILED, &[]),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    Query(back): Query<Back>,
    parts: Parts,
) -> Response {
    let Some(oidc) = state.oidc.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let secure = !state.settings.insecure_cookies;
    // The flow is spent whatever happens next.
    let clear = flow_cookie("", 0, secure);
    let ip = client_ip(&state, &parts);
    if let Err(e) = state.sign_in.link_attempt(ip).await {
        tracing::info!(%ip, error = %e, "single sign-on callback throttled");
        return see_other(FAILED, &[clear]);
    }
    if let Some(error) = &back.error {
        tracing::info!(%ip, error = %error.chars().take(100).collect::<String>(), "the provider answered an error");
        return see_other(FAILED, &[clear]);
    }
    let (Some(code), Some(flow_state), Some(redirect_uri)) =
        (&back.code, &back.state, redirect_uri(&state, &parts))
    else {
        tracing::info!(%ip, "single sign-on callback without code or state");
        return see_other(FAILED, &[clear]);
    };
    let session_name = state.settings.session_cookie_name();
    let flow = store::request::cookie(&parts.headers, FLOW_COOKIE);
    let replaces = store::request::cookie(&parts.headers, session_name);
    let back = Callback {
        redirect_uri: &redirect_uri,
        flow_cookie: flow.as_deref(),
        code,
        state: flow_state,
        ip,
        replaces: replaces.as_deref(),
    };
    match oidc
        .finish(&state.db, state.settings.session_policy(), &back)
        .await
    {
        Ok(Finish::SignedIn(token)) => {
            let session = store::auth::session_cookie(
                &token,
                state.settings.session_ttl.as_secs(),
                secure,
                !state.settings.frame_ancestors.is_empty(),
            );
            see_other("/", &[clear, session])
        }
        Ok(Finish::NoMembership) => see_other(NO_MEMBERSHIP, &[clear]),
        Ok(Finish::Failed) => see_other(FAILED, &[clear]),
        Err(e) => {
            tracing::error!(%ip, error = %e, "single sign-on failed");
            see_other(FAILED, &[clear])
        }
    }
}

fn client_ip(state: &AppState, parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    store::request::client_ip(peer, &parts.headers, &state.settings.trusted_proxies)
}

/// Where the provider sends the browser back: under `--public-url`, else the host this request
/// came to (the provider only accepts a redirect URI registered with it, so a forged `Host`
/// gains nothing).
fn redirect_uri(state: &AppState, parts: &Parts) -> Option<String> {
    const PATH: &str = "/auth/oidc/callback";
    if let Some(base) = &state.settings.public_url {
        return Some(format!("{}{PATH}", base.trim_end_matches('/')));
    }
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    let scheme = if state.settings.insecure_cookies {
        "http"
    } else {
        "https"
    };
    Some(format!("{scheme}://{host}{PATH}"))
}

fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    res
}
