//! API keys in storage. Only the HMAC digest of a secret is stored; every query is scoped by
//! tenant. Writes that change what a key may do are followed, after commit, by the caller
//! dropping the verifier's cached entry.

use crate::audit::{record, Actor, AuditAction, Event};
use crate::db::{storable, Db, Keyed};
use latchkey_domain::error::{AppError, AppResult};
use latchkey_domain::keys::{self, Digest, Mode, Pepper, Secret, HASH_VERSION};
use latchkey_domain::views::{KeyEdit, KeyStatus, KeyView, NewKey};
use latchkey_domain::Plan;

pub mod leak;
pub mod leak_signature;
mod lifecycle;
mod list;
mod requests;
mod usage;
mod validate;

pub use lifecycle::{roll, set_enabled, Rolled};
pub use list::{list, KeyQuery};
pub use requests::request_log;
pub use usage::{last_24h, usage};
pub use validate::{DESCRIPTION_MAX, NAME_MAX};

const COLUMNS: &str = "id, public_id, name, description, mode, scopes, allowlist, masked, status, \
     expires_at, created_at, created_by_name, last_used_at, revoked_at, revoked_by, revoke_reason, \
     disabled_at, rolled_from, rolled_to, leaked_at, leak_url";

/// One `api_keys` row as stored.
#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub description: String,
    pub mode: String,
    /// Space-separated.
    pub scopes: String,
    /// One CIDR a line.
    pub allowlist: String,
    pub masked: String,
    pub status: String,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by_name: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub disabled_at: Option<i64>,
    pub rolled_from: Option<String>,
    pub rolled_to: Option<String>,
    pub leaked_at: Option<i64>,
    pub leak_url: Option<String>,
}

impl Keyed for KeyRow {
    fn keyset_id(&self) -> i64 {
        self.id
    }
}

impl KeyRow {
    /// The key as users see it at `now` (an expiry that has passed reads as expired).
    pub fn view(self, now: i64) -> AppResult<KeyView> {
        Ok(KeyView {
            status: KeyStatus::of(
                &self.status,
                self.disabled_at.is_some(),
                self.expires_at,
                now,
            ),
            id: self.public_id,
            name: self.name,
            description: self.description,
            mode: self.mode.parse().map_err(AppError::internal)?,
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            allowlist: self.allowlist.lines().map(str::to_owned).collect(),
            masked: self.masked,
            expires_at: self.expires_at,
            created_at: self.created_at,
            created_by: self.created_by_name,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by,
            revoke_reason: self.revoke_reason,
            disabled_at: self.disabled_at,
            rolled_from: self.rolled_from,
            rolled_to: self.rolled_to,
            leaked_at: self.leaked_at,
            leak_url: self.leak_url,
        })
    }
}

/// The number of keys that count against the plan: active (disabled ones too: they come back),
/// not yet expired, and not rolled (a rolled key is on its way out; its replacement counts).
async fn active_count<'e, E>(executor: E, tenant_id: i64, now: i64) -> AppResult<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    // The triggers' running count, less those counted keys already expired (read through a
    // partial index that holds only expiring keys): no scan of the tenant's keys.
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT t.counted_keys - (SELECT COUNT(*) FROM api_keys \
         WHERE tenant_id = $1 AND status = 'active' AND rolled_to IS NULL \
         AND expires_at IS NOT NULL AND expires_at <= $2) AS n \
         FROM tenants t WHERE t.id = $1",
    )
    .bind(tenant_id)
    .bind(now)
    .fetch_one(executor)
    .await?)
}

/// The row id of the tenant's key `public_id`; another tenant's key is "not found".
async fn row_id(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<i64> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM api_keys WHERE tenant_id = $1 AND public_id = $2")
        .bind(tenant_id)
        .bind(public_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)
}

/// The tenant's keys that count against its plan now.
pub async fn count_active(db: &Db, tenant_id: i64) -> AppResult<i64> {
    active_count(&db.pool, tenant_id, db.clock.now_ms()).await
}

