//! Resources a key can be limited to ("Only these accounts"), of types the operator declares
//! (`--resource-type account=Bank account`). The SaaS adds and removes them; a key's list is
//! fixed at creation. Removing a resource removes it from every key limited to it (which then
//! refuses it, staying limited), and the trigger on `key_resources` announces each such key.

use super::Call;
use super::Ops;
use crate::audit::{record, AuditAction, Event};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::operator::{self, KEY_RESOURCES_MAX};
use serde::{Deserialize, Serialize};

/// One resource of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Resource {
    #[sqlx(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// What a new key asks to be limited to: resources of one type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limit {
    pub kind: String,
    pub ids: Vec<String>,
}

/// What `resources` asks a new key to be limited to: `None` when empty; all of one type.
pub fn limit_of(resources: &[latchkey_domain::views::ResourceRef]) -> AppResult<Option<Limit>> {
    let Some(first) = resources.first() else {
        return Ok(None);
    };
    if resources.iter().any(|r| r.kind != first.kind) {
        return Err(AppError::field(
            "resources",
            "Limit a key to resources of one type.",
        ));
    }
    let mut ids: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    ids.dedup();
    Ok(Some(Limit {
        kind: first.kind.clone(),
        ids,
    }))
}

/// Most resources of one tenant (each is a row an operator token can add).
pub const PER_TENANT_MAX: i64 = 10_000;

fn declared(ops: Ops<'_>, kind: &str) -> AppResult<()> {
    if ops.resource_types.iter().any(|t| t.name == kind) {
        Ok(())
    } else {
        let known: Vec<&str> = ops.resource_types.iter().map(|t| t.name.as_str()).collect();
        Err(AppError::field(
            "type",
            if known.is_empty() {
                "No resource types are declared (the operator's --resource-type).".to_owned()
            } else {
                format!("Unknown type; use one of: {}.", known.join(", "))
            },
        ))
    }
}

/// Adds or renames a resource. Returns it and whether it was added.
pub async fn put(
    ops: Ops<'_>,
    tenant_id: i64,
    kind: &str,
    id: &str,
    name: &str,
    call: &Call,
) -> AppResult<(Resource, bool)> {
    declared(ops, kind)?;
    operator::check_id(id).map_err(|m| AppError::field("id", m))?;
    operator::check_label(name).map_err(|m| AppError::field("name", m))?;
    let name = name.trim();
    let db = ops.db;
    let mut tx = db.pool.begin().await?;
    super::lock_tenant(&mut tx, tenant_id).await?;
    let old = sqlx::query_scalar::<_, String>(
        "SELECT name FROM tenant_resources WHERE tenant_id = $1 AND type = $2 AND id = $3",
    )
    .bind(tenant_id)
    .bind(kind)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let added = old.is_none();
    match old.as_deref() {
        Some(n) if n == name => {}
        Some(_) => {
            sqlx::query(
                "UPDATE tenant_resources SET name = $1 WHERE tenant_id = $2 AND type = $3 AND id = $4",
            )
            .bind(name)
            .bind(tenant_id)
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            let count = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM tenant_resources WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await?;
            if count >= PER_TENANT_MAX {
                return Err(AppError::Conflict(format!(
                    "A tenant holds at most {PER_TENANT_MAX} resources."
                )));
            }
            sqlx::query(
                "INSERT INTO tenant_resources (tenant_id, type, id, name, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(tenant_id)
            .bind(kind)
            .bind(id)
            .bind(name)
            .bind(db.clock.now_ms())
            .execute(&mut *tx)
            .await?;
        }
    }
    if old.as_deref() != Some(name) {
        let details = serde_json::json!({ "type": kind, "id": id, "name": name, "from": old });
        let event = Event::tenant(tenant_id, AuditAction::ResourcePut, details);
        record(&mut tx, db.clock.now_ms(), &call.actor, event).await?;
    }
    tx.commit().await?;
    let resource = Resource {
        kind: kind.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
    };
    Ok((resource, added))
}

/// Removes a resource, and it from every key limited to it. Returns how many keys lost it.
pub async fn remove(
    ops: Ops<'_>,
    tenant_id: i64,
    kind: &str,
    id: &str,
    call: &Call,
) -> AppResult<usize> {
    if operator::check_id(id).is_err() || !crate::db::storable(kind) {
        return Err(AppError::NotFound);
    }
    let db = ops.db;
    let mut tx = db.pool.begin().await?;
    let gone =
        sqlx::query("DELETE FROM tenant_resources WHERE tenant_id = $1 AND type = $2 AND id = $3")
            .bind(tenant_id)
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    let keys = sqlx::query_scalar::<_, String>(
        "SELECT k.public_id FROM key_resources r JOIN api_keys k ON k.id = r.key_id \
         WHERE r.tenant_id = $1 AND r.type = $2 AND r.resource_id = $3",
    )
    .bind(tenant_id)
    .bind(kind)
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM key_resources WHERE tenant_id = $1 AND type = $2 AND resource_id = $3",
    )
    .bind(tenant_id)
    .bind(kind)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let details = serde_json::json!({ "type": kind, "id": id, "keys": keys });
    let event = Event::tenant(tenant_id, AuditAction::ResourceRemoved, details);
    record(&mut tx, db.clock.now_ms(), &call.actor, event).await?;
    tx.commit().await?;
    for key in &keys {
        ops.forget_key(tenant_id, key).await;
    }
    Ok(keys.len())
}

