//! Creating tenants and memberships (CLI and demo seed), and changing plans.

use crate::audit::server::{record, Event};
use crate::auth::server::{create_user, user_id_by_email};
use crate::db::{is_unique_violation, now_ms, Db};
use crate::error::{AppError, AppResult};
use latchkey_domain::{Plan, Role};
use sqlx::Row;

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
    let res = sqlx::query(
        "INSERT INTO tenants (slug, name, plan, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&slug)
    .bind(name)
    .bind(plan.as_str())
    .bind(now_ms())
    .fetch_one(&db.pool)
    .await;
    match res {
        Ok(row) => Ok(row.try_get("id")?),
        Err(e) if is_unique_violation(&e) => Err(AppError::field(
            "slug",
            format!("A tenant with slug “{slug}” already exists."),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn tenant_id_by_slug(db: &Db, slug: &str) -> AppResult<Option<i64>> {
    let row = sqlx::query("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// Adds a membership, or changes the role of an existing one. Audited as the given actor.
pub async fn add_member(
    db: &Db,
    tenant_id: i64,
    user_id: i64,
    role: Role,
    actor: &str,
) -> AppResult<()> {
    let mut tx = db.pool.begin().await?;
    let updated =
        sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    }
    record(
        &mut *tx,
        Event {
            tenant_id: Some(tenant_id),
            actor_user_id: None,
            actor: actor.to_owned(),
            action: if updated == 0 {
                "membership.added"
            } else {
                "membership.role_changed"
            },
            target_type: Some("user"),
            target_id: Some(user_id.to_string()),
            client_ip: None,
            details: serde_json::json!({ "role": role.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a tenant's plan and audits the change; a no-op when the plan is unchanged.
pub async fn change_plan(db: &Db, tenant_id: i64, plan: Plan, actor: Event) -> AppResult<Plan> {
    let mut tx = db.pool.begin().await?;
    let row = sqlx::query("SELECT plan FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let old: String = row.try_get("plan")?;
    let old: Plan = old.parse().map_err(AppError::internal)?;
    if old == plan {
        return Ok(old);
    }
    sqlx::query("UPDATE tenants SET plan = $1 WHERE id = $2")
        .bind(plan.as_str())
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    record(
        &mut *tx,
        Event {
            tenant_id: Some(tenant_id),
            action: "tenant.plan_changed",
            target_type: Some("tenant"),
            target_id: Some(tenant_id.to_string()),
            details: serde_json::json!({ "from": old.as_str(), "to": plan.as_str() }),
            ..actor
        },
    )
    .await?;
    tx.commit().await?;
    Ok(old)
}

/// One demo sign-in, printed at start.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
    pub what: &'static str,
}

pub const DEMO_PASSWORD: &str = "latchkey-demo";

pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        email: "owner@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group (Professional) — owner",
    },
    DemoLogin {
        email: "admin@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group — admin",
    },
    DemoLogin {
        email: "member@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group — member",
    },
    DemoLogin {
        email: "viewer@acme.test",
        password: DEMO_PASSWORD,
        what: "Acme Financial Group — viewer",
    },
    DemoLogin {
        email: "owner@starter.test",
        password: DEMO_PASSWORD,
        what: "Starter Studio (Starter) — owner",
    },
    DemoLogin {
        email: "consultant@example.test",
        password: DEMO_PASSWORD,
        what: "admin at Acme and member at Starter Studio",
    },
];

/// Seeds the demo tenants and users once; a second call finds them and does nothing.
/// Returns whether anything was created.
pub async fn seed_demo(db: &Db) -> AppResult<bool> {
    if tenant_id_by_slug(db, "acme").await?.is_some() {
        return Ok(false);
    }
    let acme = create_tenant(db, "acme", "Acme Financial Group", Plan::Professional).await?;
    let starter = create_tenant(db, "starter-studio", "Starter Studio", Plan::Starter).await?;
    type Person<'a> = (&'a str, &'a str, &'a [(i64, Role)]);
    let people: [Person; 6] = [
        ("owner@acme.test", "Olivia Owner", &[(acme, Role::Owner)]),
        ("admin@acme.test", "Adam Admin", &[(acme, Role::Admin)]),
        ("member@acme.test", "Mia Member", &[(acme, Role::Member)]),
        ("viewer@acme.test", "Victor Viewer", &[(acme, Role::Viewer)]),
        (
            "owner@starter.test",
            "Stella Starter",
            &[(starter, Role::Owner)],
        ),
        (
            "consultant@example.test",
            "Casey Consultant",
            &[(acme, Role::Admin), (starter, Role::Member)],
        ),
    ];
    for (email, name, memberships) in people {
        let uid = match user_id_by_email(db, email).await? {
            Some(id) => id,
            None => create_user(db, email, name, DEMO_PASSWORD).await?,
        };
        for &(tenant, role) in memberships {
            add_member(db, tenant, uid, role, "demo-seed").await?;
        }
    }
    Ok(true)
}
