//! A tenant's members: listing them, changing roles and removing people, with SPEC §2's rules
//! (`latchkey_domain::members`) and the one rule only storage can check, that a tenant always
//! keeps an owner, even under two concurrent demotions (the tenant's row is locked first).

mod accept;
pub mod invites;

use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::members::{may_change_role, may_touch, MemberRefusal};
use latchkey_domain::views::MemberView;
use latchkey_domain::Role;

/// Who is changing a membership: a person with their role in the tenant, or the operator (whose
/// CLI is not bound by roles, only by the last-owner rule).
#[derive(Debug, Clone, Copy)]
pub enum Manager {
    Role(Role),
    Operator,
}

fn refused(r: MemberRefusal) -> AppError {
    match r {
        MemberRefusal::NotAManager | MemberRefusal::OwnersOnly => AppError::Forbidden,
        MemberRefusal::LastOwner => AppError::Conflict(r.message().to_owned()),
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: i64,
    name: String,
    email: String,
    role: String,
    created_at: i64,
    last_sign_in_at: Option<i64>,
}

impl TryFrom<MemberRow> for MemberView {
    type Error = AppError;
    fn try_from(r: MemberRow) -> AppResult<Self> {
        Ok(Self {
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            role: r.role.parse().map_err(AppError::internal)?,
            joined_at: r.created_at,
            last_sign_in_at: r.last_sign_in_at,
        })
    }
}

/// Every member of the tenant: owners first, then by name.
pub async fn list(db: &Db, tenant_id: i64) -> AppResult<Vec<MemberView>> {
    sqlx::query_as::<_, MemberRow>(
        "SELECT u.id AS user_id, u.name, u.email, m.role, m.created_at, u.last_sign_in_at \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, \
         u.name, u.id LIMIT 1000",
    )
    .bind(tenant_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(MemberView::try_from)
    .collect()
}

/// Locks the tenant's row for the rest of the transaction: membership changes of one tenant
/// happen one at a time, so the owner count each one reads is the truth.
async fn lock_tenant(tx: &mut sqlx::AnyConnection, tenant_id: i64) -> AppResult<()> {
    let n = sqlx::query("UPDATE tenants SET key_seq = key_seq WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Target {
    email: String,
    role: String,
}

async fn target(
    tx: &mut sqlx::AnyConnection,
    tenant_id: i64,
    user_id: i64,
) -> AppResult<(String, Role)> {
    let t = sqlx::query_as::<_, Target>(
        "SELECT u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((t.email, t.role.parse().map_err(AppError::internal)?))
}

async fn owners(tx: &mut sqlx::AnyConnection, tenant_id: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM memberships WHERE tenant_id = $1 AND role = 'owner'",
    )
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?)
}

/// Gives a member another role. Unchanged is a no-op.
pub async fn change_role(
    db: &Db,
    tenant_id: i64,
    by: Manager,
    actor: &Actor,
    user_id: i64,
    to: Role,
) -> AppResult<MemberView> {
    let mut tx = db.pool.begin().await?;
    lock_tenant(&mut tx, tenant_id).await?;
    let (email, from) = target(&mut tx, tenant_id, user_id).await?;
    if let Manager::Role(role) = by {
        may_change_role(role, from, to).map_err(refused)?;
    }
    if from != to {
        sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
            .bind(to.as_str())
            .bind(tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if from == Role::Owner && owners(&mut tx, tenant_id).await? == 0 {
            return Err(refused(MemberRefusal::LastOwner));
        }
        let now = db.clock.now_ms();
        accept::withdraw_sent_by(&mut tx, tenant_id, user_id, Some(to), actor, now).await?;
        let details =
            serde_json::json!({ "email": email, "from": from.as_str(), "role": to.as_str() });
        let event = Event::user(
            Some(tenant_id),
            AuditAction::MemberRoleChanged,
            user_id,
            details,
        );
        record(&mut tx, db.clock.now_ms(), actor, event).await?;
    }
    tx.commit().await?;
    tracing::info!(
        tenant_id,
        user_id,
        from = from.as_str(),
        to = to.as_str(),
        "member role changed"
    );
    one(db, tenant_id, user_id).await
}

/// Removes a member. From their next request their session acts in another tenant of theirs,
/// or in none.
pub async fn remove(
    db: &Db,
    tenant_id: i64,
    by: Manager,
    actor: &Actor,
    user_id: i64,
) -> AppResult<()> {
    let mut tx = db.pool.begin().await?;
    lock_tenant(&mut tx, tenant_id).await?;
    let (email, role) = target(&mut tx, tenant_id, user_id).await?;
    if let Manager::Role(r) = by {
        may_touch(r, role).map_err(refused)?;
    }
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if role == Role::Owner && owners(&mut tx, tenant_id).await? == 0 {
        return Err(refused(MemberRefusal::LastOwner));
    }
    // What they sent is only as good as their say-so, which ends with the membership.
    accept::withdraw_sent_by(&mut tx, tenant_id, user_id, None, actor, db.clock.now_ms()).await?;
    let details = serde_json::json!({ "email": email, "role": role.as_str() });
    let event = Event::user(
        Some(tenant_id),
        AuditAction::MemberRemoved,
        user_id,
        details,
    );
    record(&mut tx, db.clock.now_ms(), actor, event).await?;
    tx.commit().await?;
    tracing::info!(tenant_id, user_id, "member removed");
    Ok(())
}

async fn one(db: &Db, tenant_id: i64, user_id: i64) -> AppResult<MemberView> {
    sqlx::query_as::<_, MemberRow>(
        "SELECT u.id AS user_id, u.name, u.email, m.role, m.created_at, u.last_sign_in_at \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?
    .try_into()
}

/// Refuses to add an account nobody proved the mailbox of (made through a link shown, not
/// mailed) to an organisation: whoever made it may not own that address.
pub(crate) async fn refuse_unverified(tx: &mut sqlx::AnyConnection, user_id: i64) -> AppResult<()> {
    let unverified = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM users WHERE id = $1 AND email_verified_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if unverified > 0 {
        return Err(AppError::Conflict(
            "This account hasn't confirmed its email address, so it can't be added to another \
             organisation. Invite it by email instead."
                .into(),
        ));
    }
    Ok(())
}

/// Whether invitations go by mail (SMTP and a public URL to link to are configured).
pub fn mails_invitations(state: &crate::AppState) -> bool {
    state.settings.mailer.is_some() && state.settings.public_url.is_some()
}

/// Mails the invitation when the operator configured SMTP (and a public URL to link to);
/// returns whether it went by mail, and records that it did (following a mailed link proves
/// the mailbox). Otherwise the inviter is shown the link once.
pub async fn deliver_invitation(
    state: &crate::AppState,
    invitation: &latchkey_domain::views::InvitationView,
    inviter: &str,
    link_path: &str,
) -> AppResult<bool> {
    let (Some(mailer), Some(base)) = (&state.settings.mailer, &state.settings.public_url) else {
        return Ok(false);
    };
    mailer
        .send_invitation(
            &invitation.email,
            &invitation.tenant_name,
            inviter,
            invitation.role.label(),
            &format!("{base}{link_path}"),
        )
        .await?;
    sqlx::query("UPDATE invitations SET mailed_at = $1 WHERE id = $2")
        .bind(state.db.clock.now_ms())
        .bind(invitation.id)
        .execute(&state.db.pool)
        .await?;
    Ok(true)
}
