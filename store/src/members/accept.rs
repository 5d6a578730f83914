//! Accepting an invitation: as a new account, or as a signed-in person (also one who belongs to
//! no organisation). The link is single-use, and it is only as good as its inviter: accepting
//! re-checks that the inviter is still a member whose role may grant the invitation's role.
//! An account made through a link that was shown (not mailed) stays unverified.

use super::lock_tenant;
use crate::audit::{record, Actor, AuditAction, Event};
use crate::auth::{check_new_user, create_session, insert_user, token_hash};
use crate::auth::{Person, SessionPolicy};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::members::may_grant;
use latchkey_domain::views::InvitationState;
use latchkey_domain::{Action, Plan, Role};

pub(super) const GONE: &str = "This invitation can't be used: it was already accepted, withdrawn, or it expired. Ask for a new one.";

const INVITER_GONE: &str = "The person who invited you can no longer invite people to this role. Ask for a new invitation.";

const UNVERIFIED: &str = "Your account's email address isn't confirmed, so it can't join another organisation through a link that wasn't mailed to you. Ask for the invitation to be sent by email.";

#[derive(sqlx::FromRow)]
struct Pending {
    tenant_id: i64,
    role: String,
    email: String,
    invited_by_user: Option<i64>,
    mailed_at: Option<i64>,
}

/// What `consume` did.
pub(super) struct Consumed {
    pub tenant_id: i64,
    /// Whether the invitation went by mail (following it proves the mailbox).
    pub mailed: bool,
}

