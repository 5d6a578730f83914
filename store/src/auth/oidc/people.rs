//! Who a verified ID token is here. People are keyed by (issuer, subject), never by email
//! alone: a first sign-in links to an existing account only through a verified email that
//! already has a membership, or (with `--oidc-tenant-claim`) joins the tenant the claim names.
//! Anyone else gets "no membership", and nothing is created for them.

use super::{Finish, Oidc};
use crate::audit::{self, Actor, AuditAction, Event};
use crate::auth::{create_session, first_tenant_of, normalise_email, validate_email};
use crate::auth::{end_session, SessionPolicy};
use crate::db::Db;
use latchkey_domain::error::AppResult;
use latchkey_domain::operator::TenantStatus;
use latchkey_domain::Role;
use openidconnect::core::CoreIdTokenClaims;
use serde_json::json;
use std::net::IpAddr;

/// Signs the token's person in, or says they belong nowhere.
pub(super) async fn sign_in(
    db: &Db,
    oidc: &Oidc,
    policy: SessionPolicy,
    claims: &CoreIdTokenClaims,
    raw: &serde_json::Value,
    ip: IpAddr,
    replaces: Option<&str>,
) -> AppResult<Finish> {
    let issuer = claims.issuer().as_str();
    let subject = claims.subject().as_str();
    let email = claims.email().map(|e| normalise_email(e.as_str()));
    let verified = claims.email_verified() == Some(true);
    let verified_email = email.as_deref().filter(|_| verified);
    let found = match identity(db, issuer, subject).await? {
        Some(user_id) => Some((user_id, None)),
        None => match link_by_email(db, issuer, subject, verified_email, ip).await? {
            Some(user_id) => Some((user_id, None)),
            None => join_claimed_tenant(db, oidc, issuer, subject, verified_email, raw, ip).await?,
        },
    };
    let Some((user_id, claimed_tenant)) = found else {
        tracing::info!(%ip, issuer, "single sign-on: no membership");
        return Ok(Finish::NoMembership);
    };
    let Some(tenant_id) = claimed_tenant.or(first_tenant_of(db, user_id).await?) else {
        // A known identity whose memberships were all removed since.
        tracing::info!(%ip, user_id, "single sign-on: no membership");
        return Ok(Finish::NoMembership);
    };
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(db.clock.now_ms())
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    let token = create_session(db, user_id, Some(tenant_id), policy).await?;
    if let Some(old) = replaces {
        end_session(db, old).await?;
    }
    let (name, stored_email) = name_and_email(db, user_id).await?;
    let actor = Actor::user(user_id, &name, &stored_email, Some(ip));
    let event = Event::user(
        Some(tenant_id),
        AuditAction::SignedIn,
        user_id,
        json!({ "method": "oidc" }),
    );
    audit::record_now(db, &actor, event).await?;
    tracing::info!(user_id, %ip, "signed in with single sign-on");
    Ok(Finish::SignedIn(token))
}

async fn identity(db: &Db, issuer: &str, subject: &str) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(&db.pool)
    .await?)
}

/// Records (issuer, subject) for the user (a concurrent first sign-in may have done it) and
/// audits the link in the user's first tenant. Returns the user the identity belongs to.
async fn link(
    db: &Db,
    issuer: &str,
    subject: &str,
    user_id: i64,
    email: &str,
    ip: IpAddr,
) -> AppResult<i64> {
    let inserted = sqlx::query(
        "INSERT INTO user_identities (issuer, subject, user_id, email, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (issuer, subject) DO NOTHING",
    )
    .bind(issuer)
    .bind(subject)
    .bind(user_id)
    .bind(email)
    .bind(db.clock.now_ms())
    .execute(&db.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(identity(db, issuer, subject).await?.unwrap_or(user_id));
    }
    let (name, stored_email) = name_and_email(db, user_id).await?;
    let event = Event::user(
        first_tenant_of(db, user_id).await?,
        AuditAction::SsoLinked,
        user_id,
        json!({ "issuer": issuer, "subject": subject }),
    );
    audit::record_now(
        db,
        &Actor::user(user_id, &name, &stored_email, Some(ip)),
        event,
    )
    .await?;
    Ok(user_id)
}

/// An existing account with this verified email and at least one membership.
async fn link_by_email(
    db: &Db,
    issuer: &str,
    subject: &str,
    verified_email: Option<&str>,
    ip: IpAddr,
) -> AppResult<Option<i64>> {
    let Some(email) = verified_email else {
        return Ok(None);
    };
    let user = sqlx::query_scalar::<_, i64>(
        "SELECT u.id FROM users u WHERE u.email = $1 \
         AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)",
    )
    .bind(email)
    .fetch_optional(&db.pool)
    .await?;
    match user {
        Some(user_id) => Ok(Some(link(db, issuer, subject, user_id, email, ip).await?)),
        None => Ok(None),
    }
}

/// With `--oidc-tenant-claim`: the tenant whose external id the claim names (not deleted), the
/// role from `--oidc-role-claim` (member when absent or unknown), for a verified email only.
async fn join_claimed_tenant(
    db: &Db,
    oidc: &Oidc,
    issuer: &str,
    subject: &str,
    verified_email: Option<&str>,
    raw: &serde_json::Value,
    ip: IpAddr,
) -> AppResult<Option<(i64, Option<i64>)>> {
    let settings = oidc.settings();
    let (Some(claim), Some(email)) = (settings.tenant_claim.as_deref(), verified_email) else {
        return Ok(None);
    };
    let Some(external_id) = raw.get(claim).and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let tenant = match crate::operator::tenants::by_external_id(db, external_id).await {
        Ok(t) if t.status != TenantStatus::Deleted => t,
        Ok(_) | Err(latchkey_domain::error::AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Ok(email) = validate_email(email) else {
        return Ok(None);
    };
    let role = settings
        .role_claim
        .as_deref()
        .and_then(|c| raw.get(c))
        .and_then(|v| v.as_str())
        .and_then(|r| r.parse::<Role>().ok())
        .unwrap_or(Role::Member);
    let user_id = match crate::auth::user_id_by_email(db, &email).await? {
        Some(id) => id,
        None => {
            let name = raw
                .get("name")
                .and_then(|v| v.as_str())
                .filter(|n| latchkey_domain::operator::check_label(n).is_ok())
                .unwrap_or_else(|| email.split('@').next().unwrap_or("SSO user"))
                .to_owned();
            let mut conn = db.pool.acquire().await?;
            // The provider vouched for the address (`email_verified`).
            crate::auth::insert_user(
                &mut conn,
                &email,
                &name,
                crate::operator::members::NO_PASSWORD,
                true,
            )
            .await?
        }
    };
    let actor = Actor::named(&format!("oidc:{issuer}"));
    crate::tenants::add_member(db, tenant.id, user_id, role, &actor).await?;
    let user_id = link(db, issuer, subject, user_id, &email, ip).await?;
    Ok(Some((user_id, Some(tenant.id))))
}

async fn name_and_email(db: &Db, user_id: i64) -> AppResult<(String, String)> {
    Ok(
        sqlx::query_as::<_, (String, String)>("SELECT name, email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&db.pool)
            .await?,
    )
}
