//! The one guard every server function starts with, and the request facts it needs. Everything
//! else on the server side lives in `store`; this only reads the Leptos request context.

use http::request::Parts;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::Action;
use leptos::prelude::use_context;
use std::net::{IpAddr, SocketAddr};
use store::auth::Session;
use store::request;
use store::AppState;

/// The app state, from the context `leptos_routes_with_context` and the server-fn handler provide.
pub fn state() -> AppResult<AppState> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))
}

fn parts() -> AppResult<Parts> {
    use_context::<Parts>().ok_or_else(|| AppError::internal("request parts missing from context"))
}

/// Whether this page load came from one of our own pages (`Sec-Fetch-Site: same-origin`), as
/// after the redirect that answers a plain form's post.
pub fn arrived_from_this_site() -> bool {
    parts().is_ok_and(|p| {
        p.headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin")
    })
}

/// The guard: a valid session, a membership in the session's tenant, a role and plan that allow
/// `action`, and `tenant` (the organisation the page was drawn for) still being the session's
/// tenant. Everything after it works only on `session.tenant_id`.
///
/// The tenant check is there because the session is shared by every tab: after a switch to
/// another organisation in one tab, a page still open in another must not retarget its change
/// (a plan change, a revoke) at the organisation the user switched to.
pub async fn require(action: Action, tenant: i64) -> AppResult<Session> {
    signed_in().await?.require(action, tenant)
}

/// The guard for what concerns the person, not a tenant (switching tenant, signing out
/// everywhere): a valid session.
pub async fn signed_in() -> AppResult<Session> {
    optional_session().await?.ok_or(AppError::Unauthorized)
}

/// The guard for what concerns the whole person across tenants and devices (signing out
/// everywhere, changing the password): a session that stands for the person. A portal session
/// stands for them only inside its tenant, so it is refused.
pub async fn whole_person() -> AppResult<Session> {
    let session = signed_in().await?;
    if session.pinned {
        return Err(AppError::Forbidden);
    }
    Ok(session)
}

/// The caller's session if signed in, without an action check (the shell's session probe).
pub async fn optional_session() -> AppResult<Option<Session>> {
    let state = state()?;
    let parts = parts()?;
    let Some(token) = session_token(&state, &parts) else {
        return Ok(None);
    };
    store::auth::session(
        &state.db,
        &token,
        client_ip_of(&state, &parts),
        state.settings.session_idle,
    )
    .await
}

/// The session cookie's value, if the request carries one.
pub fn current_session_token() -> AppResult<Option<String>> {
    Ok(session_token(&state()?, &parts()?))
}

fn session_token(state: &AppState, parts: &Parts) -> Option<String> {
    request::cookie(&parts.headers, state.settings.session_cookie_name())
}

fn client_ip_of(state: &AppState, parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    request::client_ip(peer, &parts.headers, &state.settings.trusted_proxies)
}

/// The caller's `User-Agent` (empty when absent), for audit events.
pub fn current_user_agent() -> AppResult<String> {
    Ok(parts()?
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned())
}

/// The caller's address, for audit events and throttles.
pub fn current_client_ip() -> AppResult<IpAddr> {
    Ok(client_ip_of(&state()?, &parts()?))
}

/// Adds a `Set-Cookie` for the session (an empty token clears it).
pub fn set_session_cookie(state: &AppState, token: &str, max_age_secs: u64) {
    let name = store::auth::session_cookie_name(!state.settings.insecure_cookies);
    set_cookie(state, name, token, max_age_secs);
}

/// The cookie that carries a notice to the next page.
const NOTICE_COOKIE: &str = "lk_notice";
/// Notices are a sentence; a longer one is cut rather than growing the cookie.
const NOTICE_MAX_CHARS: usize = 300;

/// Says `text` on the next page this browser loads (after a plain form's redirect).
pub fn set_notice(text: &str) {
    let text: String = text.chars().take(NOTICE_MAX_CHARS).collect();
    let value: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    if let Ok(state) = state() {
        // Long enough for a dialog that shows a new secret to be closed (the page loads then).
        set_cookie(&state, NOTICE_COOKIE, &value, 600);
    }
}

/// The notice the last post left for this page, if any; it is said once.
pub fn take_notice() -> Option<String> {
    let value = request::cookie(&parts().ok()?.headers, NOTICE_COOKIE)?;
    set_cookie(&state().ok()?, NOTICE_COOKIE, "", 0);
    let text = form_urlencoded::parse(format!("n={value}").as_bytes())
        .next()
        .map(|(_, v)| v.chars().take(NOTICE_MAX_CHARS).collect::<String>())?;
    (!text.is_empty()).then_some(text)
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: u64) {
    let cookie = store::auth::cookie(
        name,
        value,
        max_age_secs,
        !state.settings.insecure_cookies,
        !state.settings.frame_ancestors.is_empty(),
    );
    if let (Some(opts), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie),
    ) {
        opts.append_header(http::header::SET_COOKIE, v);
    }
}
