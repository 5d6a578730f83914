//! Tenants as the SaaS keeps them: one idempotent upsert keyed by its `external_id` (a `PUT`
//! is the whole state: a field left out is its default), reads, suspension and deletion.

use super::Call;
use super::Ops;
use crate::audit::{record, AuditAction, Event};
use crate::db::{Db, OnUnique};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::operator::{self, TenantStatus, METADATA_MAX_BYTES};
use latchkey_domain::Plan;

/// What a `PUT` sets.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantInput {
    pub name: String,
    pub plan: Plan,
    pub max_keys: Option<u32>,
    pub rate_per_minute: Option<u32>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub status: TenantStatus,
}

/// A tenant as the operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorTenant {
    pub id: i64,
    pub public_id: String,
    pub external_id: Option<String>,
    pub slug: String,
    pub name: String,
    pub plan: Plan,
    pub status: TenantStatus,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub max_keys: Option<u32>,
    pub rate_per_minute: Option<u32>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

pub(crate) const COLUMNS: &str = "id, public_id, external_id, slug, name, plan, status, metadata, \
     max_keys, rate_per_minute, created_at, deleted_at";

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    id: i64,
    public_id: Option<String>,
    external_id: Option<String>,
    slug: String,
    name: String,
    plan: String,
    status: String,
    metadata: String,
    max_keys: Option<i64>,
    rate_per_minute: Option<i64>,
    created_at: i64,
    deleted_at: Option<i64>,
}

impl TryFrom<Row> for OperatorTenant {
    type Error = AppError;

    fn try_from(r: Row) -> AppResult<Self> {
        let metadata = match serde_json::from_str(&r.metadata) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => {
                return Err(AppError::internal(
                    "stored tenant metadata is not an object",
                ))
            }
        };
        Ok(Self {
            id: r.id,
            public_id: r.public_id.unwrap_or_default(),
            external_id: r.external_id,
            slug: r.slug,
            name: r.name,
            plan: r.plan.parse().map_err(AppError::internal)?,
            status: TenantStatus::parse(&r.status)
                .ok_or_else(|| AppError::internal("stored tenant status is unknown"))?,
            metadata,
            max_keys: r.max_keys.and_then(|n| u32::try_from(n).ok()),
            rate_per_minute: r.rate_per_minute.and_then(|n| u32::try_from(n).ok()),
            created_at: r.created_at,
            deleted_at: r.deleted_at,
        })
    }
}

/// The conflict a write to a deleted tenant gets (`/v1/admin` answers it as `tenant_deleted`).
pub const TENANT_DELETED: &str = "This tenant was deleted; its external id cannot be reused.";

/// Most keys an operator may allow one tenant, and most requests a minute per key.
pub const MAX_KEYS_CAP: u32 = 100_000;
pub const RATE_CAP: u32 = 1_000_000;

/// Every problem with a `PUT` body, at once.
pub fn check(input: &TenantInput) -> AppResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: String| {
        errors.push(latchkey_domain::error::FieldError {
            field: field.to_owned(),
            message,
        })
    };
    if let Err(m) = operator::check_label(&input.name) {
        push("name", m);
    }
    if input.max_keys.is_some_and(|n| n > MAX_KEYS_CAP) {
        push("limits.max_keys", format!("Use 0 to {MAX_KEYS_CAP}."));
    }
    if input
        .rate_per_minute
        .is_some_and(|n| n == 0 || n > RATE_CAP)
    {
        push("limits.rate_per_minute", format!("Use 1 to {RATE_CAP}."));
    }
    let bytes = serde_json::to_string(&input.metadata).map_or(usize::MAX, |s| s.len());
    if bytes > METADATA_MAX_BYTES {
        push(
            "metadata",
            format!("Keep it to {METADATA_MAX_BYTES} bytes of JSON (this is {bytes})."),
        );
    }
    if input.status == TenantStatus::Deleted {
        push("status", "Use active or suspended (DELETE deletes).".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The tenant with this external id (deleted ones too: their audit log stays readable).
pub async fn by_external_id(db: &Db, external_id: &str) -> AppResult<OperatorTenant> {
    if operator::check_id(external_id).is_err() {
        return Err(AppError::NotFound);
    }
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM tenants WHERE external_id = $1"
    ))
    .bind(external_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?
    .try_into()
}

/// The tenant by its internal id (pages and the verifier's callers).
pub async fn by_id(db: &Db, id: i64) -> AppResult<OperatorTenant> {
    sqlx::query_as::<_, Row>(&format!("SELECT {COLUMNS} FROM tenants WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?
        .try_into()
}

/// The tenant named by the CLI: its external id, public id (`org_…`) or slug.
pub async fn by_any_id(db: &Db, name: &str) -> AppResult<OperatorTenant> {
    if !crate::db::storable(name) {
        return Err(AppError::NotFound);
    }
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM tenants WHERE external_id = $1 OR public_id = $1 OR slug = $1 \
         ORDER BY id LIMIT 1"
    ))
    .bind(name)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?
    .try_into()
}

/// One page of tenants, oldest first after `after` (an internal id, the cursor), optionally
/// of one plan and status.
pub async fn list(
    db: &Db,
    plan: Option<Plan>,
    status: Option<TenantStatus>,
    after: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<OperatorTenant>, Option<i64>)> {
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM tenants WHERE id > $1 \
         AND (CAST($2 AS TEXT) IS NULL OR plan = $2) AND (CAST($3 AS TEXT) IS NULL OR status = $3) \
         ORDER BY id LIMIT $4"
    ))
    .bind(after.unwrap_or(0))
    .bind(plan.map(Plan::as_str))
    .bind(status.map(TenantStatus::as_str))
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    let mut items = rows
        .into_iter()
        .map(OperatorTenant::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    items.truncate(usize::try_from(limit).unwrap_or(0));
    let next = items.last().filter(|_| more).map(|t| t.id);
    Ok((items, next))
}

