//! Rolling a key (a replacement with the same rights, the old one kept for an overlap) and the
//! reversible disable. Each is one transaction with its audit events; the caller drops the old
//! key from the verifier's cache after commit, so the change holds from the next request.

use super::{created_event, fetch, insert_row, mint, KeyRow, NewRow};
use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::Db;
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::keys::{Pepper, Secret};
use latchkey_domain::views::{KeyStatus, KeyView, Overlap};
use latchkey_domain::Plan;

/// The outcome of a roll: the replacement with its secret (shown once), and the old key as it
/// now is (rolled, working until the end of the overlap).
pub struct Rolled {
    pub new: KeyView,
    pub secret: Secret,
    pub old: KeyView,
}

/// Why a key cannot be rolled, said so the person knows what to do instead.
fn not_rollable(old: &KeyRow, now: i64) -> Option<String> {
    if let Some(to) = &old.rolled_to {
        return Some(format!(
            "This key was already rolled; roll its replacement ({to}) instead."
        ));
    }
    match KeyStatus::of(&old.status, old.disabled_at.is_some(), old.expires_at, now) {
        KeyStatus::Revoked => {
            Some("A revoked key can't be rolled: create a new key with the rights you need.".into())
        }
        KeyStatus::Expired => Some(
            "An expired key can't be rolled: create a new key with the rights you need.".into(),
        ),
        KeyStatus::Active | KeyStatus::Disabled => None,
    }
}

