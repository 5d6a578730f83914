//! DTOs and server functions for the session.

use crate::error::AppError;
use latchkey_domain::operator::TenantStatus;
use latchkey_domain::{Plan, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use latchkey_domain::views::TenantChoice;

/// What the shell needs to draw itself for the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user_name: String,
    pub email: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    /// The opaque id shown and copied (`org_…`); `tenant_id` stays internal.
    pub tenant_public_id: String,
    /// The SaaS's own id for the tenant, when the operator API created or linked it.
    pub tenant_external_id: Option<String>,
    /// Suspended by the operator: every page says so.
    pub tenant_status: TenantStatus,
    pub plan: Plan,
    pub role: Role,
    pub tenants: Vec<TenantChoice>,
    /// Opened by a portal link: pinned to this tenant (no switcher).
    pub pinned: bool,
    /// A portal link's way back to the SaaS, shown as "← Back to {product_name}".
    pub return_url: Option<String>,
    pub product_name: String,
}

/// The session probe: `None` when nobody is signed in.
#[server(endpoint = "session")]
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    use crate::guard::{optional_session, state};

    let Some(s) = optional_session().await? else {
        return Ok(None);
    };
    let state = state()?;
    let db = &state.db;
    // A portal session stays in its tenant: no other tenant is offered.
    let tenants = if s.pinned {
        Vec::new()
    } else {
        store::auth::tenants_of(db, s.user_id).await?
    };
    // Read once per page load, with the header: the status for the banner, the ids for display.
    let tenant = store::operator::tenants::by_id(db, s.tenant_id).await?;
    Ok(Some(SessionInfo {
        user_name: s.name,
        email: s.email,
        tenant_id: s.tenant_id,
        tenant_name: s.tenant_name,
        tenant_public_id: tenant.public_id,
        tenant_external_id: tenant.external_id,
        tenant_status: tenant.status,
        plan: s.plan,
        role: s.role,
        tenants,
        pinned: s.pinned,
        return_url: s.return_url,
        product_name: state.settings.portal.product_name.clone(),
    }))
}

/// The ways the sign-in page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInChoices {
    /// The email and password form (`--password-sign-in`).
    pub password: bool,
    /// The single sign-on button's words, when OpenID Connect is on.
    pub sso_label: Option<String>,
}

/// What the sign-in page shows (nobody is signed in yet, so no guard).
#[server(endpoint = "sign_in_options")]
pub async fn sign_in_options() -> Result<SignInChoices, AppError> {
    let state = crate::guard::state()?;
    Ok(SignInChoices {
        password: state.settings.password_sign_in,
        sso_label: state
            .oidc
            .as_ref()
            .map(|o| o.settings().button_label.clone()),
    })
}

/// Signs in. An unknown email and a wrong password get the same answer in about the same time;
/// attempts are throttled per email and per client address.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::guard::{current_client_ip, current_session_token, set_session_cookie, state};

    let state = state()?;
    if !state.settings.password_sign_in {
        // `--password-sign-in off`: refused before any hashing.
        return Err(AppError::Forbidden);
    }
    let token = store::auth::sign_in(
        &state.db,
        &state.sign_in,
        state.settings.session_policy(),
        &email,
        password,
        current_client_ip()?,
        current_session_token()?.as_deref(),
    )
    .await?;
    set_session_cookie(&state, &token, state.settings.session_ttl.as_secs());
    // The session reshapes the whole app: the form's post lands on `/`.
    leptos_axum::redirect("/");
    Ok(())
}

/// Ends the session on the server and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::guard::{current_session_token, optional_session, set_session_cookie, state};

    let state = state()?;
    if let Some(token) = current_session_token()? {
        let session = optional_session().await?;
        store::auth::sign_out(&state.db, &token, session.as_ref()).await?;
    }
    set_session_cookie(&state, "", 0);
    leptos_axum::redirect("/signin");
    Ok(())
}

/// Ends every session of the signed-in person, on every device, this one included.
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::guard::{set_session_cookie, state, whole_person};

    let session = whole_person().await?;
    let state = state()?;
    let ended = store::auth::end_all_sessions(&state.db, &session).await?;
    set_session_cookie(&state, "", 0);
    tracing::info!(user_id = session.user_id, ended, "signed out everywhere");
    leptos_axum::redirect("/signin");
    Ok(())
}

/// Moves the session to another tenant the user belongs to.
#[server(endpoint = "switch_tenant")]
pub async fn switch_tenant(tenant_id: i64) -> Result<(), AppError> {
    use crate::guard::{current_session_token, signed_in, state};

    let session = signed_in().await?;
    let token = current_session_token()?.unwrap_or_default();
    store::auth::switch_tenant(&state()?.db, &session, &token, tenant_id).await?;
    // The organisation reshapes the whole app: the form's post lands on `/`.
    leptos_axum::redirect("/");
    Ok(())
}