/// A slug from the name, made unique with a short random tail when taken.
async fn free_slug(db: &Db, name: &str) -> AppResult<String> {
    let base = match crate::tenants::slugify(name) {
        s if s.is_empty() => "org".to_owned(),
        s => s.chars().take(40).collect(),
    };
    let mut slug = base.clone();
    for _ in 0..5 {
        let taken = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tenants WHERE slug = $1")
            .bind(&slug)
            .fetch_one(&db.pool)
            .await?;
        if taken == 0 {
            return Ok(slug);
        }
        let tail = latchkey_domain::keys::random_base62(6).to_ascii_lowercase();
        slug = format!("{base}-{tail}");
    }
    Err(AppError::Conflict("No free slug; try another name.".into()))
}

/// A new public id: `org_` and 20 base62 characters (opaque, says nothing of how many exist).
pub fn new_public_id() -> String {
    format!("org_{}", latchkey_domain::keys::random_base62(20))
}

/// Creates or updates the tenant with this external id. Returns it and whether it was created.
/// A plan change takes the same path as the Billing page; every change drops the tenant from
/// every verifier's cache (the triggers announce it to other processes).
pub async fn upsert(
    ops: Ops<'_>,
    external_id: &str,
    input: &TenantInput,
    call: &Call,
) -> AppResult<(OperatorTenant, bool)> {
    operator::check_id(external_id).map_err(|m| AppError::field("external_id", m))?;
    check(input)?;
    let db = ops.db;
    // A concurrent create of the same external id loses the insert race and updates instead.
    for _ in 0..2 {
        let found = match by_external_id(db, external_id).await {
            Ok(t) => Some(t),
            Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        };
        let outcome = match found {
            Some(t) => update(ops, t, input, call).await.map(|t| (t, false)),
            None => create(db, external_id, input, call)
                .await
                .map(|t| (t, true)),
        };
        match outcome {
            Err(AppError::Validation(errs)) if errs.iter().any(|e| e.field == "external_id") => {
                continue
            }
            other => return other,
        }
    }
    Err(AppError::Conflict(
        "The tenant changed under this call; retry.".into(),
    ))
}

async fn create(
    db: &Db,
    external_id: &str,
    input: &TenantInput,
    call: &Call,
) -> AppResult<OperatorTenant> {
    let now = db.clock.now_ms();
    // Chosen before the transaction, whose first statement must be its write (SQLite); a
    // racing create of the same slug fails on the unique index and is answered as a conflict.
    let slug = free_slug(db, &input.name).await?;
    let mut tx = db.pool.begin().await?;
    let metadata = serde_json::Value::Object(input.metadata.clone()).to_string();
    let row = sqlx::query_as::<_, Row>(&format!(
        "INSERT INTO tenants (slug, name, plan, created_at, public_id, external_id, status, \
         metadata, max_keys, rate_per_minute) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
    ))
    .bind(&slug)
    .bind(input.name.trim())
    .bind(input.plan.as_str())
    .bind(now)
    .bind(new_public_id())
    .bind(external_id)
    .bind(input.status.as_str())
    .bind(&metadata)
    .bind(input.max_keys.map(i64::from))
    .bind(input.rate_per_minute.map(i64::from))
    .fetch_one(&mut *tx)
    .await
    .on_unique(
        "external_id",
        "A tenant with this external id already exists.",
    )?;
    let tenant = OperatorTenant::try_from(row)?;
    let details = serde_json::json!({
        "external_id": external_id,
        "name": tenant.name,
        "slug": tenant.slug,
        "plan": tenant.plan.as_str(),
        "status": tenant.status.as_str(),
    });
    let event = Event::tenant(tenant.id, AuditAction::TenantCreated, details);
    record(&mut tx, now, &call.actor, event).await?;
    tx.commit().await?;
    tracing::info!(
        tenant_id = tenant.id,
        external_id,
        "tenant created by the operator"
    );
    Ok(tenant)
}

