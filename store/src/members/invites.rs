//! Invitations: a single-use link (only its SHA-256 is stored), valid 7 days, revocable, for
//! one email and role, at most [`MAX_PER_DAY`] a day per tenant. Accepting (`super::accept`)
//! makes a new account or adds a signed-in person with that email.

use super::{lock_tenant, refused, Manager};
use crate::audit::{record, Actor, AuditAction, Event};
use crate::auth::{token_hash, validate_email};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::members::may_grant;
use latchkey_domain::views::{InvitationState, InvitationView};
use latchkey_domain::Role;

pub const VALID_DAYS: i64 = 7;
/// Pending invitations a tenant may have at once.
pub const MAX_PENDING: i64 = 200;
/// Invitations a tenant may send in any 24 hours (each may mail a stranger).
pub const MAX_PER_DAY: i64 = 50;

pub use super::accept::{accept_new, accept_signed_in};

/// The plaintext invitation token: shown (or mailed) once, stored only as its SHA-256.
pub struct InviteToken(String);

impl InviteToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: i64,
    tenant_id: i64,
    tenant_name: String,
    email: String,
    role: String,
    invited_by: String,
    created_at: i64,
    expires_at: i64,
    accepted_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl InvitationRow {
    fn view(self, now: i64) -> AppResult<InvitationView> {
        let state = match (self.accepted_at, self.revoked_at) {
            (Some(_), _) => InvitationState::Accepted,
            (None, Some(_)) => InvitationState::Revoked,
            (None, None) if self.expires_at <= now => InvitationState::Expired,
            (None, None) => InvitationState::Pending,
        };
        Ok(InvitationView {
            id: self.id,
            tenant_name: self.tenant_name,
            email: self.email,
            role: self.role.parse().map_err(AppError::internal)?,
            invited_by: self.invited_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            state,
        })
    }
}

const SELECT: &str =
    "SELECT i.id, i.tenant_id, t.name AS tenant_name, i.email, i.role, i.invited_by, \
     i.created_at, i.expires_at, i.accepted_at, i.revoked_at \
     FROM invitations i JOIN tenants t ON t.id = i.tenant_id";

/// Invites `email` as `role`, its link to be shown to the inviter. See [`invite_to`].
pub async fn invite(
    db: &Db,
    tenant_id: i64,
    by: Manager,
    actor: &Actor,
    email: &str,
    role: Role,
) -> AppResult<(InvitationView, InviteToken)> {
    invite_to(db, tenant_id, by, actor, email, role, false).await
}

