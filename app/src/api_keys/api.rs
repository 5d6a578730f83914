//! DTOs and server functions for Settings ▸ API Keys. Every function starts with `require`,
//! and carries the tenant the page was drawn for (`tenant`), which the guard checks.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use latchkey_domain::scopes::ScopeInfo;
pub use latchkey_domain::usage::KeyUsage;
pub use latchkey_domain::views::{
    AuditRow, KeyEdit, KeyFilter, KeyStatus, KeyView, NewKey, Overlap, RequestRow,
};

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
    pub catalogue: Vec<ScopeInfo>,
    /// Requests in the last 24 hours of each listed key that had any, by key id.
    pub requests_24h: std::collections::BTreeMap<String, u64>,
    /// The server's clock when the page was read: relative times ("expires in 23 h") render
    /// from it, so the server's HTML and the hydrated page say the same.
    pub now_ms: i64,
}

/// The one response that carries a plaintext key: shown once, then gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: KeyView,
    pub secret: String,
}

/// The create dialog's form as it posts (`new[scopes][]`, and the ids ticked of one resource
/// type), read into a [`NewKey`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKeyForm {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub mode: Option<latchkey_domain::keys::Mode>,
    /// No box ticked sends no `new[scopes][]` at all: none chosen.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub allowlist: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub resource_type: String,
    /// Ids of resources of `resource_type`.
    #[serde(default)]
    pub resources: Vec<String>,
}

impl From<NewKeyForm> for NewKey {
    fn from(f: NewKeyForm) -> Self {
        let kind = f.resource_type;
        NewKey {
            name: f.name,
            description: f.description,
            mode: f.mode,
            scopes: f.scopes,
            allowlist: f.allowlist,
            expires_on: f.expires_on,
            resources: f
                .resources
                .into_iter()
                .map(|id| latchkey_domain::views::ResourceRef {
                    kind: kind.clone(),
                    id,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDetail {
    pub key: KeyView,
    pub can_manage: bool,
    /// `None` when the caller's role may not read the audit log.
    pub audit: Option<Vec<AuditRow>>,
    /// Requests per hour and per day, for the charts.
    pub usage: KeyUsage,
    /// For the scope badges' descriptions.
    pub catalogue: Vec<ScopeInfo>,
    /// As [`KeyPage::now_ms`].
    pub now_ms: i64,
}

#[server(endpoint = "keys/list", input = Json)]
pub async fn list_keys(
    tenant: i64,
    search: String,
    include_revoked: bool,
    /// Only keys in this state; `None`: every key but revoked ones (unless `include_revoked`).
    #[server(default)]
    status: Option<KeyFilter>,
    before: Option<i64>,
) -> Result<KeyPage, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewKeys, tenant).await?;
    let state = state()?;
    // Read before the list, so every key it shows as active expires after this.
    let now_ms = state.db.clock.now_ms();
    let query = store::keys::KeyQuery {
        search: &search,
        include_revoked,
        status,
        before,
        limit: 50,
        ..Default::default()
    };
    let (keys, next_before) = store::keys::list(&state.db, session.tenant_id, &query).await?;
    let ids: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    let requests_24h = store::keys::last_24h(&state.db, session.tenant_id, &ids).await?;
    Ok(KeyPage {
        keys,
        next_before,
        can_manage: Action::ManageKeys.check(session.role, session.plan).is_ok(),
        can_revoke: Action::RevokeKey.check(session.role, session.plan).is_ok(),
        suspended: !session.plan.limits().api_keys,
        active_count: store::keys::count_active(&state.db, session.tenant_id).await?,
        // The operator's per-tenant limit when it set one, else the plan's.
        active_limit: store::operator::tenants::by_id(&state.db, session.tenant_id)
            .await?
            .max_keys
            .unwrap_or(session.plan.limits().max_active_keys),
        catalogue: state.settings.catalogue_info(),
        requests_24h,
        now_ms,
    })
}

#[server(endpoint = "keys/get", input = Json)]
pub async fn get_key(tenant: i64, id: String) -> Result<KeyDetail, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ViewKeys, tenant).await?;
    let state = state()?;
    let now_ms = state.db.clock.now_ms();
    let key = store::keys::get(&state.db, session.tenant_id, &id).await?;
    let audit = if Action::ViewAudit.allowed_for(session.role) {
        Some(store::audit::key_trail(&state.db, session.tenant_id, &id).await?)
    } else {
        None
    };
    let usage = store::keys::usage(&state.db, session.tenant_id, &id).await?;
    Ok(KeyDetail {
        key,
        can_manage: Action::ManageKeys.check(session.role, session.plan).is_ok(),
        audit,
        usage,
        catalogue: state.settings.catalogue_info(),
        now_ms,
    })
}

/// Posted by the create dialog's form (the page script shows the answer's secret).
#[server(endpoint = "keys/create")]
pub async fn create_key(tenant: i64, new: NewKeyForm) -> Result<CreatedKey, AppError> {
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
        new.into(),
        None,
        // People are not limited to resources; the key they create may be.
        None,
        &state.settings.resource_types,
    )
    .await?;
    Ok(CreatedKey {
        key,
        secret: secret.expose().to_owned(),
    })
}

