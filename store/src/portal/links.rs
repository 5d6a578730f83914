//! Minting, redeeming and expiring portal links. Only a token's SHA-256 is stored; redemption is
//! one conditional update in the same transaction as the session it opens, so a link opens at
//! most one session however many tabs race for it.

use super::PortalSettings;
use crate::audit::{self, Actor, AuditAction, Event};
use crate::auth::token_hash;
use crate::db::Db;
use crate::operator::Call;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::keys::random_base62;
use latchkey_domain::portal::{self, TOKEN_PREFIX, TOKEN_RANDOM_LEN};
use serde_json::json;
use std::net::IpAddr;

/// What the operator asks for (`POST /v1/admin/portal-links`).
#[derive(Debug, Clone)]
pub struct MintInput {
    pub external_user_id: String,
    pub read_only: bool,
    pub return_url: Option<String>,
    pub ttl_secs: Option<u64>,
    pub next: Option<String>,
}

/// A minted link's token (shown once, in the URL's fragment) and when it stops working. Not
/// `Serialize`: the caller builds the one answer that carries it.
pub struct Minted {
    token: String,
    pub expires_at: i64,
}

impl Minted {
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// A redeemed link: the new session's cookie value and where the browser goes next.
pub struct Redeemed {
    pub session_token: String,
    pub next: String,
}

/// Why a link was refused (audited; the person sees one page for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Used,
    Expired,
    /// The user is no longer a member of the link's tenant (or it was deleted).
    NotAMember,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown",
            Refusal::Used => "used",
            Refusal::Expired => "expired",
            Refusal::NotAMember => "not_a_member",
        }
    }
}

/// Spent and expired links are kept this long (so a late click is audited as used or expired,
/// not unknown), then pruned when the next link is minted.
const KEEP_MS: i64 = 86_400_000;
/// Longest user agent kept in the audit log.
const USER_AGENT_MAX: usize = 256;

/// Mints a link for the member with this external id in `tenant_id`: 422 when the user is not a
/// member there, when `next` or `return_url` is not allowed, or when the TTL is out of range.
pub async fn mint(
    db: &Db,
    settings: &PortalSettings,
    tenant_id: i64,
    input: &MintInput,
    call: &Call,
) -> AppResult<Minted> {
    let ttl = input.ttl_secs.unwrap_or(portal::DEFAULT_TTL_SECS);
    if ttl == 0 || ttl > portal::MAX_TTL_SECS {
        return Err(AppError::field(
            "ttl_seconds",
            format!("Use 1 to {} seconds.", portal::MAX_TTL_SECS),
        ));
    }
    let next = input.next.as_deref().unwrap_or(portal::DEFAULT_NEXT);
    let named_key = portal::check_next(next).map_err(|m| AppError::field("next", m))?;
    if let Some(url) = &input.return_url {
        portal::check_return_url(url, &settings.return_origins)
            .map_err(|m| AppError::field("return_url", m))?;
    }
    let user_id = sqlx::query_scalar::<_, i64>(
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.external_id = $1 AND m.tenant_id = $2",
    )
    .bind(&input.external_user_id)
    .bind(tenant_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| {
        AppError::field(
            "user",
            "No member of this tenant has this external user id.",
        )
    })?;
    if let Some(key) = named_key {
        // A link lands only on its own tenant's key: another tenant's id is refused here, and
        // would be "not found" in the session anyway.
        let ours = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM api_keys WHERE tenant_id = $1 AND public_id = $2",
        )
        .bind(tenant_id)
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
        if ours.is_none() {
            return Err(AppError::field("next", "This tenant has no such key."));
        }
    }
    let token = format!("{TOKEN_PREFIX}{}", random_base62(TOKEN_RANDOM_LEN));
    let now = db.clock.now_ms();
    let expires_at = now.saturating_add(i64::try_from(ttl * 1000).unwrap_or(i64::MAX));
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO portal_links (token_hash, tenant_id, user_id, read_only, return_url, \
         next_path, minted_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token_hash(&token))
    .bind(tenant_id)
    .bind(user_id)
    .bind(i64::from(input.read_only))
    .bind(&input.return_url)
    .bind(next)
    .bind(&call.actor.audit_name)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM portal_links WHERE expires_at < $1")
        .bind(now - KEEP_MS)
        .execute(&mut *tx)
        .await?;
    let details = json!({
        "user": input.external_user_id,
        "read_only": input.read_only,
        "ttl_seconds": ttl,
        "next": next,
        "return_url": input.return_url,
    });
    let event = Event::user(
        Some(tenant_id),
        AuditAction::PortalLinkCreated,
        user_id,
        details,
    );
    audit::record(&mut tx, now, &call.actor, event).await?;
    tx.commit().await?;
    Ok(Minted { token, expires_at })
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    tenant_id: i64,
    user_id: i64,
    read_only: i64,
    return_url: Option<String>,
    next_path: Option<String>,
    minted_by: String,
}

#[derive(sqlx::FromRow)]
struct SpentRow {
    tenant_id: i64,
    user_id: i64,
    used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    email: String,
    name: String,
}

