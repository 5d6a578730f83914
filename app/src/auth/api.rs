//! DTOs and server functions for the session.

use crate::error::AppError;
use latchkey_domain::{Plan, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantChoice {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// What the shell needs to draw itself for the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user_name: String,
    pub email: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub plan: Plan,
    pub role: Role,
    pub tenants: Vec<TenantChoice>,
}

/// The session probe: `None` when nobody is signed in.
#[server(endpoint = "session")]
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    use crate::auth::server::{optional_ctx, state};
    use sqlx::Row;

    let Some(ctx) = optional_ctx().await? else {
        return Ok(None);
    };
    let state = state()?;
    let rows = sqlx::query(
        "SELECT t.id, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY t.name",
    )
    .bind(ctx.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for r in rows {
        let role: String = r.try_get("role")?;
        tenants.push(TenantChoice {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            role: role.parse().map_err(AppError::internal)?,
        });
    }
    Ok(Some(SessionInfo {
        user_name: ctx.name,
        email: ctx.email,
        tenant_id: ctx.tenant_id,
        tenant_name: ctx.tenant_name,
        plan: ctx.plan,
        role: ctx.role,
        tenants,
    }))
}

/// Signs in. An unknown email and a wrong password get the same answer in about the same time;
/// attempts are throttled per email and per client address.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::audit::server::{record, Event};
    use crate::auth::server::*;
    use sqlx::Row;

    let state = state()?;
    let ip = current_client_ip()?;
    let email = normalise_email(&email);
    let limiter = &state.sign_in_limiter;
    let throttled = |r: Result<(), governor::NotUntil<governor::clock::QuantaInstant>>| {
        r.map_err(|wait| {
            use governor::clock::{Clock, DefaultClock};
            let secs = wait.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
            AppError::RateLimited {
                retry_after_secs: secs,
            }
        })
    };
    throttled(limiter.by_ip.check_key(&ip))?;
    throttled(limiter.by_email.check_key(&email))?;

    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.db.pool)
        .await?;
    let (user_id, phc) = match row {
        Some(r) => (
            Some(r.try_get::<i64, _>("id")?),
            r.try_get("password_hash")?,
        ),
        None => (None, state.dummy_password_hash.to_string()),
    };
    let ok = verify_password(password, phc).await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        tracing::info!(%ip, "sign-in failed");
        return Err(AppError::field(
            "password",
            "That email and password don't match an account.",
        ));
    };
    let tenant_id = first_tenant_of(&state.db, user_id).await?;
    let ttl = state.settings.session_ttl;
    let token = create_session(&state.db, user_id, tenant_id, ttl.as_millis() as i64).await?;
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    let cookie = session_cookie(&token, ttl.as_secs(), !state.settings.insecure_cookies);
    if let Ok(v) = http::HeaderValue::from_str(&cookie) {
        opts.append_header(http::header::SET_COOKIE, v);
    }
    record(
        &state.db.pool,
        Event {
            tenant_id,
            actor_user_id: Some(user_id),
            actor: email,
            action: "user.signed_in",
            target_type: Some("user"),
            target_id: Some(user_id.to_string()),
            client_ip: Some(ip),
            details: serde_json::json!({}),
        },
    )
    .await?;
    tracing::info!(user_id, %ip, "signed in");
    Ok(())
}

/// Ends the session on the server and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::auth::server::*;
    use crate::request::cookie;

    let state = state()?;
    if let Some(parts) = use_context::<http::request::Parts>() {
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(&token))
                .execute(&state.db.pool)
                .await?;
        }
    }
    let opts = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(v) =
        http::HeaderValue::from_str(&session_cookie("", 0, !state.settings.insecure_cookies))
    {
        opts.append_header(http::header::SET_COOKIE, v);
    }
    Ok(())
}

/// Moves the session to another tenant the user belongs to.
#[server(endpoint = "switch_tenant")]
pub async fn switch_tenant(tenant_id: i64) -> Result<(), AppError> {
    use crate::auth::server::*;
    use latchkey_domain::Action;

    let ctx = require(Action::ViewTenant).await?;
    let state = state()?;
    let member =
        sqlx::query("SELECT 1 AS one FROM memberships WHERE user_id = $1 AND tenant_id = $2")
            .bind(ctx.user_id)
            .bind(tenant_id)
            .fetch_optional(&state.db.pool)
            .await?;
    if member.is_none() {
        // Not revealing whether the tenant exists.
        return Err(AppError::NotFound);
    }
    let parts = expect_context::<http::request::Parts>();
    let token = crate::request::cookie(&parts.headers, SESSION_COOKIE).unwrap_or_default();
    sqlx::query("UPDATE sessions SET tenant_id = $1 WHERE token_hash = $2 AND user_id = $3")
        .bind(tenant_id)
        .bind(token_hash(&token))
        .bind(ctx.user_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}
