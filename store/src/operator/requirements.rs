//! Minting gates: the SaaS's checklist ("KYB review complete", "Payouts enabled"). While one
//! is unmet, no key of the tenant is created or rolled, on any surface: the gate is checked
//! inside the creating transaction, after the tenant row is locked.

use super::Call;
use super::Ops;
use crate::audit::{record, AuditAction, Event};
use latchkey_domain::error::{AppError, AppResult, FieldError};
use latchkey_domain::operator::{self, REQUIREMENTS_MAX};
use serde::{Deserialize, Serialize};

/// One requirement, as set and as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Requirement {
    pub id: String,
    pub label: String,
    #[sqlx(try_from = "i64")]
    pub met: Met,
}

/// Stored as 0/1 on both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Met(pub bool);

impl From<i64> for Met {
    fn from(n: i64) -> Self {
        Met(n != 0)
    }
}

/// Every problem with a list, at once (`requirements[i].field`).
pub fn check(list: &[Requirement]) -> AppResult<()> {
    let mut errors = Vec::new();
    if list.len() > REQUIREMENTS_MAX {
        errors.push(FieldError {
            field: "requirements".into(),
            message: format!("Use at most {REQUIREMENTS_MAX} requirements."),
        });
    }
    for (i, r) in list.iter().enumerate() {
        if let Err(m) = operator::check_id(&r.id) {
            errors.push(FieldError {
                field: format!("requirements[{i}].id"),
                message: m,
            });
        } else if list[..i].iter().any(|o| o.id == r.id) {
            errors.push(FieldError {
                field: format!("requirements[{i}].id"),
                message: "Each id may appear once.".into(),
            });
        }
        if let Err(m) = operator::check_label(&r.label) {
            errors.push(FieldError {
                field: format!("requirements[{i}].label"),
                message: m,
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The tenant's requirements, in the order the SaaS gave them.
pub async fn list(
    conn: impl sqlx::Executor<'_, Database = sqlx::Any>,
    tenant_id: i64,
) -> AppResult<Vec<Requirement>> {
    Ok(sqlx::query_as::<_, Requirement>(
        "SELECT id, label, met FROM tenant_requirements WHERE tenant_id = $1 ORDER BY position",
    )
    .bind(tenant_id)
    .fetch_all(conn)
    .await?)
}

/// Replaces the tenant's whole list (an empty list lifts every gate).
pub async fn set(
    ops: Ops<'_>,
    tenant_id: i64,
    list: &[Requirement],
    call: &Call,
) -> AppResult<Vec<Requirement>> {
    check(list)?;
    let db = ops.db;
    let mut tx = db.pool.begin().await?;
    super::lock_tenant(&mut tx, tenant_id).await?;
    let old = self::list(&mut *tx, tenant_id).await?;
    sqlx::query("DELETE FROM tenant_requirements WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    for (position, r) in list.iter().enumerate() {
        sqlx::query(
            "INSERT INTO tenant_requirements (tenant_id, id, label, met, position) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant_id)
        .bind(&r.id)
        .bind(r.label.trim())
        .bind(i64::from(r.met.0))
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    let new = self::list(&mut *tx, tenant_id).await?;
    if new != old {
        let pending: Vec<&str> = new
            .iter()
            .filter(|r| !r.met.0)
            .map(|r| r.label.as_str())
            .collect();
        let details = serde_json::json!({
            "requirements": new.iter().map(|r| serde_json::json!({"id": r.id, "met": r.met.0})).collect::<Vec<_>>(),
            "pending": pending,
        });
        let event = Event::tenant(tenant_id, AuditAction::RequirementsSet, details);
        record(&mut tx, db.clock.now_ms(), &call.actor, event).await?;
    }
    tx.commit().await?;
    Ok(new)
}

/// The gate, inside a key-creating transaction: refused while the tenant is suspended or any
/// requirement is unmet (naming them). Returns the operator's per-tenant key limit, if set.
pub async fn may_mint(tx: &mut sqlx::AnyConnection, tenant_id: i64) -> AppResult<Option<i64>> {
    let (status, max_keys) = sqlx::query_as::<_, (String, Option<i64>)>(
        "SELECT status, max_keys FROM tenants WHERE id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if status != "active" {
        return Err(AppError::Conflict(
            "The organisation is suspended: no key can be created or rolled.".into(),
        ));
    }
    let pending: Vec<String> = list(&mut *tx, tenant_id)
        .await?
        .into_iter()
        .filter(|r| !r.met.0)
        .map(|r| r.label)
        .collect();
    if pending.is_empty() {
        Ok(max_keys)
    } else {
        Err(AppError::RequirementsPending(pending))
    }
}