/// Creates a key and returns it with its secret (to be shown once). `granter_scopes` limits
/// what may be granted (a key creating keys can never grant more than it holds).
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    pepper: &Pepper,
    catalogue: &[String],
    tenant_id: i64,
    plan: Plan,
    actor: &Actor,
    new: NewKey,
    granter_scopes: Option<&[String]>,
    granter_limit: Option<&crate::operator::resources::Limit>,
    resource_types: &[latchkey_domain::operator::ResourceType],
) -> AppResult<(KeyView, Secret)> {
    let now = db.clock.now_ms();
    let checked = validate::new_key(&new, catalogue, granter_scopes, now)?;
    let (allowlist, scopes, expires_at) = (checked.allowlist, checked.scopes, checked.expires_at);
    let mode = new.mode.unwrap_or(Mode::Test);
    let limit = plan.limits();
    if !limit.api_keys {
        return Err(AppError::PlanRequired);
    }

    let asked = crate::operator::resources::limit_of(&new.resources)?;
    let (secret, digest, public_id) = mint(pepper, mode);
    let name = new.name.trim().to_owned();

    let mut tx = db.pool.begin().await?;
    // Taking the tenant row's write lock first serialises concurrent creates on both engines,
    // so the count below cannot be raced past the plan limit.
    sqlx::query("UPDATE tenants SET key_seq = key_seq + 1 WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    // The operator's gates (suspension, unmet requirements) and per-tenant key limit.
    let max_keys = crate::operator::requirements::may_mint(&mut tx, tenant_id)
        .await?
        .unwrap_or(i64::from(limit.max_active_keys));
    crate::operator::resources::check_limit(
        &mut tx,
        resource_types,
        tenant_id,
        asked.as_ref(),
        granter_limit,
    )
    .await?;
    let active = active_count(&mut *tx, tenant_id, now).await?;
    if active >= max_keys {
        return Err(AppError::Conflict(format!(
            "Your {} plan allows {} active keys and you have {}. Revoke a key you no longer \
             need, or upgrade in Settings ▸ Billing.",
            plan.label(),
            max_keys,
            active
        )));
    }
    let row = insert_row(
        &mut tx,
        NewRow {
            public_id: &public_id,
            tenant_id,
            name: &name,
            description: new.description.trim(),
            mode,
            scopes: scopes.join(" "),
            allowlist: allowlist.to_lines(),
            secret: &secret,
            digest: &digest,
            expires_at,
            now,
            actor,
            rolled_from: None,
        },
    )
    .await?;
    if let Some(asked) = &asked {
        crate::operator::resources::attach(&mut tx, row.id, tenant_id, asked).await?;
    }
    let key = row.view(now)?;
    let mut event = created_event(tenant_id, &key, None);
    if let Some(asked) = &asked {
        event.details["resources"] = serde_json::json!({ "type": asked.kind, "ids": asked.ids });
    }
    record(&mut tx, db.clock.now_ms(), actor, event).await?;
    tx.commit().await?;
    tracing::info!(tenant_id, key_id = %public_id, mode = %mode, "api key created");
    Ok((key, secret))
}

/// A key row about to be written: its secret is needed only for the masked display.
struct NewRow<'a> {
    public_id: &'a str,
    tenant_id: i64,
    name: &'a str,
    description: &'a str,
    mode: Mode,
    scopes: String,
    allowlist: String,
    secret: &'a Secret,
    digest: &'a Digest,
    expires_at: Option<i64>,
    now: i64,
    actor: &'a Actor,
    rolled_from: Option<&'a str>,
}

/// Inserts a new active key (create and roll) inside the caller's transaction.
async fn insert_row(tx: &mut sqlx::AnyConnection, r: NewRow<'_>) -> AppResult<KeyRow> {
    Ok(sqlx::query_as::<_, KeyRow>(&format!(
        "INSERT INTO api_keys (public_id, tenant_id, name, description, mode, scopes, allowlist, \
         digest, hash_version, masked, status, expires_at, created_at, created_by, created_by_name, \
         rolled_from) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13, $14, $15) \
         RETURNING {COLUMNS}"
    ))
    .bind(r.public_id)
    .bind(r.tenant_id)
    .bind(r.name)
    .bind(r.description)
    .bind(r.mode.as_str())
    .bind(r.scopes)
    .bind(r.allowlist)
    .bind(r.digest.to_hex())
    .bind(HASH_VERSION)
    .bind(r.secret.masked())
    .bind(r.expires_at)
    .bind(r.now)
    .bind(r.actor.user_id)
    .bind(&r.actor.display)
    .bind(r.rolled_from)
    .fetch_one(&mut *tx)
    .await?)
}

/// `api_key.created`: what the key may do, never its secret.
fn created_event(tenant_id: i64, key: &KeyView, rolled_from: Option<&str>) -> Event {
    let mut details = serde_json::json!({
        "name": key.name,
        "mode": key.mode.as_str(),
        "scopes": key.scopes,
        "allowlist": key.allowlist,
        "expires_at": key.expires_at,
    });
    if let Some(from) = rolled_from {
        details["rolled_from"] = from.into();
    }
    Event::key(tenant_id, AuditAction::KeyCreated, &key.id, details)
}

/// A fresh secret for a mode, its digest and public id.
fn mint(pepper: &Pepper, mode: Mode) -> (Secret, Digest, String) {
    let secret = keys::generate(mode);
    let digest = Digest::of(pepper, secret.expose());
    (secret, digest, format!("key_{}", keys::random_base62(20)))
}