async fn update(
    ops: Ops<'_>,
    old: OperatorTenant,
    input: &TenantInput,
    call: &Call,
) -> AppResult<OperatorTenant> {
    if old.status == TenantStatus::Deleted {
        return Err(AppError::Conflict(TENANT_DELETED.into()));
    }
    let db = ops.db;
    // The plan first, through the Billing page's own path (audit event, cache drop).
    crate::tenants::switch_plan(ops, old.id, input.plan, &call.actor).await?;
    let mut changes = serde_json::Map::new();
    let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            changes.insert(field.into(), serde_json::json!({ "from": from, "to": to }));
        }
    };
    note("name", old.name.clone().into(), input.name.trim().into());
    note("max_keys", old.max_keys.into(), input.max_keys.into());
    note(
        "rate_per_minute",
        old.rate_per_minute.into(),
        input.rate_per_minute.into(),
    );
    note(
        "metadata",
        old.metadata.clone().into(),
        input.metadata.clone().into(),
    );
    let status_changed = old.status != input.status;
    if !changes.is_empty() || status_changed {
        let now = db.clock.now_ms();
        let mut tx = db.pool.begin().await?;
        sqlx::query(
            "UPDATE tenants SET name = $1, status = $2, metadata = $3, max_keys = $4, \
             rate_per_minute = $5 WHERE id = $6",
        )
        .bind(input.name.trim())
        .bind(input.status.as_str())
        .bind(serde_json::Value::Object(input.metadata.clone()).to_string())
        .bind(input.max_keys.map(i64::from))
        .bind(input.rate_per_minute.map(i64::from))
        .bind(old.id)
        .execute(&mut *tx)
        .await?;
        if !changes.is_empty() {
            let details = serde_json::json!({ "changes": changes });
            let event = Event::tenant(old.id, AuditAction::TenantUpdated, details);
            record(&mut tx, now, &call.actor, event).await?;
        }
        if status_changed {
            let action = match input.status {
                TenantStatus::Suspended => AuditAction::TenantSuspended,
                _ => AuditAction::TenantReactivated,
            };
            let event = Event::tenant(old.id, action, serde_json::json!({}));
            record(&mut tx, now, &call.actor, event).await?;
        }
        tx.commit().await?;
        ops.forget_tenant(old.id);
    }
    by_id(db, old.id).await
}

/// Deletes a tenant: revokes every key (each revocation audited, its webhooks sent), ends every
/// session and membership, and marks the row deleted. The audit log stays.
pub async fn delete(ops: Ops<'_>, tenant: &OperatorTenant, call: &Call) -> AppResult<usize> {
    if tenant.status == TenantStatus::Deleted {
        return Ok(0);
    }
    let db = ops.db;
    let now = db.clock.now_ms();
    let mut tx = db.pool.begin().await?;
    super::lock_tenant(&mut tx, tenant.id).await?;
    // Every key in one statement, before any audit event: the lock order of key changes
    // (tenant, keys, audit head), so a concurrent edit of one key cannot deadlock with this.
    let reason = "The organisation was deleted.";
    let active = sqlx::query_as::<_, (String, String)>(
        "UPDATE api_keys SET status = 'revoked', revoked_at = $1, revoked_by = $2, \
         revoke_reason = $3 WHERE tenant_id = $4 AND status = 'active' \
         RETURNING public_id, name",
    )
    .bind(now)
    .bind(&call.actor.display)
    .bind(reason)
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await?;
    for (public_id, name) in &active {
        let details = serde_json::json!({ "name": name, "reason": reason });
        let event = Event::key(tenant.id, AuditAction::KeyRevoked, public_id, details);
        record(&mut tx, now, &call.actor, event).await?;
    }
    let revoked = active.len();
    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1")
        .bind(tenant.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1")
        .bind(tenant.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE tenants SET status = 'deleted', deleted_at = $1 WHERE id = $2")
        .bind(now)
        .bind(tenant.id)
        .execute(&mut *tx)
        .await?;
    let details = serde_json::json!({ "keys_revoked": revoked });
    let event = Event::tenant(tenant.id, AuditAction::TenantDeleted, details);
    record(&mut tx, now, &call.actor, event).await?;
    tx.commit().await?;
    ops.forget_tenant(tenant.id);
    for (public_id, _) in &active {
        ops.forget_key(tenant.id, public_id).await;
    }
    tracing::info!(
        tenant_id = tenant.id,
        revoked,
        "tenant deleted by the operator"
    );
    Ok(revoked)
}