/// Redeems a link from `ip`: spends it and opens its session in one transaction. Every refusal
/// is audited with its reason and answers the same `NotFound`. The caller spends the address's
/// sign-in budget first.
pub async fn redeem(
    db: &Db,
    settings: &crate::Settings,
    token: &str,
    ip: IpAddr,
    user_agent: &str,
) -> AppResult<Redeemed> {
    let user_agent: String = user_agent.chars().take(USER_AGENT_MAX).collect();
    if !portal::is_token(token) {
        return refuse(db, None, Refusal::Unknown, ip, &user_agent).await;
    }
    let hash = token_hash(token);
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    // The spend comes first: a write, so SQLite takes its lock before any read, and of two
    // racing redemptions exactly one gets the row.
    let link = sqlx::query_as::<_, LinkRow>(
        "UPDATE portal_links SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING tenant_id, user_id, read_only, return_url, next_path, minted_by",
    )
    .bind(now)
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(link) = link else {
        let spent = sqlx::query_as::<_, SpentRow>(
            "SELECT tenant_id, user_id, used_at FROM portal_links WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        tx.rollback().await?;
        return match spent {
            None => refuse(db, None, Refusal::Unknown, ip, &user_agent).await,
            Some(s) => {
                let why = if s.used_at.is_some() {
                    Refusal::Used
                } else {
                    Refusal::Expired
                };
                refuse(db, Some((s.tenant_id, s.user_id)), why, ip, &user_agent).await
            }
        };
    };
    let person = sqlx::query_as::<_, PersonRow>(
        "SELECT u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id \
         JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2 AND t.status <> 'deleted'",
    )
    .bind(link.tenant_id)
    .bind(link.user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(person) = person else {
        // The link stays spent.
        tx.commit().await?;
        let who = Some((link.tenant_id, link.user_id));
        return refuse(db, who, Refusal::NotAMember, ip, &user_agent).await;
    };
    let session_token = format!(
        "{}{}",
        crate::auth::PORTAL_SESSION_PREFIX,
        random_base62(43)
    );
    let millis = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let ttl = millis(settings.portal.session_ttl);
    let idle = millis(settings.portal.session_idle);
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, tenant_id, created_at, expires_at, \
         last_seen_at, portal, read_only, idle_ms, return_url) \
         VALUES ($1, $2, $3, $4, $5, $4, 1, $6, $7, $8)",
    )
    .bind(token_hash(&session_token))
    .bind(link.user_id)
    .bind(link.tenant_id)
    .bind(now)
    .bind(now.saturating_add(ttl))
    .bind(link.read_only)
    .bind(idle)
    .bind(&link.return_url)
    .execute(&mut *tx)
    .await?;
    // Sessions past their lifetime or idle window go here too: with password sign-in off,
    // nothing else would sweep them.
    sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $1 - COALESCE(idle_ms, $2)",
    )
    .bind(now)
    .bind(millis(settings.session_idle))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(now)
        .bind(link.user_id)
        .execute(&mut *tx)
        .await?;
    let details = json!({
        "method": "portal_link",
        "minted_by": link.minted_by,
        "read_only": link.read_only != 0,
        "user_agent": user_agent,
    });
    let actor = Actor::user(link.user_id, &person.name, &person.email, Some(ip));
    let event = Event::user(
        Some(link.tenant_id),
        AuditAction::SignedIn,
        link.user_id,
        details,
    );
    audit::record(&mut tx, now, &actor, event).await?;
    tx.commit().await?;
    tracing::info!(user_id = link.user_id, tenant_id = link.tenant_id, %ip, "portal link redeemed");
    Ok(Redeemed {
        session_token,
        next: link
            .next_path
            .unwrap_or_else(|| portal::DEFAULT_NEXT.to_owned()),
    })
}

/// Audits a refused redemption (in the link's tenant when it is known, else outside any) and
/// answers the one error every refusal shares.
async fn refuse(
    db: &Db,
    link: Option<(i64, i64)>,
    why: Refusal,
    ip: IpAddr,
    user_agent: &str,
) -> AppResult<Redeemed> {
    tracing::info!(%ip, reason = why.as_str(), "portal link refused");
    let details = json!({ "reason": why.as_str(), "user_agent": user_agent });
    let event = match link {
        Some((tenant_id, user_id)) => Event::user(
            Some(tenant_id),
            AuditAction::PortalLinkRefused,
            user_id,
            details,
        ),
        None => Event {
            tenant_id: None,
            action: AuditAction::PortalLinkRefused,
            target_type: None,
            target_id: None,
            details,
        },
    };
    audit::record_now(db, &Actor::anonymous(ip), event).await?;
    Err(AppError::NotFound)
}

/// Ends the tenant's portal sessions at once (one user's when `external_user_id` is given).
/// Every replica reads sessions from storage on each request, so they end everywhere. Returns
/// how many ended.
pub async fn expire_sessions(
    db: &Db,
    tenant_id: i64,
    external_user_id: Option<&str>,
    call: &Call,
) -> AppResult<u64> {
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    let ended = match external_user_id {
        None => sqlx::query("DELETE FROM sessions WHERE portal = 1 AND tenant_id = $1")
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        Some(user) => sqlx::query(
            "DELETE FROM sessions WHERE portal = 1 AND tenant_id = $1 \
             AND user_id IN (SELECT id FROM users WHERE external_id = $2)",
        )
        .bind(tenant_id)
        .bind(user)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    let details = json!({ "user": external_user_id, "sessions": ended });
    let event = Event::tenant(tenant_id, AuditAction::PortalSessionsExpired, details);
    audit::record(&mut tx, now, &call.actor, event).await?;
    tx.commit().await?;
    Ok(ended)
}
