//! Invitations: a single-use link (only its SHA-256 is stored), valid 7 days, revocable, for
//! one email and role. Accepting makes a new account or adds a signed-in person with that email.

use super::{lock_tenant, refused, Manager};
use crate::audit::{record, Actor, AuditAction, Event};
use crate::auth::{check_new_user, create_session, hash_password, insert_user, token_hash};
use crate::auth::{validate_email, Session, SessionPolicy};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::members::may_grant;
use latchkey_domain::views::{InvitationState, InvitationView};
use latchkey_domain::Role;

pub const VALID_DAYS: i64 = 7;
/// Pending invitations a tenant may have at once.
pub const MAX_PENDING: i64 = 200;

const GONE: &str = "This invitation can't be used: it was already accepted, withdrawn, or it expired. Ask for a new one.";

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

/// Invites `email` as `role`. Refused for a role the inviter may not grant, a person already a
/// member, an invitation already pending for that email, or past [`MAX_PENDING`].
pub async fn invite(
    db: &Db,
    tenant_id: i64,
    by: Manager,
    actor: &Actor,
    email: &str,
    role: Role,
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

/// Marks the invitation used by `user_id` and adds the membership, in `tx`; refused unless it
/// is still pending (this is what makes the link single-use, also under concurrent accepts).
async fn consume(
    tx: &mut sqlx::AnyConnection,
    token: &str,
    user_id: i64,
    now: i64,
) -> AppResult<(i64, Role, String)> {
    #[derive(sqlx::FromRow)]
    struct Used {
        tenant_id: i64,
        role: String,
        email: String,
    }
    let used = sqlx::query_as::<_, Used>(
        "UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE token_hash = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
         RETURNING tenant_id, role, email",
    )
    .bind(now)
    .bind(user_id)
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict(GONE.to_owned()))?;
    let role: Role = used.role.parse().map_err(AppError::internal)?;
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(used.tenant_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|_| AppError::Conflict("You are already a member of this organisation.".into()))?;
    let details = serde_json::json!({ "email": used.email, "role": role.as_str() });
    let event = Event::user(
        Some(used.tenant_id),
        AuditAction::MemberJoined,
        user_id,
        details,
    );
    let actor = Actor::user(user_id, &used.email, &used.email, None);
    record(tx, now, &actor, event).await?;
    Ok((used.tenant_id, role, used.email))
}

/// A person without an account accepts: their account is made with the invitation's email, and
/// they are signed in. Returns the session token.
pub async fn accept_new(
    db: &Db,
    policy: SessionPolicy,
    token: &str,
    name: &str,
    password: String,
) -> AppResult<String> {
    let inv = lookup(db, token)
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
    let hash = hash_password(password).await?;
    let mut tx = db.pool.begin().await?;
    let user_id = insert_user(&mut tx, &inv.email, name, &hash).await?;
    let (tenant_id, _, _) = consume(&mut tx, token, user_id, db.clock.now_ms()).await?;
    tx.commit().await?;
    create_session(db, user_id, Some(tenant_id), policy).await
}

/// A signed-in person whose email is the invitation's joins; their session moves to the tenant.
pub async fn accept_signed_in(
    db: &Db,
    session: &Session,
    session_token: &str,
    token: &str,
) -> AppResult<i64> {
    let inv = lookup(db, token)
        .await
        .map_err(|_| AppError::Conflict(GONE.to_owned()))?;
    if inv.email != session.email.to_lowercase() {
        return Err(AppError::Conflict(format!(
            "This invitation is for {}. Sign in as them to accept it.",
            inv.email
        )));
    }
    let mut tx = db.pool.begin().await?;
    let (tenant_id, _, _) = consume(&mut tx, token, session.user_id, db.clock.now_ms()).await?;
    sqlx::query("UPDATE sessions SET tenant_id = $1 WHERE token_hash = $2")
        .bind(tenant_id)
        .bind(token_hash(session_token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(tenant_id)
}
