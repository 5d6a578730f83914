//! Server functions for one's own account and the one-time links: accepting an invitation
//! (no session needed: the token is the credential), a password reset, and changing one's
//! password. The tokens travel in the request body, never in a URL the server logs.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use latchkey_domain::views::{InvitationState, InvitationView};

/// What the accept page shows: the invitation, and who is signed in (if anyone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub invitation: InvitationView,
    pub signed_in_as: Option<String>,
}

#[server(endpoint = "invite/lookup", input = Json)]
pub async fn lookup_invitation(token: String) -> Result<InvitationInfo, AppError> {
    use crate::guard::{current_client_ip, current_session_token, state};
    let state = state()?;
    state.sign_in.link_attempt(current_client_ip()?).await?;
    let invitation = store::members::invites::lookup(&state.db, &token).await?;
    // Also a person who belongs to no organisation (yet, or any more): this link is their way in.
    let signed_in_as = match current_session_token()? {
        Some(cookie) => {
            store::auth::signed_in_person(&state.db, &cookie, state.settings.session_idle)
                .await?
                .map(|p| p.email)
        }
        None => None,
    };
    Ok(InvitationInfo {
        invitation,
        signed_in_as,
    })
}

/// The invite page's card for the token in its fragment, drawn on the server (the page posts
/// the token it read there). A link that cannot be looked up, whatever the reason, reads as
/// not valid; each look spends the address's link budget, as [`lookup_invitation`] does.
#[server(endpoint = "invite/panel")]
pub async fn invitation_panel(token: String) -> Result<String, AppError> {
    let info = match lookup_invitation(token.clone()).await {
        Ok(info) => Some(info),
        Err(e @ AppError::RateLimited { .. }) => return Err(e),
        Err(_) => None,
    };
    Ok(Owner::new().with(|| crate::account::accept_invite::panel(info, token).to_html()))
}

/// A person without an account accepts: makes the account and signs them in.
#[server(endpoint = "invite/accept_new")]
pub async fn accept_new(token: String, name: String, password: String) -> Result<(), AppError> {
    use crate::guard::{current_client_ip, set_session_cookie, state};
    let state = state()?;
    state.sign_in.link_attempt(current_client_ip()?).await?;
    let session = store::members::invites::accept_new(
        &state.db,
        state.settings.session_policy(),
        &token,
        &name,
        password,
    )
    .await?;
    set_session_cookie(&state, &session, state.settings.session_ttl.as_secs());
    Ok(())
}

/// A signed-in person with the invitation's email joins, whether or not they belong to any
/// organisation now.
#[server(endpoint = "invite/accept")]
pub async fn accept_signed_in(token: String) -> Result<(), AppError> {
    use crate::guard::{current_session_token, state};
    let state = state()?;
    let cookie = current_session_token()?.ok_or(AppError::Unauthorized)?;
    let person = store::auth::signed_in_person(&state.db, &cookie, state.settings.session_idle)
        .await?
        .ok_or(AppError::Unauthorized)?;
    store::members::invites::accept_signed_in(&state.db, &person, &cookie, &token).await?;
    Ok(())
}

/// Posted by a plain form: it lands back on `/account` with a notice.
#[server(endpoint = "account/change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::guard::{current_session_token, state, whole_person};
    let session = whole_person().await?;
    let keep = current_session_token()?.unwrap_or_default();
    store::auth::password::change_password(
        &state()?.db,
        &session,
        &keep,
        current_password,
        new_password,
    )
    .await?;
    crate::guard::set_notice("Password changed. Your other sessions have ended.");
    Ok(())
}

#[server(endpoint = "account/reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    use crate::guard::{current_client_ip, state};
    let state = state()?;
    state.sign_in.link_attempt(current_client_ip()?).await?;
    store::auth::password::reset_password(&state.db, &token, new_password).await
}