#[server(endpoint = "keys/update")]
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

#[server(endpoint = "keys/revoke")]
pub async fn revoke_key(tenant: i64, id: String, reason: String) -> Result<KeyView, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::RevokeKey, tenant).await?;
    let state = state()?;
    let key =
        store::keys::revoke(&state.db, session.tenant_id, &session.actor(), &id, &reason).await?;
    // Takes effect on the very next request, not when a cache entry happens to expire.
    state.verifier.forget_key(session.tenant_id, &id).await;
    crate::guard::set_notice(&format!(
        "Revoked “{}”. It stops working on its next request.",
        key.name
    ));
    Ok(key)
}

/// A roll's answer: the replacement with its secret (shown once, like a new key's), and the old
/// key as it now is (working until the end of the overlap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolledKey {
    pub created: CreatedKey,
    pub old: KeyView,
}

/// Rolls a key: a replacement with the same rights, the old key kept for `overlap`.
#[server(endpoint = "keys/roll")]
pub async fn roll_key(tenant: i64, id: String, overlap: Overlap) -> Result<RolledKey, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageKeys, tenant).await?;
    let state = state()?;
    let rolled = store::keys::roll(
        &state.db,
        &state.pepper,
        session.tenant_id,
        session.plan,
        &session.actor(),
        &id,
        overlap,
    )
    .await?;
    // "Now" stops the old key on its very next request.
    state.verifier.forget_key(session.tenant_id, &id).await;
    // Said by the page that loads once the new secret's dialog is closed.
    crate::guard::set_notice(&notices::rolled(&rolled.old));
    Ok(RolledKey {
        created: CreatedKey {
            key: rolled.new,
            secret: rolled.secret.expose().to_owned(),
        },
        old: rolled.old,
    })
}

/// Disables (`enabled = false`) or re-enables a key, from its next request. Posted by a plain
/// form: it lands back on the page with a notice.
#[server(endpoint = "keys/set_enabled")]
pub async fn set_key_enabled(tenant: i64, id: String, enabled: bool) -> Result<KeyView, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageKeys, tenant).await?;
    let state = state()?;
    let key =
        store::keys::set_enabled(&state.db, session.tenant_id, &session.actor(), &id, enabled)
            .await?;
    state.verifier.forget_key(session.tenant_id, &id).await;
    crate::guard::set_notice(&notices::toggled(&key));
    Ok(key)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPage {
    pub rows: Vec<RequestRow>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
    /// The server's clock when the page was read (as [`KeyPage::now_ms`]).
    pub now_ms: i64,
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
    let now_ms = state.db.clock.now_ms();
    let (rows, next_before) =
        store::keys::request_log(&state.db, session.tenant_id, &id, before, 25).await?;
    Ok(RequestPage {
        rows,
        next_before,
        now_ms,
    })
}

/// What the page says after a change to a key, once it has loaded again.
#[cfg(feature = "ssr")]
mod notices {
    use super::{KeyStatus, KeyView};
    use latchkey_domain::time::format_ms;

    pub fn rolled(old: &KeyView) -> String {
        match (old.status, old.expires_at) {
            (KeyStatus::Active | KeyStatus::Disabled, Some(at)) => format!(
                "Rolled “{}”. The old key stops working at {}.",
                old.name,
                format_ms(at)
            ),
            _ => format!("Rolled “{}”. The old key no longer works.", old.name),
        }
    }

    pub fn toggled(k: &KeyView) -> String {
        if k.status == KeyStatus::Disabled {
            format!(
                "Disabled “{}”. Its requests are refused until it is enabled again.",
                k.name
            )
        } else {
            format!(
                "Enabled “{}”. It works again from its next request.",
                k.name
            )
        }
    }
}
