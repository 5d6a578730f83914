//! People and sessions: password hashing (argon2id), users, the session behind the cookie,
//! throttled sign-in, and switching tenants. Only a session token's SHA-256 is stored.

use crate::audit::{self, Actor, AuditAction, Event};
use crate::db::{now_ms, Db};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::policy::Denial;
use latchkey_domain::views::TenantChoice;
use latchkey_domain::{Action, Plan, Role};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::time::Duration;

mod hasher;
pub mod oidc;
pub mod password;
mod person;
mod sign_in;
mod users;

pub use hasher::{hashing_turns, Hasher};
pub use person::{signed_in_person, Person};
pub use sign_in::{sign_in, SignIn, FAILED_CLIENT_SECS};
pub(crate) use users::insert_user;
pub use users::{check_new_user, create_user, user_id_by_email};

/// The session cookie's name over plain HTTP (local development, tests).
pub const SESSION_COOKIE: &str = "lk_session";
/// Sessions opened by a portal link have cookie values starting with this (password ones are
/// base62 only): once such a session has ended, the browser is sent to `--portal-refresh-url`
/// rather than the sign-in page.
pub const PORTAL_SESSION_PREFIX: &str = "p_";

/// Its name when cookies are `Secure`: the `__Host-` prefix makes the browser refuse it unless
/// it is Secure, host-only and `Path=/`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-lk_session";

/// The session cookie's name for this deployment.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// How long sessions last: an absolute lifetime from sign-in, and an idle window that each use
/// of the session renews.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub ttl: Duration,
    pub idle: Duration,
}

/// A session's last use is written at most this often (not on every request).
const TOUCH_EVERY_MS: i64 = 60_000;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A signed-in person acting in one tenant with one role.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub plan: Plan,
    pub role: Role,
    pub client_ip: IpAddr,
    /// Opened by a portal link: pinned to its tenant (no switching), its own idle window.
    pub pinned: bool,
    /// The portal link was read-only: `role` is already capped at member.
    pub read_only: bool,
    /// Where "← Back to …" leads (a portal link's `return_url`).
    pub return_url: Option<String>,
}

/// What a page in another tab is told after the organisation changed under it.
pub const STALE_TENANT: &str =
    "You switched to another organisation in another tab. Reload the page to continue.";

impl Session {
    /// The session acting for `action` on the page's `tenant`: still the session's tenant (a
    /// tab left open after a switch elsewhere must not retarget a change), and a role and plan
    /// that allow it. Every server function and the export route go through this.
    pub fn require(self, action: Action, tenant: i64) -> AppResult<Session> {
        if self.tenant_id != tenant {
            return Err(AppError::Conflict(STALE_TENANT.to_owned()));
        }
        match action.check(self.role, self.plan) {
            Ok(()) => Ok(self),
            Err(Denial::Role) => Err(AppError::Forbidden),
            Err(Denial::Plan) => Err(AppError::PlanRequired),
        }
    }

    /// The person as the audit log and `created_by` record them.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user_id, &self.name, &self.email, Some(self.client_ip))
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: i64,
    tenant_id: Option<i64>,
    last_seen_at: i64,
    portal: i64,
    read_only: i64,
    return_url: Option<String>,
    /// This session's idle window: its own (portal) or the deployment's.
    idle_ms: i64,
    email: String,
    name: String,
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    id: i64,
    name: String,
    plan: String,
    role: String,
}

#[derive(sqlx::FromRow)]
struct ChoiceRow {
    id: i64,
    name: String,
    role: String,
}