pub(crate) async fn fetch(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<KeyRow> {
    crate::db::by_public_id(db, "api_keys", COLUMNS, tenant_id, public_id).await
}

pub async fn get(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<KeyView> {
    fetch(db, tenant_id, public_id)
        .await?
        .view(db.clock.now_ms())
}

/// Changes name, description and allowlist only: a key's mode and scopes never change.
pub async fn update(db: &Db, tenant_id: i64, actor: &Actor, edit: KeyEdit) -> AppResult<KeyView> {
    let allowlist = validate::edit(&edit)?;
    let old = get(db, tenant_id, &edit.id).await?;
    if old.status == KeyStatus::Revoked {
        return Err(AppError::Conflict("A revoked key can't be edited.".into()));
    }
    let name = edit.name.trim().to_owned();
    let description = edit.description.trim().to_owned();
    let lines: Vec<String> = allowlist.entries().iter().map(|n| n.to_string()).collect();
    let mut changes = serde_json::Map::new();
    if old.name != name {
        changes.insert(
            "name".into(),
            serde_json::json!({"from": old.name, "to": name}),
        );
    }
    if old.description != description {
        changes.insert(
            "description".into(),
            serde_json::json!({"from": old.description, "to": description}),
        );
    }
    if old.allowlist != lines {
        changes.insert(
            "allowlist".into(),
            serde_json::json!({"from": old.allowlist, "to": lines}),
        );
    }
    if changes.is_empty() {
        return Ok(old);
    }
    let mut tx = db.pool.begin().await?;
    // Only while still not revoked: a revoke that committed since the read above wins.
    let changed = sqlx::query(
        "UPDATE api_keys SET name = $1, description = $2, allowlist = $3 \
         WHERE tenant_id = $4 AND public_id = $5 AND status <> 'revoked'",
    )
    .bind(&name)
    .bind(&description)
    .bind(allowlist.to_lines())
    .bind(tenant_id)
    .bind(&edit.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("A revoked key can't be edited.".into()));
    }
    record(
        &mut tx,
        db.clock.now_ms(),
        actor,
        Event::key(
            tenant_id,
            AuditAction::KeyUpdated,
            &edit.id,
            serde_json::json!({ "name": name, "changes": changes }),
        ),
    )
    .await?;
    tx.commit().await?;
    get(db, tenant_id, &edit.id).await
}

/// Revokes at once. Revoking a revoked key is a no-op that reports the key as it is.
pub async fn revoke(
    db: &Db,
    tenant_id: i64,
    actor: &Actor,
    public_id: &str,
    reason: &str,
) -> AppResult<KeyView> {
    let reason = reason.trim();
    if reason.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::field(
            "reason",
            format!("Use at most {DESCRIPTION_MAX} characters."),
        ));
    }
    // The reason is shown in the audit log and the CLI: no terminal escapes or bidi tricks.
    if let Some(msg) = latchkey_domain::text::unsafe_text_error(reason) {
        return Err(AppError::field("reason", msg));
    }
    let key = get(db, tenant_id, public_id).await?;
    if key.status == KeyStatus::Revoked {
        return Ok(key);
    }
    let mut tx = db.pool.begin().await?;
    // Tenant row, then key, then audit head: the order every key-changing transaction takes,
    // so none waits on another in reverse (a deadlock on PostgreSQL).
    crate::operator::lock_tenant(&mut tx, tenant_id).await?;
    revoke_in(
        &mut tx,
        db.clock.now_ms(),
        actor,
        tenant_id,
        public_id,
        &key.name,
        reason,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant_id, key_id = %public_id, "api key revoked");
    get(db, tenant_id, public_id).await
}

/// Revokes an active key inside the caller's transaction, with its audit event; `false` (and
/// nothing recorded) when it was not active. Shared by revoking and leak reports.
pub(crate) async fn revoke_in(
    tx: &mut sqlx::AnyConnection,
    now: i64,
    actor: &Actor,
    tenant_id: i64,
    public_id: &str,
    name: &str,
    reason: &str,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE api_keys SET status = 'revoked', revoked_at = $1, revoked_by = $2, revoke_reason = $3 \
         WHERE tenant_id = $4 AND public_id = $5 AND status = 'active'",
    )
    .bind(now)
    .bind(&actor.display)
    .bind((!reason.is_empty()).then_some(reason))
    .bind(tenant_id)
    .bind(public_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 1 {
        let details = serde_json::json!({ "name": name, "reason": reason });
        let event = Event::key(tenant_id, AuditAction::KeyRevoked, public_id, details);
        record(tx, now, actor, event).await?;
    }
    Ok(done == 1)
}

/// Resolves a key's tenant for the operator CLI (`key revoke <id>` names no tenant).
pub async fn tenant_of(db: &Db, public_id: &str) -> AppResult<i64> {
    if !storable(public_id) {
        return Err(AppError::NotFound);
    }
    sqlx::query_scalar::<_, i64>("SELECT tenant_id FROM api_keys WHERE public_id = $1")
        .bind(public_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)
}
