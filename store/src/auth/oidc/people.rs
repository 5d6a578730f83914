//! Who a verified ID token is here. People are keyed by (issuer, subject), never by email
//! alone: a first sign-in links to an existing account only through an email both the provider
//! and Latchkey verified, on an account that already has a membership, or (with
//! `--oidc-tenant-claim`) joins the tenant the claim names. Anyone else gets "no membership",
//! and nothing is created for them.

use super::{Claims, Finish, Oidc};
use crate::audit::{self, Actor, AuditAction, Event};
use crate::auth::{create_session, first_tenant_of, validate_email};
use crate::auth::{end_session, SessionPolicy};
use crate::db::Db;
use latchkey_domain::error::AppResult;
use latchkey_domain::operator::TenantStatus;
use latchkey_domain::Role;
use serde_json::json;
use sqlx::AnyConnection;
use std::net::IpAddr;

/// Signs the person in, or says they belong nowhere. `known` is the user their (issuer,
/// subject) is already linked to.
pub(super) async fn sign_in(
    db: &Db,
    oidc: &Oidc,
    policy: SessionPolicy,
    claims: &Claims,
    known: Option<i64>,
    ip: IpAddr,
    replaces: Option<&str>,
) -> AppResult<Finish> {
    let issuer = claims.issuer.as_str();
    let verified_email = claims.verified_email();
    let found = match known {
        Some(user_id) => Some((user_id, None)),
        None => match link_by_email(db, claims, verified_email.as_deref(), ip).await? {
            Some(user_id) => Some((user_id, None)),
            None => join_claimed_tenant(db, oidc, claims, verified_email.as_deref(), ip).await?,
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
    let (name, stored_email) = name_and_email(&db.pool, user_id).await?;
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

/// The user (issuer, subject) is linked to.
pub(super) async fn identity(db: &Db, issuer: &str, subject: &str) -> AppResult<Option<i64>> {
    let mut conn = db.pool.acquire().await?;
    identity_in(&mut conn, issuer, subject).await
}

async fn identity_in(
    conn: &mut AnyConnection,
    issuer: &str,
    subject: &str,
) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Audits, in `tx`, that (issuer, subject) now signs in as the user.
async fn audit_link(
    tx: &mut AnyConnection,
    db: &Db,
    claims: &Claims,
    user_id: i64,
    tenant_id: Option<i64>,
    ip: IpAddr,
) -> AppResult<()> {
    let (name, stored_email) = name_and_email(&mut *tx, user_id).await?;
    let event = Event::user(
        tenant_id,
        AuditAction::SsoLinked,
        user_id,
        json!({ "issuer": claims.issuer, "subject": claims.subject }),
    );
    let actor = Actor::user(user_id, &name, &stored_email, Some(ip));
    audit::record(tx, db.clock.now_ms(), &actor, event).await
}

/// Links to the account with this email, if Latchkey verified that email itself and the account
/// has a membership. An unverified account may be anyone's: an invitation link shown to the
/// inviter and accepted by them makes one for an address they do not own.
async fn link_by_email(
    db: &Db,
    claims: &Claims,
    verified_email: Option<&str>,
    ip: IpAddr,
) -> AppResult<Option<i64>> {
    let Some(email) = verified_email else {
        return Ok(None);
    };
    let mut tx = db.pool.begin().await?;
    // One statement, and a write first (SQLite cannot upgrade a read once another writer
    // committed); a concurrent first sign-in that linked first makes it a no-op.
    let linked = sqlx::query_scalar::<_, i64>(
        "INSERT INTO user_identities (issuer, subject, user_id, email, created_at) \
         SELECT $1, $2, u.id, $3, $4 FROM users u WHERE u.email = $3 \
         AND u.email_verified_at IS NOT NULL \
         AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id) \
         ON CONFLICT (issuer, subject) DO NOTHING RETURNING user_id",
    )
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .bind(email)
    .bind(db.clock.now_ms())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = linked else {
        // Nobody to link, or the concurrent sign-in's link.
        return identity_in(&mut tx, &claims.issuer, &claims.subject).await;
    };
    let tenant = sqlx::query_scalar::<_, i64>(
        "SELECT t.id FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY t.name LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    audit_link(&mut tx, db, claims, user_id, tenant, ip).await?;
    tx.commit().await?;
    Ok(Some(user_id))
}

/// With `--oidc-tenant-claim`: the tenant whose external id the claim names (not deleted), the
/// role from `--oidc-role-claim` (member when absent or unknown), for a verified email only.
/// Returns the user and the tenant joined.
async fn join_claimed_tenant(
    db: &Db,
    oidc: &Oidc,
    claims: &Claims,
    verified_email: Option<&str>,
    ip: IpAddr,
) -> AppResult<Option<(i64, Option<i64>)>> {
    let settings = oidc.settings();
    let (Some(claim), Some(email)) = (settings.tenant_claim.as_deref(), verified_email) else {
        return Ok(None);
    };
    let Some(external_id) = claims.text(claim) else {
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
        .and_then(|c| claims.text(c))
        .and_then(|r| r.parse::<Role>().ok())
        .unwrap_or(Role::Member);
    let name = claims
        .text("name")
        .filter(|n| latchkey_domain::operator::check_label(n).is_ok())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("SSO user"))
        .to_owned();
    let joining = Joining {
        tenant_id: tenant.id,
        email: &email,
        name: &name,
        role,
    };
    match join(db, claims, &joining, ip).await {
        Ok(joined) => Ok(joined),
        // A concurrent first sign-in of the same person (a unique violation) made the identity:
        // sign in as it. Any other failure left nothing behind.
        Err(e) => match identity(db, &claims.issuer, &claims.subject).await? {
            Some(user_id) => Ok(Some((user_id, None))),
            None => Err(e),
        },
    }
}

struct Joining<'a> {
    tenant_id: i64,
    email: &'a str,
    name: &'a str,
    role: Role,
}

/// The user (made if new), their membership and their identity, in one transaction.
async fn join(
    db: &Db,
    claims: &Claims,
    j: &Joining<'_>,
    ip: IpAddr,
) -> AppResult<Option<(i64, Option<i64>)>> {
    let mut tx = db.pool.begin().await?;
    // The write lock first (SQLite cannot upgrade a read once another writer committed), and
    // the tenant's membership changes one at a time: a concurrent first sign-in of the same
    // person waits here and then finds what this one made.
    crate::operator::lock_tenant(&mut tx, j.tenant_id).await?;
    if let Some(user_id) = identity_in(&mut tx, &claims.issuer, &claims.subject).await? {
        return Ok(Some((user_id, None)));
    }
    let existing = sqlx::query_as::<_, (i64, Option<i64>)>(
        "SELECT id, email_verified_at FROM users WHERE email = $1",
    )
    .bind(j.email)
    .fetch_optional(&mut *tx)
    .await?;
    let user_id = match existing {
        Some((id, Some(_))) => id,
        // Latchkey never verified that this account's owner holds the address.
        Some((_, None)) => return Ok(None),
        // The provider vouched for the address (`email_verified`).
        None => {
            let no_password = crate::operator::members::NO_PASSWORD;
            crate::auth::insert_user(&mut tx, j.email, j.name, no_password, true).await?
        }
    };
    let member = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM memberships WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(j.tenant_id)
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    let now = db.clock.now_ms();
    if member == 0 {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(j.tenant_id)
        .bind(user_id)
        .bind(j.role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = Event::user(
            Some(j.tenant_id),
            AuditAction::MemberAdded,
            user_id,
            json!({ "email": j.email, "role": j.role.as_str() }),
        );
        let actor = Actor::named(&format!("oidc:{}", claims.issuer));
        audit::record(&mut tx, now, &actor, event).await?;
    }
    sqlx::query(
        "INSERT INTO user_identities (issuer, subject, user_id, email, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .bind(user_id)
    .bind(j.email)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit_link(&mut tx, db, claims, user_id, Some(j.tenant_id), ip).await?;
    tx.commit().await?;
    Ok(Some((user_id, Some(j.tenant_id))))
}

async fn name_and_email<'e, E>(conn: E, user_id: i64) -> AppResult<(String, String)>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_as::<_, (String, String)>("SELECT name, email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(conn)
            .await?,
    )
}