impl TryFrom<ChoiceRow> for TenantChoice {
    type Error = AppError;
    fn try_from(r: ChoiceRow) -> AppResult<Self> {
        Ok(Self {
            id: r.id,
            name: r.name,
            role: r.role.parse().map_err(AppError::internal)?,
        })
    }
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session a cookie token stands for, in the session's tenant if the user still belongs to
/// it (else their first tenant). `None` once it is past its lifetime or idle for longer than
/// `idle`. `Forbidden` when signed in but a member of nothing.
pub async fn session(
    db: &Db,
    token: &str,
    client_ip: IpAddr,
    idle: Duration,
) -> AppResult<Option<Session>> {
    session_at(db, token, client_ip, idle, now_ms()).await
}

/// [`session`] at a given time (tests reach an idle expiry without waiting).
pub async fn session_at(
    db: &Db,
    token: &str,
    client_ip: IpAddr,
    idle: Duration,
    now: i64,
) -> AppResult<Option<Session>> {
    let hash = token_hash(token);
    let row = sqlx::query_as::<_, SessionRow>(
        "SELECT s.user_id, s.tenant_id, s.last_seen_at, s.portal, s.read_only, s.return_url, \
         COALESCE(s.idle_ms, $3) AS idle_ms, u.email, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 \
         AND s.last_seen_at > $2 - COALESCE(s.idle_ms, $3)",
    )
    .bind(&hash)
    .bind(now)
    .bind(millis(idle))
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    // A short idle window (a portal session's) is renewed more often, so a session in use
    // never lapses between two writes of its last use.
    if now - row.last_seen_at >= TOUCH_EVERY_MS.min(row.idle_ms / 4) {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(&db.pool)
            .await?;
    }
    let pinned = row.portal != 0;
    // A portal session acts only in its own tenant: without that membership it has ended (no
    // falling back to the person's other tenants).
    let membership = sqlx::query_as::<_, MembershipRow>(
        "SELECT t.id, t.name, t.plan, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 AND ($3 = 0 OR t.id = $2) \
         ORDER BY CASE WHEN t.id = $2 THEN 0 ELSE 1 END, t.name LIMIT 1",
    )
    .bind(row.user_id)
    .bind(row.tenant_id.unwrap_or(-1))
    .bind(row.portal)
    .fetch_optional(&db.pool)
    .await?;
    let Some(m) = membership else {
        if pinned {
            return Ok(None);
        }
        // Signed in but a member of nothing: there is no tenant to act in.
        return Err(AppError::Forbidden);
    };
    Ok(Some(Session {
        user_id: row.user_id,
        email: row.email,
        name: row.name,
        tenant_id: m.id,
        tenant_name: m.name,
        plan: m.plan.parse().map_err(AppError::internal)?,
        role: latchkey_domain::portal::session_role(
            m.role.parse().map_err(AppError::internal)?,
            row.read_only != 0,
        ),
        client_ip,
        pinned,
        read_only: row.read_only != 0,
        return_url: row.return_url,
    }))
}

/// Every tenant the user belongs to, by name (the tenant switcher).
pub async fn tenants_of(db: &Db, user_id: i64) -> AppResult<Vec<TenantChoice>> {
    sqlx::query_as::<_, ChoiceRow>(
        "SELECT t.id, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY t.name",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(TenantChoice::try_from)
    .collect()
}

/// Ends the session a cookie token stands for.
pub async fn end_session(db: &Db, token: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Signs out: ends the session and records it against the session's tenant.
pub async fn sign_out(db: &Db, token: &str, session: Option<&Session>) -> AppResult<()> {
    end_session(db, token).await?;
    if let Some(s) = session {
        let event = Event::user(
            Some(s.tenant_id),
            AuditAction::SignedOut,
            s.user_id,
            json!({}),
        );
        audit::record_now(db, &s.actor(), event).await?;
    }
    Ok(())
}

/// Ends every session of a user, on every device ("sign out everywhere"). Returns how many.
pub async fn end_all_sessions(db: &Db, session: &Session) -> AppResult<u64> {
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(session.user_id)
        .execute(&db.pool)
        .await?
        .rows_affected();
    let details = json!({ "sessions": ended });
    let event = Event::user(
        Some(session.tenant_id),
        AuditAction::SignedOutEverywhere,
        session.user_id,
        details,
    );
    audit::record_now(db, &session.actor(), event).await?;
    Ok(ended)
}

/// Moves a session to another tenant the user belongs to; `NotFound` otherwise (not revealing
/// whether the tenant exists).
pub async fn switch_tenant(
    db: &Db,
    session: &Session,
    token: &str,
    tenant_id: i64,
) -> AppResult<()> {
    if session.pinned {
        // Opened by a portal link for one tenant: the SaaS decides where its users go.
        return Err(AppError::Forbidden);
    }
    let user_id = session.user_id;
    let member =
        sqlx::query("SELECT 1 AS one FROM memberships WHERE user_id = $1 AND tenant_id = $2")
            .bind(user_id)
            .bind(tenant_id)
            .fetch_optional(&db.pool)
            .await?;
    if member.is_none() {
        return Err(AppError::NotFound);
    }
    sqlx::query("UPDATE sessions SET tenant_id = $1 WHERE token_hash = $2 AND user_id = $3")
        .bind(tenant_id)
        .bind(token_hash(token))
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    // Recorded where the person arrives: the tenant they left learns nothing of the other.
    let event = Event::user(
        Some(tenant_id),
        AuditAction::TenantSwitched,
        user_id,
        json!({}),
    );
    audit::record_now(db, &session.actor(), event).await?;
    Ok(())
}

/// A throw-away hash with the live parameters, verified against when an email is unknown so
/// that both failures cost the same time. Made once at start, outside the gate (nothing waits).
fn dummy_password_hash() -> String {
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

/// Starts a session and returns the cookie value (only its hash is stored).
pub async fn create_session(
    db: &Db,
    user_id: i64,
    tenant_id: Option<i64>,
    policy: SessionPolicy,
) -> AppResult<String> {
    let token = latchkey_domain::keys::random_base62(43);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, tenant_id, created_at, expires_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(tenant_id)
    .bind(now)
    .bind(now.saturating_add(millis(policy.ttl)))
    .execute(&db.pool)
    .await?;
    // Expired and idle sessions are swept opportunistically on sign-in; no hot path pays.
    sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $1 - COALESCE(idle_ms, $2)",
    )
    .bind(now)
    .bind(millis(policy.idle))
    .execute(&db.pool)
    .await?;
    Ok(token)
}

/// The `Set-Cookie` value for a session token, or for clearing it when `token` is empty.
/// `framed` (the pages may be framed by another site): a cross-site iframe sends only
/// `SameSite=None` cookies, which browsers take only when `Secure`; `Partitioned` (CHIPS) keeps
/// the cookie in a jar of the framing site's own, so it never follows the user elsewhere.
/// Browsers keep `Secure` cookies from `http://localhost` and `http://127.0.0.1` too.
pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool, framed: bool) -> String {
    cookie(
        session_cookie_name(secure),
        token,
        max_age_secs,
        secure,
        framed,
    )
}

/// A `Set-Cookie` value with the session cookie's attributes (see [`session_cookie`]).
pub fn cookie(name: &str, value: &str, max_age_secs: u64, secure: bool, framed: bool) -> String {
    let same_site = if framed { "None" } else { "Lax" };
    let mut c =
        format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}");
    if secure || framed {
        c.push_str("; Secure");
    }
    if framed {
        c.push_str("; Partitioned");
    }
    c
}

/// The first tenant (by name) the user belongs to, for a fresh session.
pub async fn first_tenant_of(db: &Db, user_id: i64) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT t.id FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY t.name LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::session_cookie;

    #[test]
    fn the_session_cookie_is_lax_unless_the_pages_may_be_framed() {
        assert_eq!(
            session_cookie("t", 60, false, false),
            "lk_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(
            session_cookie("t", 60, true, false),
            "__Host-lk_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        // Framed: sent from a cross-site iframe (None), which needs Secure, in the framing
        // site's partition, on plain HTTP development hosts as well.
        for secure in [false, true] {
            let c = session_cookie("t", 60, secure, true);
            assert!(c.contains("; SameSite=None;"), "{c}");
            assert!(c.ends_with("; Secure; Partitioned"), "{c}");
            assert!(!c.contains("Lax"), "{c}");
        }
        // Clearing it carries the same attributes, or the browser keeps the partitioned one.
        assert!(session_cookie("", 0, false, true).ends_with("Max-Age=0; Secure; Partitioned"));
    }
}
