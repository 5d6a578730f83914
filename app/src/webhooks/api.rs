//! Server functions for Settings ▸ Webhooks: owners and admins only. Each starts with
//! `require`; the store scopes every query by the session's tenant.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use latchkey_domain::webhooks::{AttemptView, EndpointView, KeySafety, LeakPolicy};

/// One subscribable event with what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksData {
    pub endpoints: Vec<EndpointView>,
    pub events: Vec<EventInfo>,
    pub safety: KeySafety,
    pub now: i64,
}

/// The one answer that carries a signing secret: shown once. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSecret {
    pub endpoint: EndpointView,
    pub secret: String,
}

impl std::fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointSecret")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[server(endpoint = "webhooks/list", input = Json)]
pub async fn list_webhooks(tenant: i64) -> Result<WebhooksData, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::webhooks::EventType;
    use latchkey_domain::Action;

    let session = require(Action::ManageWebhooks, tenant).await?;
    let db = &state()?.db;
    Ok(WebhooksData {
        endpoints: store::webhooks::list(db, session.tenant_id).await?,
        events: EventType::subscribable()
            .map(|e| EventInfo {
                name: e.as_str().to_owned(),
                description: e.describe().to_owned(),
            })
            .collect(),
        safety: store::webhooks::safety::get(db, session.tenant_id).await?,
        now: db.clock.now_ms(),
    })
}

#[server(endpoint = "webhooks/create")]
pub async fn add_webhook(
    tenant: i64,
    url: String,
    description: String,
    // A form with no box ticked sends no `events[]` at all: none chosen.
    #[server(default)] events: Vec<String>,
) -> Result<EndpointSecret, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;
    use store::webhooks::EndpointInput;

    let session = require(Action::ManageWebhooks, tenant).await?;
    let state = state()?;
    let (endpoint, secret) = store::webhooks::create(
        &state.db,
        &state.pepper,
        &state.settings.webhooks,
        session.tenant_id,
        &session.actor(),
        EndpointInput {
            url,
            description,
            events,
        },
    )
    .await?;
    crate::guard::set_notice(&format!("Added the endpoint {}.", endpoint.url));
    Ok(EndpointSecret {
        endpoint,
        secret: secret.expose().to_owned(),
    })
}

#[server(endpoint = "webhooks/update")]
pub async fn update_webhook(
    tenant: i64,
    id: String,
    url: String,
    description: String,
    #[server(default)] events: Vec<String>,
) -> Result<EndpointView, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;
    use store::webhooks::EndpointInput;

    let session = require(Action::ManageWebhooks, tenant).await?;
    let state = state()?;
    let endpoint = store::webhooks::update(
        &state.db,
        &state.settings.webhooks,
        session.tenant_id,
        &session.actor(),
        &id,
        EndpointInput {
            url,
            description,
            events,
        },
    )
    .await?;
    crate::guard::set_notice(&format!("Saved the endpoint {}.", endpoint.url));
    Ok(endpoint)
}

#[server(endpoint = "webhooks/roll_secret")]
pub async fn roll_webhook_secret(tenant: i64, id: String) -> Result<EndpointSecret, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageWebhooks, tenant).await?;
    let state = state()?;
    let (endpoint, secret) = store::webhooks::roll_secret(
        &state.db,
        &state.pepper,
        session.tenant_id,
        &session.actor(),
        &id,
    )
    .await?;
    // Said by the page that loads once the new secret's dialog is closed.
    crate::guard::set_notice(&format!("Rolled the signing secret of {}.", endpoint.url));
    Ok(EndpointSecret {
        endpoint,
        secret: secret.expose().to_owned(),
    })
}

#[server(endpoint = "webhooks/remove")]
pub async fn remove_webhook(tenant: i64, id: String) -> Result<(), AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageWebhooks, tenant).await?;
    store::webhooks::remove(&state()?.db, session.tenant_id, &session.actor(), &id).await?;
    crate::guard::set_notice("Removed the endpoint.");
    Ok(())
}

#[server(endpoint = "webhooks/test")]
pub async fn send_test_webhook(tenant: i64, id: String) -> Result<String, AppError> {
    use crate::guard::{require, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageWebhooks, tenant).await?;
    // Rate-limited per endpoint, audited, and wakes the worker.
    let event = state()?
        .webhooks
        .send_test(session.tenant_id, &session.actor(), &id)
        .await?;
    crate::guard::set_notice(&format!("Test event {event} queued."));
    // The page loads again once this answers: wait a little (5 s at most) for the first attempt,
    // so the log it draws shows it.
    for _ in 0..50 {
        let logged = store::webhooks::list(&state()?.db, session.tenant_id)
            .await?
            .iter()
            .any(|e| e.id == id && e.attempts.iter().any(|a| a.event_id == event));
        if logged {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(event)
}

/// Posted by a plain form: it lands back on the page with a notice, or with the error. The
/// fields come as the form sends them; a policy or a number it cannot read is a field error.
#[server(endpoint = "webhooks/key_safety")]
pub async fn set_key_safety(
    tenant: i64,
    leak_policy: String,
    unused_days: String,
) -> Result<KeySafety, AppError> {
    use crate::guard::{require, set_notice, state};
    use latchkey_domain::Action;

    let session = require(Action::ManageWebhooks, tenant).await?;
    let leak_policy = LeakPolicy::parse(&leak_policy)
        .ok_or_else(|| AppError::field("leak_policy", "Choose what happens to a leaked key."))?;
    // Not a number: 0, which storage refuses with the range, in words.
    let unused_days = unused_days.trim().parse().unwrap_or(0);
    let saved = store::webhooks::safety::set(
        &state()?.db,
        session.tenant_id,
        &session.actor(),
        KeySafety {
            leak_policy,
            unused_days,
        },
    )
    .await?;
    set_notice("Key safety saved.");
    Ok(saved)
}
