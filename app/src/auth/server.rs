//! Server side of people and sessions: password hashing, the session cookie, and `require`,
//! the one guard every server function starts with.

use crate::db::{is_unique_violation, now_ms, Db};
use crate::error::{AppError, AppResult};
use crate::request;
use crate::state::AppState;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use http::request::Parts;
use latchkey_domain::policy::Denial;
use latchkey_domain::{Action, Plan, Role};
use leptos::prelude::use_context;
use sha2::{Digest as _, Sha256};
use sqlx::Row;
use std::net::IpAddr;

pub const SESSION_COOKIE: &str = "lk_session";

/// Who is calling, in which tenant, with which role: the result of a passed guard.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub plan: Plan,
    pub role: Role,
    pub client_ip: IpAddr,
}

/// The app state, from the context `leptos_routes_with_context` and the server-fn handler provide.
pub fn state() -> AppResult<AppState> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))
}

fn parts() -> AppResult<Parts> {
    use_context::<Parts>().ok_or_else(|| AppError::internal("request parts missing from context"))
}

/// The guard: a valid session, a membership in the session's tenant, and a role and plan that
/// allow `action`. Everything after it works only on `ctx.tenant_id`.
pub async fn require(action: Action) -> AppResult<Ctx> {
    let state = state()?;
    let parts = parts()?;
    let ctx = session_ctx(&state, &parts)
        .await?
        .ok_or(AppError::Unauthorized)?;
    match action.check(ctx.role, ctx.plan) {
        Ok(()) => Ok(ctx),
        Err(Denial::Role) => Err(AppError::Forbidden),
        Err(Denial::Plan) => Err(AppError::PlanRequired),
    }
}

/// The caller's context if signed in, without an action check (for the shell's session probe).
pub async fn optional_ctx() -> AppResult<Option<Ctx>> {
    let state = state()?;
    let parts = parts()?;
    session_ctx(&state, &parts).await
}

pub fn client_ip_of(state: &AppState, parts: &Parts) -> IpAddr {
    request::client_ip(parts, &state.settings.trusted_proxies)
}

/// The caller's address, for audit events and throttles.
pub fn current_client_ip() -> AppResult<IpAddr> {
    Ok(client_ip_of(&state()?, &parts()?))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn session_ctx(state: &AppState, parts: &Parts) -> AppResult<Option<Ctx>> {
    let Some(token) = request::cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT s.user_id, s.tenant_id, u.email, u.name \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash(&token))
    .bind(now_ms())
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user_id: i64 = row.try_get("user_id")?;
    let session_tenant: Option<i64> = row.try_get("tenant_id")?;
    // The session's tenant if the user still belongs to it, else their first tenant.
    let membership = sqlx::query(
        "SELECT t.id, t.name, t.plan, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY CASE WHEN t.id = $2 THEN 0 ELSE 1 END, t.name LIMIT 1",
    )
    .bind(user_id)
    .bind(session_tenant.unwrap_or(-1))
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(m) = membership else {
        // Signed in but a member of nothing: there is no tenant to act in.
        return Err(AppError::Forbidden);
    };
    let plan: String = m.try_get("plan")?;
    let role: String = m.try_get("role")?;
    Ok(Some(Ctx {
        user_id,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        tenant_id: m.try_get("id")?,
        tenant_name: m.try_get("name")?,
        plan: plan.parse().map_err(AppError::internal)?,
        role: role.parse().map_err(AppError::internal)?,
        client_ip: client_ip_of(state, parts),
    }))
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

/// Verifies off the async threads. A malformed stored hash counts as a mismatch.
pub async fn verify_password(password: String, phc: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(AppError::internal)
}

/// A throw-away hash with the live parameters, verified against when an email is unknown so
/// that both failures cost the same time.
pub fn dummy_password_hash() -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"not-a-real-password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn validate_email(email: &str) -> AppResult<String> {
    let e = normalise_email(email);
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
    if ok {
        Ok(e)
    } else {
        Err(AppError::field("email", "Enter a valid email address."))
    }
}

/// Creates a user; a taken email is a field-level conflict.
pub async fn create_user(db: &Db, email: &str, name: &str, password: &str) -> AppResult<i64> {
    let email = validate_email(email)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field(
            "name",
            "Enter a name of 1 to 100 characters.",
        ));
    }
    if password.chars().count() < 8 {
        return Err(AppError::field("password", "Use at least 8 characters."));
    }
    let hash = hash_password(password.to_owned()).await?;
    let res = sqlx::query(
        "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&email)
    .bind(name)
    .bind(hash)
    .bind(now_ms())
    .fetch_one(&db.pool)
    .await;
    match res {
        Ok(row) => Ok(row.try_get("id")?),
        Err(e) if is_unique_violation(&e) => Err(AppError::field(
            "email",
            "A user with this email already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn user_id_by_email(db: &Db, email: &str) -> AppResult<Option<i64>> {
    let row = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(normalise_email(email))
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// Starts a session and returns the cookie value (only its hash is stored).
pub async fn create_session(
    db: &Db,
    user_id: i64,
    tenant_id: Option<i64>,
    ttl_ms: i64,
) -> AppResult<String> {
    let token = latchkey_domain::keys::random_base62(43);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, tenant_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(tenant_id)
    .bind(now)
    .bind(now + ttl_ms)
    .execute(&db.pool)
    .await?;
    // Expired sessions are swept opportunistically on sign-in; cheap with the PK and no hot path.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(token)
}

/// The `Set-Cookie` value for a session token, or for clearing it when `token` is empty.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    let mut c =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}");
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The first tenant (by name) the user belongs to, for a fresh session.
pub async fn first_tenant_of(db: &Db, user_id: i64) -> AppResult<Option<i64>> {
    let row = sqlx::query(
        "SELECT t.id FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY t.name LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}
