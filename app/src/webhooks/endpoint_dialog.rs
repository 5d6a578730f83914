//! Adding an endpoint (then its signing secret, once) or changing one: address, description
//! and the events it wants.

use super::api::{AddWebhook, EndpointView, EventInfo, UpdateWebhook};
use super::secret_shown::SecretShown;
use crate::components::{field_error, form_error, Field, Modal, PageTenant};
use leptos::prelude::*;

/// What the dialog is for: `None` closed, `Some(None)` adding, `Some(Some(e))` changing `e`.
pub type Editing = RwSignal<Option<Option<EndpointView>>>;

#[component]
pub fn EndpointDialog(
    editing: Editing,
    events: Signal<Vec<EventInfo>>,
    add: ServerAction<AddWebhook>,
    update: ServerAction<UpdateWebhook>,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    // Opening fills the form from the endpoint being changed (or empties it).
    Effect::new(move |_| {
        if let Some(current) = editing.get() {
            let e = current.unwrap_or_else(|| EndpointView {
                id: String::new(),
                url: String::new(),
                description: String::new(),
                events: Vec::new(),
                created_at: 0,
                created_by: String::new(),
                previous_secret_until: None,
                attempts: Vec::new(),
            });
            url.set(e.url);
            description.set(e.description);
            chosen.set(e.events);
        }
    });
    let close = move || {
        // The secret leaves the page's memory with the dialog.
        add.value().set(None);
        update.value().set(None);
        editing.set(None);
    };
    // A successful change closes the dialog.
    Effect::new(move |_| {
        if update.value().get().is_some_and(|r| r.is_ok()) {
            close();
        }
    });
    let open = Signal::derive(move || editing.get().is_some());
    let changing = move || editing.get().flatten().map(|e| e.id);
    let created = move || add.value().get().and_then(Result::ok);
    view! {
        <Modal open=open on_close=Callback::new(move |_| close()) label="Webhook endpoint" testid="endpoint-dialog">
            {move || match created() {
                Some(c) => view! { <SecretShown secret=c.secret on_done=Callback::new(move |_| close())/> }.into_any(),
                None => view! {
                    <h2>{move || if changing().is_some() { "Change endpoint" } else { "Add endpoint" }}</h2>
                    {form_error(add)}
                    {form_error(update)}
                    <Field id="endpoint-url" label="Endpoint URL" value=url action=add field="url"
                        hint="https://…; plain http only to localhost."/>
                    {field_error(update, "url")}
                    <Field id="endpoint-description" label="Description (optional)" value=description action=add field="description"/>
                    <fieldset class="plain">
                        <legend>"Events to send"</legend>
                        <div class="scope-list">
                            {move || events.get().into_iter().map(|e| {
                                let (n1, n2) = (e.name.clone(), e.name.clone());
                                view! {
                                    <label title=e.description.clone()>
                                        <input
                                            type="checkbox"
                                            value=e.name.clone()
                                            prop:checked=move || chosen.with(|c| c.contains(&n1))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| {
                                                    c.retain(|x| x != &n2);
                                                    if on {
                                                        c.push(n2.clone());
                                                    }
                                                });
                                            }
                                        />
                                        {e.name.clone()}
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
                                match changing() {
                                    Some(id) => {
                                        update.dispatch(UpdateWebhook { tenant: tenant.now(), id, url: u, description: d, events: ev });
                                    }
                                    None => {
                                        add.dispatch(AddWebhook { tenant: tenant.now(), url: u, description: d, events: ev });
                                    }
                                }
                            }
                        >
                            {move || if changing().is_some() { "Save endpoint" } else { "Add endpoint" }}
                        </button>
                    </div>
                }
                .into_any(),
            }}
        </Modal>
    }
}