/// Invites `email` as `role`. Refused for a role the inviter may not grant, a person already a
/// member, an invitation already pending for that email, past [`MAX_PENDING`] or
/// [`MAX_PER_DAY`], and for an unverified account unless the link will be mailed (`by_mail`):
/// only following a mailed link shows the account's holder reads that mailbox.
pub async fn invite_to(
    db: &Db,
    tenant_id: i64,
    by: Manager,
    actor: &Actor,
    email: &str,
    role: Role,
    by_mail: bool,
) -> AppResult<(InvitationView, InviteToken)> {
    let email = validate_email(email)?;
    if let Manager::Role(r) = by {
        may_grant(r, role).map_err(refused)?;
    }
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    lock_tenant(&mut tx, tenant_id).await?;
    let member = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND u.email = $2",
    )
    .bind(tenant_id)
    .bind(&email)
    .fetch_one(&mut *tx)
    .await?;
    if member > 0 {
        return Err(AppError::field(
            "email",
            format!("{email} is already a member."),
        ));
    }
    let unverified = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM users WHERE email = $1 AND email_verified_at IS NULL",
    )
    .bind(&email)
    .fetch_one(&mut *tx)
    .await?;
    if unverified > 0 && !by_mail {
        return Err(AppError::field(
            "email",
            format!(
                "The account for {email} hasn't confirmed its email address, so it can't be \
                 added to another organisation until an invitation can be mailed to it."
            ),
        ));
    }
    let today = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM invitations WHERE tenant_id = $1 AND created_at > $2",
    )
    .bind(tenant_id)
    .bind(now - 86_400_000)
    .fetch_one(&mut *tx)
    .await?;
    if today >= MAX_PER_DAY {
        return Err(AppError::field(
            "email",
            format!("Too many invitations today: at most {MAX_PER_DAY} a day. Try again tomorrow."),
        ));
    }
    let pending = |extra: &str| {
        format!(
            "SELECT COUNT(*) FROM invitations WHERE tenant_id = $1 AND accepted_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $2{extra}"
        )
    };
    let same = sqlx::query_scalar::<_, i64>(&pending(" AND email = $3"))
        .bind(tenant_id)
        .bind(now)
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?;
    if same > 0 {
        return Err(AppError::field(
            "email",
            format!("{email} already has a pending invitation. Withdraw it to send a new one."),
        ));
    }
    let all = sqlx::query_scalar::<_, i64>(&pending(""))
        .bind(tenant_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    if all >= MAX_PENDING {
        return Err(AppError::Conflict(format!(
            "There are already {MAX_PENDING} pending invitations. Withdraw some first."
        )));
    }
    let token = InviteToken(format!("lki_{}", latchkey_domain::keys::random_base62(40)));
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO invitations (tenant_id, email, role, token_hash, invited_by, invited_by_user, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(tenant_id)
    .bind(&email)
    .bind(role.as_str())
    .bind(token_hash(token.expose()))
    .bind(&actor.display)
    .bind(actor.user_id)
    .bind(now)
    .bind(now + VALID_DAYS * 86_400_000)
    .fetch_one(&mut *tx)
    .await?;
    let details = serde_json::json!({ "email": email, "role": role.as_str() });
    let event = Event {
        tenant_id: Some(tenant_id),
        action: AuditAction::MemberInvited,
        target_type: Some("invitation"),
        target_id: Some(id.to_string()),
        details,
    };
    record(&mut tx, now, actor, event).await?;
    tx.commit().await?;
    tracing::info!(tenant_id, invitation = id, "member invited");
    let view = one(db, &format!("{SELECT} WHERE i.id = $1"), Key::Id(id)).await?;
    Ok((view, token))
}

enum Key<'a> {
    Id(i64),
    Hash(&'a str),
}

async fn one(db: &Db, sql: &str, key: Key<'_>) -> AppResult<InvitationView> {
    let q = sqlx::query_as::<_, InvitationRow>(sql);
    let q = match key {
        Key::Id(id) => q.bind(id),
        Key::Hash(h) => q.bind(h.to_owned()),
    };
    q.fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?
        .view(db.clock.now_ms())
}

/// The tenant's pending invitations, newest first.
pub async fn pending(db: &Db, tenant_id: i64) -> AppResult<Vec<InvitationView>> {
    let now = db.clock.now_ms();
    sqlx::query_as::<_, InvitationRow>(&format!(
        "{SELECT} WHERE i.tenant_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
         AND i.expires_at > $2 ORDER BY i.id DESC LIMIT {MAX_PENDING}"
    ))
    .bind(tenant_id)
    .bind(now)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| r.view(now))
    .collect()
}

/// Withdraws a pending invitation (an admin may not withdraw an owner's).
pub async fn revoke(db: &Db, tenant_id: i64, by: Manager, actor: &Actor, id: i64) -> AppResult<()> {
    let row = sqlx::query_as::<_, InvitationRow>(&format!("{SELECT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .filter(|r| r.tenant_id == tenant_id)
        .ok_or(AppError::NotFound)?;
    let inv = row.view(db.clock.now_ms())?;
    if let Manager::Role(r) = by {
        may_grant(r, inv.role).map_err(refused)?;
    }
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    let n = sqlx::query(
        "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        let details = serde_json::json!({ "email": inv.email, "role": inv.role.as_str() });
        let event = Event {
            tenant_id: Some(tenant_id),
            action: AuditAction::InvitationRevoked,
            target_type: Some("invitation"),
            target_id: Some(id.to_string()),
            details,
        };
        record(&mut tx, now, actor, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What a link stands for (the accept page), whatever its state; `NotFound` for no such link.
pub async fn lookup(db: &Db, token: &str) -> AppResult<InvitationView> {
    let hash = token_hash(token);
    one(
        db,
        &format!("{SELECT} WHERE i.token_hash = $1"),
        Key::Hash(&hash),
    )
    .await
}
