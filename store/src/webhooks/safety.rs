//! The organisation's key-safety choices: what a leak report does to a key (revoke, the
//! default, or disable), and after how many idle days a key is reported unused.

use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::webhooks::{KeySafety, LeakPolicy, UNUSED_DAYS_RANGE};

pub async fn get(db: &Db, tenant_id: i64) -> AppResult<KeySafety> {
    let (policy, unused_days): (String, i64) =
        sqlx::query_as("SELECT leak_policy, unused_days FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(&db.pool)
            .await?
            .ok_or(AppError::NotFound)?;
    Ok(KeySafety {
        leak_policy: LeakPolicy::parse(&policy).unwrap_or_default(),
        unused_days,
    })
}

/// Saves both choices; a change is audited, saving the same values records nothing.
pub async fn set(db: &Db, tenant_id: i64, actor: &Actor, new: KeySafety) -> AppResult<KeySafety> {
    if !UNUSED_DAYS_RANGE.contains(&new.unused_days) {
        return Err(AppError::field(
            "unused_days",
            format!(
                "Choose between {} and {} days.",
                UNUSED_DAYS_RANGE.start(),
                UNUSED_DAYS_RANGE.end()
            ),
        ));
    }
    let old = get(db, tenant_id).await?;
    if old == new {
        return Ok(old);
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE tenants SET leak_policy = $1, unused_days = $2 WHERE id = $3")
        .bind(new.leak_policy.as_str())
        .bind(new.unused_days)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    record(
        &mut tx,
        db.clock.now_ms(),
        actor,
        Event::tenant(
            tenant_id,
            AuditAction::KeySafetyChanged,
            serde_json::json!({
                "leak_policy": new.leak_policy.as_str(),
                "unused_days": new.unused_days,
                "from": { "leak_policy": old.leak_policy.as_str(), "unused_days": old.unused_days },
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}
