//! Members as the SaaS's directory keeps them, keyed by its user id: the user is created on
//! first sight (no password: they arrive through the SaaS), an email change follows the id,
//! and the last-owner rule holds as it does on the Members page.

use super::Call;
use super::Ops;
use crate::auth::validate_email;
use crate::db::OnUnique;
use crate::members::Manager;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::operator;
use latchkey_domain::Role;

/// What a `PUT` of a member sets.
#[derive(Debug, Clone)]
pub struct MemberInput {
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// A member as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OperatorMember {
    pub external_id: Option<String>,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

/// Stored for users the operator creates: no password matches it (they sign in through the
/// SaaS; `latchkey user reset-password` still gives one).
pub(crate) const NO_PASSWORD: &str = "!";

/// The tenant's members, owners first (at most 1,000, like the Members page).
pub async fn list(ops: Ops<'_>, tenant_id: i64) -> AppResult<Vec<OperatorMember>> {
    Ok(sqlx::query_as::<_, OperatorMember>(
        "SELECT u.external_id, u.email, u.name, m.role, m.created_at \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END, \
         u.id LIMIT 1000",
    )
    .bind(tenant_id)
    .fetch_all(&ops.db.pool)
    .await?)
}

/// The user with this external id, if any.
async fn user_by_external_id(ops: Ops<'_>, external_id: &str) -> AppResult<Option<i64>> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(&ops.db.pool)
            .await?,
    )
}

/// The user for this external id, created or linked by email; their email and name follow.
async fn user_for(ops: Ops<'_>, external_id: &str, input: &MemberInput) -> AppResult<i64> {
    let db = ops.db;
    let email = validate_email(&input.email)?;
    operator::check_label(&input.name).map_err(|m| AppError::field("name", m))?;
    let name = input.name.trim();
    if let Some(id) = user_by_external_id(ops, external_id).await? {
        sqlx::query("UPDATE users SET email = $1, name = $2 WHERE id = $3")
            .bind(&email)
            .bind(name)
            .bind(id)
            .execute(&db.pool)
            .await
            .on_unique("email", "Another user has this email.")?;
        return Ok(id);
    }
    // A person already here by email (an invitation, the CLI) is linked, unless the SaaS
    // already gave that account another id.
    let linked = sqlx::query_scalar::<_, i64>(
        "UPDATE users SET external_id = $1, name = $2 \
         WHERE email = $3 AND external_id IS NULL RETURNING id",
    )
    .bind(external_id)
    .bind(name)
    .bind(&email)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(id) = linked {
        return Ok(id);
    }
    let now = db.clock.now_ms();
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (email, name, password_hash, created_at, email_verified_at, external_id) \
         VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
    )
    .bind(&email)
    .bind(name)
    .bind(NO_PASSWORD)
    .bind(now)
    .bind(external_id)
    .fetch_one(&db.pool)
    .await
    .on_unique("email", "Another user (with another external id) has this email.")
}

/// Adds the member or changes their role. Returns them and whether they were added.
pub async fn upsert(
    ops: Ops<'_>,
    tenant_id: i64,
    external_user_id: &str,
    input: &MemberInput,
    call: &Call,
) -> AppResult<(OperatorMember, bool)> {
    operator::check_id(external_user_id).map_err(|m| AppError::field("external_user_id", m))?;
    let user_id = user_for(ops, external_user_id, input).await?;
    let actor = &call.actor;
    let current = sqlx::query_scalar::<_, String>(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&ops.db.pool)
    .await?;
    let added = current.is_none();
    match current {
        None => crate::tenants::add_member(ops.db, tenant_id, user_id, input.role, actor).await?,
        Some(role) if role != input.role.as_str() => {
            crate::members::change_role(
                ops.db,
                tenant_id,
                Manager::Operator,
                actor,
                user_id,
                input.role,
            )
            .await?;
        }
        Some(_) => {}
    }
    let member = one(ops, tenant_id, user_id).await?;
    Ok((member, added))
}

/// Removes the member with this external id; their next request acts elsewhere, or nowhere.
pub async fn remove(
    ops: Ops<'_>,
    tenant_id: i64,
    external_user_id: &str,
    call: &Call,
) -> AppResult<()> {
    if operator::check_id(external_user_id).is_err() {
        return Err(AppError::NotFound);
    }
    let user_id = user_by_external_id(ops, external_user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = &call.actor;
    crate::members::remove(ops.db, tenant_id, Manager::Operator, actor, user_id).await
}

async fn one(ops: Ops<'_>, tenant_id: i64, user_id: i64) -> AppResult<OperatorMember> {
    sqlx::query_as::<_, OperatorMember>(
        "SELECT u.external_id, u.email, u.name, m.role, m.created_at \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&ops.db.pool)
    .await?
    .ok_or(AppError::NotFound)
}

/// The SaaS's ids of these users (those it never named are absent): what APIs show in place
/// of the internal integers.
pub async fn external_ids(
    db: &crate::db::Db,
    user_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, String>> {
    let mut out = std::collections::HashMap::new();
    for id in user_ids {
        if out.contains_key(id) {
            continue;
        }
        let ext =
            sqlx::query_scalar::<_, Option<String>>("SELECT external_id FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
                .flatten();
        if let Some(ext) = ext {
            out.insert(*id, ext);
        }
    }
    Ok(out)
}
