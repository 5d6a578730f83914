//! Adding an endpoint (then its signing secret, once) or changing one: address, description
//! and the events it wants. The dialog is drawn inside the island whose button opens it: the
//! "Add endpoint" island here, or a card's actions.

use super::api::{AddWebhook, UpdateWebhook};
use super::secret_shown::SecretShown;
use crate::components::browser::reload;
use crate::components::{field_error, form_error, Field, Modal};
use latchkey_domain::webhooks::EventType;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the dialog changes of an endpoint: one card's facts, never its delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointEdit {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
}

/// The "Add endpoint" button and its dialog.
// An island in the `webhooks` bundle only (`islands-webhooks`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-webhooks", island)]
#[cfg_attr(not(feature = "islands-webhooks"), component)]
pub fn AddEndpoint(tenant: i64) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button type="button" class="btn btn-primary" on:click=move |_| open.set(true)>
            "Add endpoint"
        </button>
        {move || open.get().then(|| view! { <EndpointDialog tenant=tenant current=None open=open/> })}
    }
}

/// Drawn only while open (one `endpoint-dialog` on the page at a time); `current` is the
/// endpoint being changed, `None` to add one.
#[component]
pub fn EndpointDialog(
    tenant: i64,
    current: Option<EndpointEdit>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let update = ServerAction::<UpdateWebhook>::new();
    let adding = current.is_none();
    let changing = StoredValue::new(current.as_ref().map(|e| e.id.clone()));
    let current = current.unwrap_or_else(|| EndpointEdit {
        id: String::new(),
        url: String::new(),
        description: String::new(),
        events: Vec::new(),
    });
    let url = RwSignal::new(current.url);
    let description = RwSignal::new(current.description);
    let chosen = RwSignal::new(current.events);
    let close = move || {
        // An endpoint was added: the page draws it from the server. The secret leaves the
        // page's memory with the dialog either way.
        if add.value().with_untracked(|v| matches!(v, Some(Ok(_)))) {
            reload();
        }
        add.value().set(None);
        open.set(false);
    };
    // A successful change reloads the page, which shows it.
    Effect::new(move |_| {
        if update.value().with(|v| matches!(v, Some(Ok(_)))) {
            reload();
        }
    });
    let created = move || add.value().get().and_then(Result::ok);
    let heading = if adding {
        "Add endpoint"
    } else {
        "Change endpoint"
    };
    let submit = if adding {
        "Add endpoint"
    } else {
        "Save endpoint"
    };
    view! {
        <Modal open=Signal::derive(move || open.get()) on_close=Callback::new(move |_| close()) label="Webhook endpoint" testid="endpoint-dialog">
            {move || match created() {
                Some(c) => view! { <SecretShown secret=c.secret on_done=Callback::new(move |_| close())/> }.into_any(),
                None => {
                    view! {
                        <h2>{heading}</h2>
                        {form_error(add)}
                        {form_error(update)}
                        <Field id="endpoint-url" label="Endpoint URL" value=url action=add field="url"
                            hint="https://…; plain http only to localhost."/>
                        {field_error(update, "url")}
                        <Field id="endpoint-description" label="Description (optional)" value=description action=add field="description"/>
                        <fieldset class="plain">
                            <legend>"Events to send"</legend>
                            <div class="scope-list">
                                {EventType::subscribable().map(|e| {
                                    let name = e.as_str();
                                    view! {
                                        <label title=e.describe()>
                                            <input
                                                type="checkbox"
                                                value=name
                                                prop:checked=move || chosen.with(|c| c.iter().any(|x| x == name))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    chosen.update(|c| {
                                                        c.retain(|x| x != name);
                                                        if on {
                                                            c.push(name.to_owned());
                                                        }
                                                    });
                                                }
                                            />
                                            {name}
                                        </label>
                                    }
                                }).collect_view()}
                            </div>
                        </fieldset>
                        {field_error(add, "events")}
                        {field_error(update, "events")}
                        <div class="dialog-actions">
                            <button type="button" class="btn" on:click=move |_| close()>"Cancel"</button>
                            <button
                                type="button"
                                class="btn btn-primary"
                                disabled=move || add.pending().get() || update.pending().get()
                                on:click=move |_| {
                                    let (u, d, ev) = (url.get_untracked(), description.get_untracked(), chosen.get_untracked());
                                    match changing.get_value() {
                                        Some(id) => {
                                            update.dispatch(UpdateWebhook { tenant, id, url: u, description: d, events: ev });
                                        }
                                        None => {
                                            add.dispatch(AddWebhook { tenant, url: u, description: d, events: ev });
                                        }
                                    }
                                }
                            >
                                {submit}
                            </button>
                        </div>
                    }
                    .into_any()
                }
            }}
        </Modal>
    }
}
