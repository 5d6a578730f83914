//! Keys in storage. Only the HMAC digest of a secret is stored; every query is scoped by tenant.

use super::api::{AuditRow, KeyEdit, KeyStatus, KeyView, NewKey, RequestRow};
use crate::audit::server::{record, Event};
use crate::auth::server::Ctx;
use crate::db::{keyset_page, now_ms, Db};
use crate::error::{AppError, AppResult, FieldError};
use latchkey_domain::cidr::Allowlist;
use latchkey_domain::keys::{self, Digest, Mode, Pepper, Secret, HASH_VERSION};
use latchkey_domain::{scopes, Plan};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::net::IpAddr;

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 500;

/// Who is acting, for `created_by` and audit events. The CLI acts as `operator`.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub display: String,
    pub audit_name: String,
    pub client_ip: Option<IpAddr>,
}

impl Actor {
    pub fn from_ctx(ctx: &Ctx) -> Self {
        Self {
            user_id: Some(ctx.user_id),
            display: ctx.name.clone(),
            audit_name: ctx.email.clone(),
            client_ip: Some(ctx.client_ip),
        }
    }

    /// A key acting through the `/v1` API: audited as `api_key:<id>`.
    pub fn api_key(public_id: &str, name: &str, client_ip: Option<IpAddr>) -> Self {
        Self {
            user_id: None,
            display: format!("API key “{name}”"),
            audit_name: format!("api_key:{public_id}"),
            client_ip,
        }
    }

    pub fn operator() -> Self {
        Self {
            user_id: None,
            display: "operator".into(),
            audit_name: "operator".into(),
            client_ip: None,
        }
    }

    fn event(
        &self,
        tenant_id: i64,
        action: &'static str,
        key_id: &str,
        details: serde_json::Value,
    ) -> Event {
        Event {
            tenant_id: Some(tenant_id),
            actor_user_id: self.user_id,
            actor: self.audit_name.clone(),
            action,
            target_type: Some("api_key"),
            target_id: Some(key_id.to_owned()),
            client_ip: self.client_ip,
            details,
        }
    }
}

const COLUMNS: &str = "id, public_id, name, description, mode, scopes, allowlist, masked, status, \
     expires_at, created_at, created_by_name, last_used_at, revoked_at, revoked_by, revoke_reason";

