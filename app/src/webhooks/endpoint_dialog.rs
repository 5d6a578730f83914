//! Adding an endpoint (then its signing secret, once) or changing one: address, description
//! and the events it wants. Drawn on the server; the page script
//! ([`Enhancer`](crate::components::enhance)) posts it and shows the answer. "Add endpoint"
//! has its dialog in the page; a card's "Change" copies its own from a template, so one
//! `endpoint-dialog` is in the page at a time.

use super::api::{AddWebhook, UpdateWebhook};
use super::secret_shown::SecretShown;
use crate::components::DialogButtons;
use latchkey_domain::webhooks::EventType;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What the dialog changes of an endpoint: one card's facts, never its delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointEdit {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
}

const ADD: &str = "add-endpoint";

/// The "Add endpoint" button and its dialog.
#[component]
pub fn AddEndpoint(tenant: i64) -> impl IntoView {
    view! {
        <button type="button" class="btn btn-primary" commandfor=ADD command="show-modal">
            "Add endpoint"
        </button>
        <EndpointDialog tenant=tenant current=None dialog_id=ADD.to_owned()/>
    }
}

/// `current` is the endpoint being changed, `None` to add one.
#[component]
pub fn EndpointDialog(
    tenant: i64,
    current: Option<EndpointEdit>,
    dialog_id: String,
) -> impl IntoView {
    let adding = current.is_none();
    let current = current.unwrap_or_else(|| EndpointEdit {
        id: String::new(),
        url: String::new(),
        description: String::new(),
        events: Vec::new(),
    });
    let (heading, submit, action) = if adding {
        ("Add endpoint", "Add endpoint", AddWebhook::PATH)
    } else {
        ("Change endpoint", "Save endpoint", UpdateWebhook::PATH)
    };
    let closes = dialog_id.clone();
    // A card's dialog may be in the page beside the "Add endpoint" one: ids of its own.
    let url_id = format!("{dialog_id}-url");
    let description_id = format!("{dialog_id}-description");
    let chosen = current.events;
    view! {
        <dialog id=dialog_id.clone() aria-label="Webhook endpoint" data-testid="endpoint-dialog">
            <div class="dialog-body">
                <form method="post" action=action data-enhance novalidate>
                    <h2>{heading}</h2>
                    <div data-form-error></div>
                    <input type="hidden" name="tenant" value=tenant.to_string()/>
                    {(!adding).then(|| view! { <input type="hidden" name="id" value=current.id.clone()/> })}
                    <label for=url_id.clone()>"Endpoint URL"</label>
                    <input id=url_id name="url" autocomplete="off" value=current.url/>
                    <p class="muted">"https://…; plain http only to localhost."</p>
                    <div data-error-for="url"></div>
                    <label for=description_id.clone()>"Description (optional)"</label>
                    <input id=description_id name="description" autocomplete="off" value=current.description/>
                    <div data-error-for="description"></div>
                    <fieldset class="plain">
                        <legend>"Events to send"</legend>
                        <div class="scope-list">
                            {EventType::subscribable()
                                .map(|e| {
                                    let name = e.as_str();
                                    let checked = chosen.iter().any(|c| c == name);
                                    view! {
                                        <label title=e.describe()>
                                            <input type="checkbox" name="events[]" value=name checked=checked/>
                                            {name}
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </div>
                    </fieldset>
                    <div data-error-for="events"></div>
                    // Adding: the answer is the signing secret, shown once.
                    <DialogButtons dialog=closes.clone() label=submit pending="Saving…" needs_script=adding/>
                </form>
                {adding.then(|| view! { <SecretShown dialog_id=closes/> })}
            </div>
        </dialog>
    }
}
