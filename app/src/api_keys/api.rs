//! DTOs and server functions for Settings ▸ API Keys. Every function starts with `require`,
//! and carries the tenant the page was drawn for (`tenant`), which the guard checks.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use latchkey_domain::views::{AuditRow, KeyEdit, KeyStatus, KeyView, NewKey, RequestRow};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    pub keys: Vec<KeyView>,
    /// Pass as `before` to get the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
    pub can_manage: bool,
    /// May revoke keys (also while suspended, unlike `can_manage`).
    pub can_revoke: bool,
    /// The tenant's plan has no API keys: its keys are kept but refused (SPEC §2).
    pub suspended: bool,
    pub active_count: i64,
    pub active_limit: u32,
    pub catalogue: Vec<String>,
}

/// The one response that carries a plaintext key: shown once, then gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: KeyView,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDetail {
    pub key: KeyView,
    pub can_manage: bool,
    /// `None` when the caller's role may not read the audit log.
    pub audit: Option<Vec<AuditRow>>,
}

#[server(endpoint = "keys/list", input = Json)]
pub async fn list_keys(
    tenant: i64,
    search: String,
    include_revoked: bool,
    before: Option<i64>,
) -> Result<KeyPage, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewKeys, tenant).await?;
    let state = state()?;
    let (keys, next_before) = store::keys::list(
        &state.db,
        session.tenant_id,
        &search,
        include_revoked,
        None,
        before,
        50,
    )
    .await?;
    Ok(KeyPage {
        keys,
        next_before,
        can_manage: Action::ManageKeys.check(session.role, session.plan).is_ok(),
        can_revoke: Action::RevokeKey.check(session.role, session.plan).is_ok(),
        suspended: !session.plan.limits().api_keys,
        active_count: store::keys::active_count(&state.db.pool, session.tenant_id).await?,
        active_limit: session.plan.limits().max_active_keys,
        catalogue: state.settings.scope_catalogue.clone(),
    })
}

#[server(endpoint = "keys/get", input = Json)]
pub async fn get_key(tenant: i64, id: String) -> Result<KeyDetail, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewKeys, tenant).await?;
    let state = state()?;
    let key = store::keys::get(&state.db, session.tenant_id, &id).await?;
    let audit = if Action::ViewAudit.allowed_for(session.role) {
        Some(store::audit::key_trail(&state.db, session.tenant_id, &id).await?)
    } else {
        None
    };
    Ok(KeyDetail {
        key,
        can_manage: Action::ManageKeys.check(session.role, session.plan).is_ok(),
        audit,
    })
}

#[server(endpoint = "keys/create", input = Json)]
pub async fn create_key(tenant: i64, new: NewKey) -> Result<CreatedKey, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageKeys, tenant).await?;
    let state = state()?;
    let (key, secret) = store::keys::create(
        &state.db,
        &state.pepper,
        &state.settings.scope_catalogue,
        session.tenant_id,
        session.plan,
        &session.actor(),
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
pub async fn update_key(tenant: i64, edit: KeyEdit) -> Result<KeyView, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageKeys, tenant).await?;
    let state = state()?;
    let id = edit.id.clone();
    let key = store::keys::update(&state.db, session.tenant_id, &session.actor(), edit).await?;
    // An allowlist edit applies from the very next request.
    state.verifier.forget_key(session.tenant_id, &id).await;
    Ok(key)
}

#[server(endpoint = "keys/revoke", input = Json)]
pub async fn revoke_key(tenant: i64, id: String, reason: String) -> Result<KeyView, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::RevokeKey, tenant).await?;
    let state = state()?;
    let key =
        store::keys::revoke(&state.db, session.tenant_id, &session.actor(), &id, &reason).await?;
    // Takes effect on the very next request, not when a cache entry happens to expire.
    state.verifier.forget_key(session.tenant_id, &id).await;
    Ok(key)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPage {
    pub rows: Vec<RequestRow>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// A key's request log, newest first (owner, admin, member).
#[server(endpoint = "keys/requests", input = Json)]
pub async fn key_requests(
    tenant: i64,
    id: String,
    before: Option<i64>,
) -> Result<RequestPage, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewRequestLog, tenant).await?;
    let state = state()?;
    let (rows, next_before) =
        store::keys::request_log(&state.db, session.tenant_id, &id, before, 25).await?;
    Ok(RequestPage { rows, next_before })
}