fn view(row: &AnyRow, now: i64) -> AppResult<KeyView> {
    let mode: String = row.try_get("mode")?;
    let status: String = row.try_get("status")?;
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let scopes: String = row.try_get("scopes")?;
    let allowlist: String = row.try_get("allowlist")?;
    let status = match status.as_str() {
        "revoked" => KeyStatus::Revoked,
        _ if expires_at.is_some_and(|e| e <= now) => KeyStatus::Expired,
        _ => KeyStatus::Active,
    };
    Ok(KeyView {
        id: row.try_get("public_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        mode: mode.parse().map_err(AppError::internal)?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        allowlist: allowlist.lines().map(str::to_owned).collect(),
        masked: row.try_get("masked")?,
        status,
        expires_at,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by_name")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_by: row.try_get("revoked_by")?,
        revoke_reason: row.try_get("revoke_reason")?,
    })
}

/// Checks name, description and allowlist; collects every problem at once.
fn validate_common(
    name: &str,
    description: &str,
    allowlist: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Allowlist> {
    let mut push = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let name = name.trim();
    if name.is_empty() {
        push("name", "Give the key a name.".into());
    } else if name.chars().count() > NAME_MAX {
        push("name", format!("Use at most {NAME_MAX} characters."));
    }
    if description.trim().chars().count() > DESCRIPTION_MAX {
        push(
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters."),
        );
    }
    match Allowlist::parse_lines(allowlist) {
        Ok(a) => Some(a),
        Err(lines) => {
            for l in lines {
                let msg = if l.line > 0 {
                    format!("Line {}: {}", l.line, l.message)
                } else {
                    l.message
                };
                push("allowlist", msg);
            }
            None
        }
    }
}

/// The number of keys that count against the plan: active and not yet expired.
pub async fn active_count<'e, E>(executor: E, tenant_id: i64) -> AppResult<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM api_keys WHERE tenant_id = $1 AND status = 'active' \
         AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(tenant_id)
    .bind(now_ms())
    .fetch_one(executor)
    .await?;
    Ok(row.try_get("n")?)
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
) -> AppResult<(KeyView, Secret)> {
    let mut errors = Vec::new();
    let allowlist = validate_common(&new.name, &new.description, &new.allowlist, &mut errors);
    let mode = new.mode.unwrap_or(Mode::Test);
    let scopes = match scopes::validate(&new.scopes, catalogue) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(FieldError {
                field: "scopes".into(),
                message: capitalise(&e.to_string()),
            });
            None
        }
    };
    if let (Some(granter), Some(wanted)) = (granter_scopes, scopes.as_ref()) {
        if !scopes::covers(granter, wanted) {
            errors.push(FieldError {
                field: "scopes".into(),
                message: "A key can only grant scopes it holds itself.".into(),
            });
        }
    }
    let now = now_ms();
    let expires_at = match new.expires_on.trim() {
        "" => None,
        s => match latchkey_domain::time::parse_date_end_ms(s) {
            Some(ms) if ms > now => Some(ms),
            Some(_) => {
                errors.push(FieldError {
                    field: "expires_on".into(),
                    message: "Choose a date in the future.".into(),
                });
                None
            }
            None => {
                errors.push(FieldError {
                    field: "expires_on".into(),
                    message: "Use a date like 2027-01-31.".into(),
                });
                None
            }
        },
    };
    let (Some(allowlist), Some(scopes), true) = (allowlist, scopes, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let limit = plan.limits();
    if !limit.api_keys {
        return Err(AppError::PlanRequired);
    }

    let secret = keys::generate(mode);
    let digest = Digest::of(pepper, secret.expose());
    let public_id = format!("key_{}", keys::random_base62(20));
    let name = new.name.trim().to_owned();

    let mut tx = db.pool.begin().await?;
    // Taking the tenant row's write lock first serialises concurrent creates on both engines,
    // so the count below cannot be raced past the plan limit.
    sqlx::query("UPDATE tenants SET key_seq = key_seq + 1 WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    let active = active_count(&mut *tx, tenant_id).await?;
    if active >= i64::from(limit.max_active_keys) {
        return Err(AppError::Conflict(format!(
            "Your {} plan allows {} active keys and you have {}. Revoke a key you no longer \
             need, or upgrade in Settings ▸ Billing.",
            plan.label(),
            limit.max_active_keys,
            active
        )));
    }
    let row = sqlx::query(&format!(
        "INSERT INTO api_keys (public_id, tenant_id, name, description, mode, scopes, allowlist, \
         digest, hash_version, masked, status, expires_at, created_at, created_by, created_by_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13, $14) \
         RETURNING {COLUMNS}"
    ))
    .bind(&public_id)
    .bind(tenant_id)
    .bind(&name)
    .bind(new.description.trim())
    .bind(mode.as_str())
    .bind(scopes.join(" "))
    .bind(allowlist.to_lines())
    .bind(digest.to_hex())
    .bind(HASH_VERSION)
    .bind(secret.masked())
    .bind(expires_at)
    .bind(now)
    .bind(actor.user_id)
    .bind(&actor.display)
    .fetch_one(&mut *tx)
    .await?;
    let key = view(&row, now)?;
    record(
        &mut *tx,
        actor.event(
            tenant_id,
            "api_key.created",
            &public_id,
            serde_json::json!({
                "name": name,
                "mode": mode.as_str(),
                "scopes": scopes,
                "allowlist": key.allowlist,
                "expires_at": expires_at,
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant_id, key_id = %public_id, mode = %mode, "api key created");
    Ok((key, secret))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One page of keys, newest first, by keyset on the row id (fast at any depth).
pub async fn list(
    db: &Db,
    tenant_id: i64,
    search: &str,
    include_revoked: bool,
    before: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<KeyView>, Option<i64>)> {
    let mut sql = format!("SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id < $2");
    if !include_revoked {
        sql.push_str(" AND status = 'active'");
    }
    let search = search.trim();
    if !search.is_empty() {
        sql.push_str(" AND LOWER(name) LIKE $4 ESCAPE '\\'");
    }
    sql.push_str(" ORDER BY id DESC LIMIT $3");
    let pattern = format!(
        "%{}%",
        search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut q = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit + 1);
    if !search.is_empty() {
        q = q.bind(pattern);
    }
    let rows = q.fetch_all(&db.pool).await?;
    let now = now_ms();
    keyset_page(&rows, limit, |row| view(row, now))
}

async fn fetch(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<AnyRow> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND public_id = $2"
    ))
    .bind(tenant_id)
    .bind(public_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn get(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<KeyView> {
    view(&fetch(db, tenant_id, public_id).await?, now_ms())
}

/// Changes name, description and allowlist only: a key's mode and scopes never change.
pub async fn update(db: &Db, tenant_id: i64, actor: &Actor, edit: KeyEdit) -> AppResult<KeyView> {
    let mut errors = Vec::new();
    let allowlist = validate_common(&edit.name, &edit.description, &edit.allowlist, &mut errors);
    let (Some(allowlist), true) = (allowlist, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
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
    sqlx::query(
        "UPDATE api_keys SET name = $1, description = $2, allowlist = $3 \
         WHERE tenant_id = $4 AND public_id = $5",
    )
    .bind(&name)
    .bind(&description)
    .bind(allowlist.to_lines())
    .bind(tenant_id)
    .bind(&edit.id)
    .execute(&mut *tx)
    .await?;
    record(
        &mut *tx,
        actor.event(
            tenant_id,
            "api_key.updated",
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
    let key = get(db, tenant_id, public_id).await?;
    if key.status == KeyStatus::Revoked {
        return Ok(key);
    }
    let mut tx = db.pool.begin().await?;
    let now = now_ms();
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
        record(
            &mut *tx,
            actor.event(
                tenant_id,
                "api_key.revoked",
                public_id,
                serde_json::json!({ "name": key.name, "reason": reason }),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(tenant_id, key_id = %public_id, "api key revoked");
    get(db, tenant_id, public_id).await
}

/// The key's audit events, newest first.
pub async fn audit_trail(db: &Db, tenant_id: i64, public_id: &str) -> AppResult<Vec<AuditRow>> {
    let rows = sqlx::query(
        "SELECT created_at, actor, action, details FROM audit_events \
         WHERE tenant_id = $1 AND target_id = $2 ORDER BY id DESC LIMIT 200",
    )
    .bind(tenant_id)
    .bind(public_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                at: r.try_get("created_at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                details: r.try_get("details")?,
            })
        })
        .collect()
}

/// Resolves a key's tenant for the operator CLI (`key revoke <id>` names no tenant).
pub async fn tenant_of(db: &Db, public_id: &str) -> AppResult<i64> {
    let row = sqlx::query("SELECT tenant_id FROM api_keys WHERE public_id = $1")
        .bind(public_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(row.try_get("tenant_id")?)
}

/// One page of a key's request log, newest first, by keyset on the row id. A key of another
/// tenant is "not found", like everywhere else.
pub async fn request_log(
    db: &Db,
    tenant_id: i64,
    public_id: &str,
    before: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<RequestRow>, Option<i64>)> {
    let key = sqlx::query("SELECT id FROM api_keys WHERE tenant_id = $1 AND public_id = $2")
        .bind(tenant_id)
        .bind(public_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let key_id: i64 = key.try_get("id")?;
    let rows = sqlx::query(
        "SELECT id, created_at, method, path, status, client_ip, latency_us, request_id \
         FROM request_logs WHERE tenant_id = $1 AND key_id = $2 AND id < $3 \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(tenant_id)
    .bind(key_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    keyset_page(&rows, limit, |r| {
        let status: i64 = r.try_get("status")?;
        Ok(RequestRow {
            at: r.try_get("created_at")?,
            method: r.try_get("method")?,
            path: r.try_get("path")?,
            status: u16::try_from(status).unwrap_or(0),
            client_ip: r
                .try_get::<Option<String>, _>("client_ip")?
                .unwrap_or_default(),
            latency_us: r.try_get("latency_us")?,
            request_id: r.try_get("request_id")?,
        })
    })
}
