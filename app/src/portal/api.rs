//! The portal link's one server function. No session is needed: the token is the credential.

use crate::error::AppError;
use leptos::prelude::*;

/// Redeems a portal link: a session pinned to the link's tenant, on this browser. Answers the
/// path to open next. Every refusal (used, expired, unknown) is the same `NotFound`, and each
/// attempt spends the address's sign-in budget.
#[server(endpoint = "portal/redeem")]
pub async fn redeem_portal_link(token: String) -> Result<String, AppError> {
    use crate::guard::{
        current_client_ip, current_session_token, current_user_agent, set_session_cookie, state,
    };
    let state = state()?;
    let ip = current_client_ip()?;
    state.sign_in.link_attempt(ip).await?;
    let redeemed = store::portal::redeem(
        &state.db,
        &state.settings,
        &token,
        ip,
        &current_user_agent()?,
    )
    .await?;
    // A session this browser had before (another person, another tenant) ends here.
    if let Some(old) = current_session_token()? {
        store::auth::end_session(&state.db, &old).await?;
    }
    set_session_cookie(
        &state,
        &redeemed.session_token,
        state.settings.portal.session_ttl.as_secs(),
    );
    Ok(redeemed.next)
}

/// Where a browser whose portal session has ended should go instead of signing in: the SaaS's
/// `--portal-refresh-url` (it mints a fresh link). `None` for anyone else.
#[server(endpoint = "portal/refresh")]
pub async fn portal_refresh_url() -> Result<Option<String>, AppError> {
    use crate::guard::{current_session_token, optional_session, set_session_cookie, state};
    let state = state()?;
    let Some(url) = state.settings.portal.refresh_url.clone() else {
        return Ok(None);
    };
    let portal_cookie =
        current_session_token()?.is_some_and(|t| t.starts_with(store::auth::PORTAL_SESSION_PREFIX));
    if !portal_cookie || optional_session().await.ok().flatten().is_some() {
        return Ok(None);
    }
    set_session_cookie(&state, "", 0);
    Ok(Some(url))
}
