//! Audit events: who acted (one `Actor` type for people, keys, the operator and the seed), what
//! they did (one list of actions, `latchkey_domain::audit`), appended inside the caller's
//! transaction to the tenant's hash chain, read back newest first, exported as CSV and pruned
//! only by retention. Rows are never updated, and deleted only where a checkpoint covers them.

pub mod anchor;
pub mod chain;
pub mod export;
pub mod list;
pub mod retention;
pub mod seal;
mod summary;
mod verify;

pub use latchkey_domain::audit::AuditAction;
pub use list::{key_trail, list, AuditCursor, AuditFilter, AuditPage};

use crate::db::Db;
use latchkey_domain::error::AppResult;
use std::net::IpAddr;

/// Who is acting: written into `created_by`/`revoked_by` (display) and audit events (audit name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// What pages show, e.g. the person's name.
    pub display: String,
    /// What the audit log records, e.g. an email, `api_key:key_…` or `operator`.
    pub audit_name: String,
    pub client_ip: Option<IpAddr>,
    /// The `Idempotency-Key` an operator call carried: added to each event's details.
    pub idempotency_key: Option<String>,
}

impl Actor {
    /// A signed-in person.
    pub fn user(user_id: i64, name: &str, email: &str, client_ip: Option<IpAddr>) -> Self {
        Self {
            user_id: Some(user_id),
            display: name.to_owned(),
            audit_name: email.to_owned(),
            client_ip,
            idempotency_key: None,
        }
    }

    /// A key acting through the `/v1` API: audited as `api_key:<id>`.
    pub fn api_key(public_id: &str, name: &str, client_ip: Option<IpAddr>) -> Self {
        Self {
            user_id: None,
            display: format!("API key “{name}”"),
            audit_name: format!("api_key:{public_id}"),
            client_ip,
            idempotency_key: None,
        }
    }

    /// The operator's CLI (another process, no address).
    pub fn operator() -> Self {
        Self::named("operator")
    }

    /// A named system actor, e.g. the demo seed.
    pub fn named(name: &str) -> Self {
        Self {
            user_id: None,
            display: name.to_owned(),
            audit_name: name.to_owned(),
            client_ip: None,
            idempotency_key: None,
        }
    }

    /// Someone not signed in (a failed sign-in), known only by address.
    pub fn anonymous(client_ip: IpAddr) -> Self {
        Self {
            client_ip: Some(client_ip),
            ..Self::named("anonymous")
        }
    }
}

/// What happened, to what. `details` must never contain a secret.
#[derive(Debug, Clone)]
pub struct Event {
    /// `None` for what belongs to no organisation (failed sign-ins, creating users).
    pub tenant_id: Option<i64>,
    pub action: AuditAction,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
}

impl Event {
    /// An event about one API key.
    pub fn key(
        tenant_id: i64,
        action: AuditAction,
        key_id: &str,
        details: serde_json::Value,
    ) -> Self {
        Self {
            tenant_id: Some(tenant_id),
            action,
            target_type: Some("api_key"),
            target_id: Some(key_id.to_owned()),
            details,
        }
    }

    /// An event about a person (signing in and out, memberships).
    pub fn user(
        tenant_id: Option<i64>,
        action: AuditAction,
        user_id: i64,
        details: serde_json::Value,
    ) -> Self {
        Self {
            tenant_id,
            action,
            target_type: Some("user"),
            target_id: Some(user_id.to_string()),
            details,
        }
    }

    /// An event about the organisation itself (plan, audit export and retention).
    pub fn tenant(tenant_id: i64, action: AuditAction, details: serde_json::Value) -> Self {
        Self {
            tenant_id: Some(tenant_id),
            action,
            target_type: Some("tenant"),
            target_id: Some(tenant_id.to_string()),
            details,
        }
    }
}

/// Appends one event at `now` to its tenant's chain, inside the caller's transaction (the chain's
/// head stays locked until it commits, which is what serialises writers of one tenant).
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    actor: &Actor,
    mut ev: Event,
) -> AppResult<()> {
    if let (Some(key), Some(details)) = (&actor.idempotency_key, ev.details.as_object_mut()) {
        details.insert("idempotency_key".into(), key.clone().into());
    }
    // A key change's webhook joins the same transaction: both commit, or neither.
    crate::webhooks::outbox::from_audit(conn, now, actor, &ev).await?;
    chain::append(conn, now, actor, ev).await
}

/// Appends one event in a transaction of its own.
pub async fn record_now(db: &Db, actor: &Actor, ev: Event) -> AppResult<()> {
    let mut tx = db.pool.begin().await?;
    record(&mut tx, db.clock.now_ms(), actor, ev).await?;
    tx.commit().await?;
    Ok(())
}