/// Issues a replacement for `public_id` with its name, description, mode, scopes, allowlist and
/// expiry, and lets the old key work for `overlap` (never past its own expiry). The plan's
/// key limit does not apply: the old key is on its way out. Refused when the key was already
/// rolled, or is revoked or expired.
#[allow(clippy::too_many_arguments)]
pub async fn roll(
    db: &Db,
    pepper: &Pepper,
    tenant_id: i64,
    plan: Plan,
    actor: &Actor,
    public_id: &str,
    overlap: Overlap,
) -> AppResult<Rolled> {
    if !plan.limits().api_keys {
        return Err(AppError::PlanRequired);
    }
    let now = db.clock.now_ms();
    let old = fetch(db, tenant_id, public_id).await?;
    if let Some(why) = not_rollable(&old, now) {
        return Err(AppError::Conflict(why));
    }
    let mode = old.mode.parse().map_err(AppError::internal)?;
    let (secret, digest, new_id) = mint(pepper, mode);
    let old_until = overlap.old_key_expiry(old.expires_at, now);

    let mut tx = db.pool.begin().await?;
    // Tenant row first: the one lock order (tenant, key, audit head) of key changes.
    crate::operator::lock_tenant(&mut tx, tenant_id).await?;
    // Marks the old key first, on the condition that it is still rollable: of two rolls at
    // once, exactly one changes the row and the other finds nothing to do.
    let marked = sqlx::query(
        "UPDATE api_keys SET rolled_to = $1, expires_at = $2 \
         WHERE tenant_id = $3 AND public_id = $4 AND status = 'active' AND rolled_to IS NULL \
         AND (expires_at IS NULL OR expires_at > $5)",
    )
    .bind(&new_id)
    .bind(old_until)
    .bind(tenant_id)
    .bind(public_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked != 1 {
        return Err(AppError::Conflict(
            "This key changed meanwhile (rolled, revoked or expired). Reload and try again.".into(),
        ));
    }
    // The operator's gates hold for a roll as for a create (its key limit does not: the old
    // key is on its way out).
    crate::operator::requirements::may_mint(&mut tx, tenant_id).await?;
    let row = insert_row(
        &mut tx,
        NewRow {
            public_id: &new_id,
            tenant_id,
            name: &old.name,
            description: &old.description,
            mode,
            scopes: old.scopes.clone(),
            allowlist: old.allowlist.clone(),
            secret: &secret,
            digest: &digest,
            expires_at: old.expires_at,
            now,
            actor,
            rolled_from: Some(public_id),
        },
    )
    .await?;
    // The replacement covers exactly what the old key covered.
    if let Some(limit) = crate::operator::resources::of_key(&mut tx, old.id).await? {
        crate::operator::resources::attach(&mut tx, row.id, tenant_id, &limit).await?;
    }
    let new = row.view(now)?;
    record(
        &mut tx,
        db.clock.now_ms(),
        actor,
        Event::key(
            tenant_id,
            AuditAction::KeyRolled,
            public_id,
            serde_json::json!({
                "name": old.name,
                "new_key": new_id,
                "overlap": overlap.as_str(),
                "old_key_expires_at": old_until,
            }),
        ),
    )
    .await?;
    record(
        &mut tx,
        db.clock.now_ms(),
        actor,
        created_event(tenant_id, &new, Some(public_id)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant_id, old = %public_id, new = %new_id, overlap = overlap.as_str(), "api key rolled");
    let old = super::get(db, tenant_id, public_id).await?;
    Ok(Rolled { new, secret, old })
}

/// Disables (`enabled = false`) or re-enables a key: a reversible stop, unlike a revoke.
/// Setting the state it already has changes nothing and records nothing; revoked and expired
/// keys are refused.
pub async fn set_enabled(
    db: &Db,
    tenant_id: i64,
    actor: &Actor,
    public_id: &str,
    enabled: bool,
) -> AppResult<KeyView> {
    let now = db.clock.now_ms();
    let key = super::get(db, tenant_id, public_id).await?;
    match key.status {
        KeyStatus::Revoked => {
            return Err(AppError::Conflict(
                "A revoked key stays revoked: create a new key instead.".into(),
            ))
        }
        KeyStatus::Expired => {
            return Err(AppError::Conflict(
                "An expired key can't be enabled or disabled: create a new key instead.".into(),
            ))
        }
        KeyStatus::Active | KeyStatus::Disabled => {}
    }
    let mut tx = db.pool.begin().await?;
    let changed = set_enabled_in(
        &mut tx,
        now,
        actor,
        (tenant_id, public_id),
        &key.name,
        enabled,
        None,
    )
    .await?;
    if !changed {
        // Already in that state: nothing to record.
        return Ok(key);
    }
    tx.commit().await?;
    tracing::info!(tenant_id, key_id = %public_id, enabled, "api key enabled state changed");
    super::get(db, tenant_id, public_id).await
}

/// Disables or re-enables an active key inside the caller's transaction, with its audit event
/// (and `reason`, when given); `false` (nothing recorded) when it already was in that state.
/// Shared by the toggle and leak reports.
pub(crate) async fn set_enabled_in(
    tx: &mut sqlx::AnyConnection,
    now: i64,
    actor: &Actor,
    (tenant_id, public_id): (i64, &str),
    name: &str,
    enabled: bool,
    reason: Option<&str>,
) -> AppResult<bool> {
    // Conditional on the state changing: of two disables at once, one records it.
    let sql = if enabled {
        "UPDATE api_keys SET disabled_at = NULL WHERE tenant_id = $2 AND public_id = $3 \
         AND status = 'active' AND disabled_at IS NOT NULL AND $1 = $1"
    } else {
        "UPDATE api_keys SET disabled_at = $1 WHERE tenant_id = $2 AND public_id = $3 \
         AND status = 'active' AND disabled_at IS NULL"
    };
    let changed = sqlx::query(sql)
        .bind(now)
        .bind(tenant_id)
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    let mut details = serde_json::json!({ "name": name });
    if let Some(reason) = reason {
        details["reason"] = reason.into();
    }
    let action = if enabled {
        AuditAction::KeyEnabled
    } else {
        AuditAction::KeyDisabled
    };
    record(
        tx,
        now,
        actor,
        Event::key(tenant_id, action, public_id, details),
    )
    .await?;
    Ok(true)
}
