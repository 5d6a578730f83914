//! DTOs and server functions for Settings ▸ API Keys. Every function starts with `require`.

use crate::error::AppError;
use latchkey_domain::keys::Mode;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
}

impl KeyStatus {
    pub fn label(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Revoked => "Revoked",
            KeyStatus::Expired => "Expired",
        }
    }
}

/// A key as anyone allowed to see it sees it: never the secret, never the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub mode: Mode,
    pub scopes: Vec<String>,
    pub allowlist: Vec<String>,
    pub masked: String,
    pub status: KeyStatus,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    pub keys: Vec<KeyView>,
    /// Pass as `before` to get the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
    pub can_manage: bool,
    pub active_count: i64,
    pub active_limit: u32,
    pub catalogue: Vec<String>,
}

/// What the create dialog sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    pub name: String,
    pub description: String,
    pub mode: Option<Mode>,
    pub scopes: Vec<String>,
    /// One CIDR or address a line.
    pub allowlist: String,
    /// `YYYY-MM-DD` (the key works through the end of that UTC day), or empty for never.
    pub expires_on: String,
}

/// The one response that carries a plaintext key: shown once, then gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: KeyView,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDetail {
    pub key: KeyView,
    pub can_manage: bool,
    /// `None` when the caller's role may not read the audit log.
    pub audit: Option<Vec<AuditRow>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEdit {
    pub id: String,
    pub name: String,
    pub description: String,
    pub allowlist: String,
}

#[server(endpoint = "keys/list", input = Json)]
pub async fn list_keys(
    search: String,
    include_revoked: bool,
    before: Option<i64>,
) -> Result<KeyPage, AppError> {
    use crate::api_keys::server;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ViewKeys).await?;
    let state = state()?;
    let (keys, next_before) = server::list(
        &state.db,
        ctx.tenant_id,
        &search,
        include_revoked,
        before,
        50,
    )
    .await?;
    Ok(KeyPage {
        keys,
        next_before,
        can_manage: Action::ManageKeys.allowed_for(ctx.role),
        active_count: server::active_count(&state.db.pool, ctx.tenant_id).await?,
        active_limit: ctx.plan.limits().max_active_keys,
        catalogue: state.settings.scope_catalogue.clone(),
    })
}

#[server(endpoint = "keys/get", input = Json)]
pub async fn get_key(id: String) -> Result<KeyDetail, AppError> {
    use crate::api_keys::server;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ViewKeys).await?;
    let state = state()?;
    let key = server::get(&state.db, ctx.tenant_id, &id).await?;
    let audit = if Action::ViewAudit.allowed_for(ctx.role) {
        Some(server::audit_trail(&state.db, ctx.tenant_id, &id).await?)
    } else {
        None
    };
    Ok(KeyDetail {
        key,
        can_manage: Action::ManageKeys.allowed_for(ctx.role),
        audit,
    })
}

#[server(endpoint = "keys/create", input = Json)]
pub async fn create_key(new: NewKey) -> Result<CreatedKey, AppError> {
    use crate::api_keys::server;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ManageKeys).await?;
    let state = state()?;
    let (key, secret) = server::create(
        &state.db,
        &state.pepper,
        &state.settings.scope_catalogue,
        ctx.tenant_id,
        ctx.plan,
        &server::Actor::from_ctx(&ctx),
        new,
        None,
    )
    .await?;
    Ok(CreatedKey {
        key,
        secret: secret.expose().to_owned(),
    })
}

#[server(endpoint = "keys/update", input = Json)]
pub async fn update_key(edit: KeyEdit) -> Result<KeyView, AppError> {
    use crate::api_keys::server;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ManageKeys).await?;
    let state = state()?;
    let id = edit.id.clone();
    let key = server::update(
        &state.db,
        ctx.tenant_id,
        &server::Actor::from_ctx(&ctx),
        edit,
    )
    .await?;
    // An allowlist edit applies from the very next request.
    state.verifier.forget_key(ctx.tenant_id, &id).await;
    Ok(key)
}

#[server(endpoint = "keys/revoke", input = Json)]
pub async fn revoke_key(id: String, reason: String) -> Result<KeyView, AppError> {
    use crate::api_keys::server;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ManageKeys).await?;
    let state = state()?;
    let key = server::revoke(
        &state.db,
        ctx.tenant_id,
        &server::Actor::from_ctx(&ctx),
        &id,
        &reason,
    )
    .await?;
    // Takes effect on the very next request, not when a cache entry happens to expire.
    state.verifier.forget_key(ctx.tenant_id, &id).await;
    Ok(key)
}

/// One request made with a key, as its request log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub at: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub client_ip: String,
    pub latency_us: i64,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPage {
    pub rows: Vec<RequestRow>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// A key's request log, newest first (owner, admin, member).
#[server(endpoint = "keys/requests", input = Json)]
pub async fn key_requests(id: String, before: Option<i64>) -> Result<RequestPage, AppError> {
    use crate::api_keys::server;
    use crate::auth::server::{require, state};
    use latchkey_domain::Action;

    let ctx = require(Action::ViewRequestLog).await?;
    let state = state()?;
    let (rows, next_before) =
        server::request_log(&state.db, ctx.tenant_id, &id, before, 25).await?;
    Ok(RequestPage { rows, next_before })
}