/// The inviter may still grant `role` in the tenant: still a member, with a role and plan that
/// may manage members, and a role that may give this one (the domain's rules, as at invite).
async fn inviter_may_still_grant(
    tx: &mut sqlx::AnyConnection,
    tenant_id: i64,
    inviter: i64,
    role: Role,
) -> AppResult<bool> {
    #[derive(sqlx::FromRow)]
    struct Now {
        role: String,
        plan: String,
    }
    let now = sqlx::query_as::<_, Now>(
        "SELECT m.role, t.plan FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant_id)
    .bind(inviter)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(now) = now else { return Ok(false) };
    let (theirs, plan): (Role, Plan) = (
        now.role.parse().map_err(AppError::internal)?,
        now.plan.parse().map_err(AppError::internal)?,
    );
    Ok(Action::ManageMembers.check(theirs, plan).is_ok() && may_grant(theirs, role).is_ok())
}

/// Marks the invitation used by `user_id` and adds the membership, in `tx`; refused unless it
/// is still pending (this is what makes the link single-use, also under concurrent accepts) and
/// its inviter may still grant its role. The tenant is locked first, so a demotion that
/// withdraws the inviter's invitations cannot pass an accept mid-way.
pub(super) async fn consume(
    tx: &mut sqlx::AnyConnection,
    token: &str,
    user_id: i64,
    now: i64,
) -> AppResult<Consumed> {
    let hash = token_hash(token);
    let inv = sqlx::query_as::<_, Pending>(
        "SELECT tenant_id, role, email, invited_by_user, mailed_at FROM invitations \
         WHERE token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict(GONE.to_owned()))?;
    lock_tenant(tx, inv.tenant_id).await?;
    let role: Role = inv.role.parse().map_err(AppError::internal)?;
    if let Some(inviter) = inv.invited_by_user {
        if !inviter_may_still_grant(tx, inv.tenant_id, inviter, role).await? {
            return Err(AppError::Conflict(INVITER_GONE.to_owned()));
        }
    }
    let used = sqlx::query(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE token_hash = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(user_id)
    .bind(&hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if used != 1 {
        return Err(AppError::Conflict(GONE.to_owned()));
    }
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(inv.tenant_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|_| AppError::Conflict("You are already a member of this organisation.".into()))?;
    let details = serde_json::json!({ "email": inv.email, "role": role.as_str() });
    let event = Event::user(
        Some(inv.tenant_id),
        AuditAction::MemberJoined,
        user_id,
        details,
    );
    let actor = Actor::user(user_id, &inv.email, &inv.email, None);
    record(tx, now, &actor, event).await?;
    Ok(Consumed {
        tenant_id: inv.tenant_id,
        mailed: inv.mailed_at.is_some(),
    })
}

/// Whether the invitation behind `token` was mailed (NULL until `deliver_invitation` sent it).
async fn was_mailed(db: &Db, token: &str) -> AppResult<bool> {
    Ok(sqlx::query_scalar::<_, Option<i64>>(
        "SELECT mailed_at FROM invitations WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&db.pool)
    .await?
    .flatten()
    .is_some())
}

/// A person without an account accepts: their account is made with the invitation's email, and
/// they are signed in. Returns the session token. The account is verified only if the link came
/// by mail: a link shown to the inviter proves nothing about who reads that mailbox.
pub async fn accept_new(
    db: &Db,
    policy: SessionPolicy,
    token: &str,
    name: &str,
    password: String,
) -> AppResult<String> {
    let inv = super::invites::lookup(db, token)
        .await
        .map_err(|_| AppError::Conflict(GONE.to_owned()))?;
    if inv.state != InvitationState::Pending {
        return Err(AppError::Conflict(GONE.to_owned()));
    }
    if crate::auth::user_id_by_email(db, &inv.email)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "There is already an account for {}. Sign in as them, then open the link again.",
            inv.email
        )));
    }
    check_new_user(&inv.email, name, &password)?;
    let mailed = was_mailed(db, token).await?;
    let hash = db.hasher.hash(password).await?;
    let mut tx = db.pool.begin().await?;
    let user_id = insert_user(&mut tx, &inv.email, name, &hash, mailed).await?;
    let used = consume(&mut tx, token, user_id, db.clock.now_ms()).await?;
    tx.commit().await?;
    create_session(db, user_id, Some(used.tenant_id), policy).await
}

/// A signed-in person whose email is the invitation's joins, also one who belongs to no
/// organisation (yet, or any more); their session moves to the tenant. An unverified account
/// may join only through a mailed link, which then verifies it.
pub async fn accept_signed_in(
    db: &Db,
    person: &Person,
    session_token: &str,
    token: &str,
) -> AppResult<i64> {
    let inv = super::invites::lookup(db, token)
        .await
        .map_err(|_| AppError::Conflict(GONE.to_owned()))?;
    if inv.email != person.email.to_lowercase() {
        return Err(AppError::Conflict(format!(
            "This invitation is for {}. Sign in as them to accept it.",
            inv.email
        )));
    }
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    // The write lock first (SQLite cannot upgrade a read snapshot once another writer has
    // committed); `consume` takes the same row lock again, harmlessly.
    sqlx::query(
        "UPDATE tenants SET key_seq = key_seq \
         WHERE id = (SELECT tenant_id FROM invitations WHERE token_hash = $1)",
    )
    .bind(token_hash(token))
    .execute(&mut *tx)
    .await?;
    let used = consume(&mut tx, token, person.user_id, now).await?;
    let verified =
        sqlx::query_scalar::<_, Option<i64>>("SELECT email_verified_at FROM users WHERE id = $1")
            .bind(person.user_id)
            .fetch_one(&mut *tx)
            .await?
            .is_some();
    if !verified {
        if !used.mailed {
            return Err(AppError::Conflict(UNVERIFIED.to_owned()));
        }
        sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2")
            .bind(now)
            .bind(person.user_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE sessions SET tenant_id = $1 WHERE token_hash = $2")
        .bind(used.tenant_id)
        .bind(token_hash(session_token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(used.tenant_id)
}

/// Withdraws, in `tx`, the pending invitations `inviter` sent in the tenant that their role
/// now (`now_role`, `None` once removed) may not grant. Returns how many.
pub(super) async fn withdraw_sent_by(
    tx: &mut sqlx::AnyConnection,
    tenant_id: i64,
    inviter: i64,
    now_role: Option<Role>,
    actor: &Actor,
    now: i64,
) -> AppResult<usize> {
    #[derive(sqlx::FromRow)]
    struct Sent {
        id: i64,
        email: String,
        role: String,
    }
    let sent = sqlx::query_as::<_, Sent>(
        "SELECT id, email, role FROM invitations WHERE tenant_id = $1 AND invited_by_user = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(tenant_id)
    .bind(inviter)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut withdrawn = 0;
    for inv in sent {
        let role: Role = inv.role.parse().map_err(AppError::internal)?;
        if now_role.is_some_and(|r| may_grant(r, role).is_ok()) {
            continue;
        }
        sqlx::query("UPDATE invitations SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(inv.id)
            .execute(&mut *tx)
            .await?;
        let reason = if now_role.is_some() {
            "inviter_demoted"
        } else {
            "inviter_removed"
        };
        let details =
            serde_json::json!({ "email": inv.email, "role": role.as_str(), "reason": reason });
        let event = Event {
            tenant_id: Some(tenant_id),
            action: AuditAction::InvitationRevoked,
            target_type: Some("invitation"),
            target_id: Some(inv.id.to_string()),
            details,
        };
        record(tx, now, actor, event).await?;
        withdrawn += 1;
    }
    Ok(withdrawn)
}
