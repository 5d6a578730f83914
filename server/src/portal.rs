//! A full page load of `/signin` by a browser whose portal session has ended goes straight back
//! to the SaaS (`--portal-refresh-url`), which mints a fresh link, instead of a password form
//! that person never had a password for.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr};
use store::AppState;

pub async fn refresh_ended(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET || req.uri().path() != "/signin" {
        return next.run(req).await;
    }
    let Some(url) = &state.settings.portal.refresh_url else {
        return next.run(req).await;
    };
    let Some(token) = store::request::cookie(req.headers(), state.settings.session_cookie_name())
    else {
        return next.run(req).await;
    };
    if !token.starts_with(store::auth::PORTAL_SESSION_PREFIX) {
        return next.run(req).await;
    }
    // The address only labels the session; nothing is throttled or audited here.
    let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let idle = state.settings.session_idle;
    if let Ok(Some(_)) = store::auth::session(&state.db, &token, unspecified, idle).await {
        return next.run(req).await;
    }
    let clear = store::auth::session_cookie(
        "",
        0,
        !state.settings.insecure_cookies,
        !state.settings.frame_ancestors.is_empty(),
    );
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let (Ok(location), Ok(cookie)) = (HeaderValue::from_str(url), HeaderValue::from_str(&clear))
    {
        res.headers_mut().insert(header::LOCATION, location);
        res.headers_mut().insert(header::SET_COOKIE, cookie);
        return res;
    }
    next.run(req).await
}
