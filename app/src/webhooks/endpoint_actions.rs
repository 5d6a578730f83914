//! An endpoint card's buttons (an island): a test event, changing the endpoint, rolling its
//! signing secret (shown once), and removing it after a confirmation in place. Each change
//! reloads the page, which the server draws with the new state.

use super::api::{list_webhooks, remove_webhook, roll_webhook_secret, send_test_webhook};
use super::endpoint_dialog::{EndpointDialog, EndpointEdit};
use super::secret_shown::SecretShown;
use crate::components::browser::reload;
use crate::components::{ErrorNotice, Modal};
use crate::error::AppError;
use leptos::ev::MouseEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

// An island in the `webhooks` bundle only (`islands-webhooks`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-webhooks", island)]
#[cfg_attr(not(feature = "islands-webhooks"), component)]
pub fn EndpointActions(tenant: i64, endpoint: EndpointEdit) -> impl IntoView {
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let sent = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    let rolled = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let failed = move |e: AppError| {
        busy.set(false);
        error.set(Some(e));
    };

    let id = endpoint.id.clone();
    let on_test = move |_: MouseEvent| {
        busy.set(true);
        error.set(None);
        let id = id.clone();
        spawn_local(async move {
            match send_test_webhook(tenant, id.clone()).await {
                Ok(event) => {
                    sent.set(Some(event.clone()));
                    reload_once_logged(tenant, id, event);
                }
                Err(e) => failed(e),
            }
        });
    };

    let id = endpoint.id.clone();
    let on_roll = move |_: MouseEvent| {
        busy.set(true);
        error.set(None);
        let id = id.clone();
        spawn_local(async move {
            match roll_webhook_secret(tenant, id).await {
                Ok(s) => rolled.set(Some(s.secret)),
                Err(e) => failed(e),
            }
        });
    };
    let close_rolled = Callback::new(move |_| {
        // The secret leaves the page's memory; the card then says until when the old one signs.
        rolled.set(None);
        reload();
    });

    let id = endpoint.id.clone();
    let on_remove = move |_: MouseEvent| {
        busy.set(true);
        error.set(None);
        let id = id.clone();
        spawn_local(async move {
            match remove_webhook(tenant, id).await {
                Ok(()) => {
                    reload();
                }
                Err(e) => failed(e),
            }
        });
    };

    let remove_label = format!("Remove the endpoint {}", endpoint.url);
    view! {
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        {move || sent.get().map(|id| {
            view! { <p class="notice notice-ok" role="status">"Test event " <code>{id}</code> " queued."</p> }
        })}
        <div class="toolbar">
            <button type="button" class="btn btn-small" disabled=move || busy.get() on:click=on_test>
                "Send test event"
            </button>
            <button type="button" class="btn btn-small" on:click=move |_| editing.set(true)>
                "Change"
            </button>
            <button type="button" class="btn btn-small" disabled=move || busy.get() on:click=on_roll>
                "Roll secret"
            </button>
            <button
                type="button"
                class="btn btn-small btn-danger"
                aria-label=remove_label
                aria-expanded=move || confirming.get().to_string()
                on:click=move |_| confirming.set(true)
            >
                "Remove"
            </button>
        </div>
        // Removing drops its pending deliveries too: ask once, in place.
        {move || confirming.get().then(|| view! {
            <div class="notice notice-error" role="group" aria-label="Confirm removal">
                <p>"Remove this endpoint? Events not yet delivered to it are dropped."</p>
                <div class="dialog-actions dialog-actions-start">
                    <button type="button" class="btn btn-danger" disabled=move || busy.get() on:click=on_remove.clone()>
                        "Remove endpoint"
                    </button>
                    <button type="button" class="btn" on:click=move |_| confirming.set(false)>"Keep it"</button>
                </div>
            </div>
        })}
        {move || editing.get().then(|| view! {
            <EndpointDialog tenant=tenant current=Some(endpoint.clone()) open=editing/>
        })}
        {move || rolled.get().map(|secret| view! {
            <Modal open=Signal::derive(|| true) on_close=close_rolled label="New signing secret" testid="rolled-secret-dialog">
                <SecretShown secret=secret.clone() on_done=close_rolled/>
            </Modal>
        })}
    }
}

/// A test event is delivered in the background: look for its attempt a few times, and reload
/// once it is in the log (or after the last look, whatever it says).
fn reload_once_logged(tenant: i64, endpoint: String, event: String) {
    let reloading = RwSignal::new(false);
    let waits = [1_000, 2_500, 5_000, 9_000];
    for (i, ms) in waits.into_iter().enumerate() {
        let last = i + 1 == waits.len();
        let (endpoint, event) = (endpoint.clone(), event.clone());
        let look = move || {
            spawn_local(async move {
                let logged = list_webhooks(tenant).await.is_ok_and(|d| {
                    d.endpoints
                        .iter()
                        .filter(|e| e.id == endpoint)
                        .any(|e| e.attempts.iter().any(|a| a.event_id == event))
                });
                if (logged || last) && !reloading.get_untracked() {
                    reloading.set(true);
                    reload();
                }
            })
        };
        set_timeout(look, Duration::from_millis(ms));
    }
}