/// The tenant's resources of one type (or every type), by name (the create dialog's picker).
pub async fn list(ops: Ops<'_>, tenant_id: i64, kind: Option<&str>) -> AppResult<Vec<Resource>> {
    Ok(sqlx::query_as::<_, Resource>(
        "SELECT type, id, name FROM tenant_resources \
         WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR type = $2) \
         ORDER BY type, name, id LIMIT 10000",
    )
    .bind(tenant_id)
    .bind(kind)
    .fetch_all(&ops.db.pool)
    .await?)
}

/// What a key is limited to: `None` for an unlimited key.
pub async fn of_key(conn: &mut sqlx::AnyConnection, key_row_id: i64) -> AppResult<Option<Limit>> {
    let kind =
        sqlx::query_scalar::<_, Option<String>>("SELECT resource_type FROM api_keys WHERE id = $1")
            .bind(key_row_id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    let Some(kind) = kind else { return Ok(None) };
    let ids = sqlx::query_scalar::<_, String>(
        "SELECT resource_id FROM key_resources WHERE key_id = $1 ORDER BY resource_id",
    )
    .bind(key_row_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(Limit { kind, ids }))
}

/// What the tenant's key with this public id is limited to (`None`: not limited).
pub async fn of_public_key(
    db: &crate::db::Db,
    tenant_id: i64,
    public_id: &str,
) -> AppResult<Option<Limit>> {
    let mut conn = db.pool.acquire().await?;
    let row_id = sqlx::query_scalar::<_, i64>(
        "SELECT id FROM api_keys WHERE tenant_id = $1 AND public_id = $2",
    )
    .bind(tenant_id)
    .bind(public_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    of_key(&mut conn, row_id).await
}

/// Whether a key limited to `granter` (or not limited: `None`) covers a key limited to `target`.
pub fn covers(granter: Option<&Limit>, target: Option<&Limit>) -> bool {
    match (granter, target) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(g), Some(t)) => g.kind == t.kind && t.ids.iter().all(|id| g.ids.contains(id)),
    }
}

/// Checks a new key's limit inside the creating transaction: a declared type, at most
/// [`KEY_RESOURCES_MAX`] existing resources, and within the granter's own limit (a limited key
/// creates only keys limited to what it covers).
pub async fn check_limit(
    tx: &mut sqlx::AnyConnection,
    state_types: &[latchkey_domain::operator::ResourceType],
    tenant_id: i64,
    asked: Option<&Limit>,
    granter: Option<&Limit>,
) -> AppResult<()> {
    const BEYOND: &str =
        "A key limited to resources can only create keys limited to resources it covers.";
    let Some(asked) = asked else {
        return match granter {
            Some(_) => Err(AppError::field("resources", BEYOND)),
            None => Ok(()),
        };
    };
    if !state_types.iter().any(|t| t.name == asked.kind) {
        return Err(AppError::field("resources", "Unknown resource type."));
    }
    if asked.ids.is_empty() || asked.ids.len() > KEY_RESOURCES_MAX {
        return Err(AppError::field(
            "resources",
            format!("Choose 1 to {KEY_RESOURCES_MAX} resources of one type."),
        ));
    }
    if let Some(g) = granter {
        if g.kind != asked.kind || asked.ids.iter().any(|id| !g.ids.contains(id)) {
            return Err(AppError::field("resources", BEYOND));
        }
    }
    for id in &asked.ids {
        let found = crate::db::storable(id)
            && sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM tenant_resources WHERE tenant_id = $1 AND type = $2 AND id = $3",
            )
            .bind(tenant_id)
            .bind(&asked.kind)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
                == 1;
        if !found {
            return Err(AppError::field(
                "resources",
                format!("No {} with id {id:?} in this organisation.", asked.kind),
            ));
        }
    }
    Ok(())
}

/// Writes a new key's limit (after [`check_limit`]), in the same transaction as the key.
pub async fn attach(
    tx: &mut sqlx::AnyConnection,
    key_row_id: i64,
    tenant_id: i64,
    limit: &Limit,
) -> AppResult<()> {
    sqlx::query("UPDATE api_keys SET resource_type = $1 WHERE id = $2")
        .bind(&limit.kind)
        .bind(key_row_id)
        .execute(&mut *tx)
        .await?;
    for id in &limit.ids {
        sqlx::query(
            "INSERT INTO key_resources (key_id, tenant_id, type, resource_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(key_row_id)
        .bind(tenant_id)
        .bind(&limit.kind)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
