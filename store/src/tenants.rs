//! Tenants, memberships and plans: creating them (CLI, demo seed) and changing a plan.

use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::{now_ms, Db, OnUnique};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::{Plan, Role};

pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

pub async fn create_tenant(db: &Db, slug: &str, name: &str, plan: Plan) -> AppResult<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field(
            "name",
            "Enter a name of 1 to 100 characters.",
        ));
    }
    let slug = slugify(slug);
    if slug.is_empty() {
        return Err(AppError::field("slug", "Use letters and digits."));
    }
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO tenants (slug, name, plan, created_at, public_id) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(&slug)
    .bind(name)
    .bind(plan.as_str())
    .bind(now_ms())
    .bind(crate::operator::tenants::new_public_id())
    .fetch_one(&db.pool)
    .await
    .on_unique(
        "slug",
        format!("A tenant with slug “{slug}” already exists."),
    )
}

/// A tenant's plan, by id (the CLI names keys, not tenants, when rolling).
pub async fn plan_of(db: &Db, tenant_id: i64) -> AppResult<Plan> {
    sqlx::query_scalar::<_, String>("SELECT plan FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?
        .parse()
        .map_err(AppError::internal)
}

/// A tenant's id and plan, by slug (the CLI names tenants by slug).
pub async fn by_slug(db: &Db, slug: &str) -> AppResult<Option<(i64, Plan)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        plan: String,
    }
    sqlx::query_as::<_, Row>("SELECT id, plan FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| Ok((r.id, r.plan.parse().map_err(AppError::internal)?)))
        .transpose()
}

/// Adds a membership, or changes the role of an existing one. Audited as the given actor.
pub async fn add_member(
    db: &Db,
    tenant_id: i64,
    user_id: i64,
    role: Role,
    actor: &Actor,
) -> AppResult<()> {
    let mut tx = db.pool.begin().await?;
    // Membership changes of a tenant one at a time, and the write lock taken first.
    crate::operator::lock_tenant(&mut tx, tenant_id).await?;
    let email = sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let old = sqlx::query_scalar::<_, String>(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (action, details) = match &old {
        Some(from) if from == role.as_str() => return Ok(()),
        Some(from) => {
            sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
                .bind(role.as_str())
                .bind(tenant_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            (
                AuditAction::MemberRoleChanged,
                serde_json::json!({ "email": email, "from": from, "role": role.as_str() }),
            )
        }
        None => {
            crate::members::refuse_unverified(&mut tx, user_id).await?;
            sqlx::query(
                "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            (
                AuditAction::MemberAdded,
                serde_json::json!({ "email": email, "role": role.as_str() }),
            )
        }
    };
    let event = Event::user(Some(tenant_id), action, user_id, details);
    record(&mut tx, db.clock.now_ms(), actor, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a tenant's plan and audits the change; a no-op when the plan is unchanged. Returns the
/// old plan. The caller drops the verifier's cached tenant after this returns (commit).
pub async fn change_plan(db: &Db, tenant_id: i64, plan: Plan, actor: &Actor) -> AppResult<Plan> {
    let mut tx = db.pool.begin().await?;
    crate::operator::lock_tenant(&mut tx, tenant_id).await?;
    let old = sqlx::query_scalar::<_, String>("SELECT plan FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let old: Plan = old.parse().map_err(AppError::internal)?;
    if old == plan {
        return Ok(old);
    }
    sqlx::query("UPDATE tenants SET plan = $1 WHERE id = $2")
        .bind(plan.as_str())
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({ "from": old.as_str(), "to": plan.as_str() });
    let event = Event::tenant(tenant_id, AuditAction::PlanChanged, details);
    record(&mut tx, db.clock.now_ms(), actor, event).await?;
    tx.commit().await?;
    Ok(old)
}

/// The one path a plan changes by (the Billing page, the operator API, the CLI): the change and
/// its audit event, then every cached verdict of the tenant dropped here (other processes hear
/// the trigger's announcement). A downgrade suspends the tenant's keys from the very next
/// request, an upgrade restores them.
pub async fn switch_plan(
    ops: crate::operator::Ops<'_>,
    tenant_id: i64,
    plan: Plan,
    actor: &Actor,
) -> AppResult<Plan> {
    let old = change_plan(ops.db, tenant_id, plan, actor).await?;
    if old != plan {
        ops.forget_tenant(tenant_id);
        tracing::info!(tenant_id, from = %old, to = %plan, "plan changed");
    }
    Ok(old)
}
