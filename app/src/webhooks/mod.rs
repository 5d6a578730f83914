//! Settings ▸ Webhooks: the organisation's endpoints with their delivery logs, adding and
//! changing them, rolling a signing secret, a test event, and the key-safety choices (what a
//! leak report does). Owners and admins only.

pub mod api;
mod endpoint_card;
mod endpoint_dialog;
mod safety_form;
mod secret_shown;

use crate::components::{
    ErrorNotice, ErrorView, Loaded, Modal, NoAccessCard, PageHeader, PageTenant,
};
use crate::error::AppError;
use api::*;
use endpoint_card::EndpointCard;
use endpoint_dialog::EndpointDialog;
use leptos::prelude::*;
use safety_form::SafetyForm;
use secret_shown::SecretShown;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let update = ServerAction::<UpdateWebhook>::new();
    let roll = ServerAction::<RollWebhookSecret>::new();
    let remove = ServerAction::<RemoveWebhook>::new();
    let test = ServerAction::<SendTestWebhook>::new();
    let safety = ServerAction::<SetKeySafety>::new();
    let editing = RwSignal::new(None::<Option<EndpointView>>);
    let events = RwSignal::new(Vec::<EventInfo>::new());
    let tenant = PageTenant::from_context();
    let data = Resource::new(
        move || {
            add.version().get()
                + update.version().get()
                + roll.version().get()
                + remove.version().get()
                + test.version().get()
        },
        move |_| async move { list_webhooks(tenant.get().await?).await },
    );
    // A test event is delivered in the background: look again shortly after sending one.
    Effect::new(move |_| {
        if test.version().get() > 0 {
            for ms in [1_000, 3_000, 6_000, 10_000] {
                set_timeout(move || data.refetch(), std::time::Duration::from_millis(ms));
            }
        }
    });
    let on_error: ErrorView = Callback::new(|e: AppError| {
        matches!(e, AppError::Forbidden).then(|| {
            view! {
                <NoAccessCard
                    title="You don't have access to webhooks"
                    message="Only owners and admins can see and manage this organisation's webhooks."
                />
            }
            .into_any()
        })
    });
    let refusal = move || {
        test.value()
            .get()
            .and_then(Result::err)
            .or_else(|| roll.value().get().and_then(Result::err))
            .or_else(|| remove.value().get().and_then(Result::err))
            .map(|e| view! { <ErrorNotice error=e/> })
    };
    let sent = move || {
        test.value().get().and_then(Result::ok).map(|id| {
            view! { <p class="notice notice-ok" role="status">"Test event " <code>{id}</code> " queued."</p> }
        })
    };
    let rolled = move || roll.value().get().and_then(Result::ok);
    let rolled_open = Signal::derive(move || rolled().is_some());
    let close_rolled = Callback::new(move |_| roll.value().set(None));
    view! {
        <PageHeader title="Webhooks" description="Signed events about your keys, sent to your endpoints as they happen."/>
        {refusal}
        {sent}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=data on_error=on_error let:d>
                {
                    let list = d.endpoints;
                    let now = d.now;
                    let catalogue = d.events;
                    Effect::new(move |_| events.set(catalogue.clone()));
                    view! {
                        <div class="toolbar">
                            <button type="button" class="btn btn-primary" on:click=move |_| editing.set(Some(None))>
                                "Add endpoint"
                            </button>
                        </div>
                        {list.is_empty().then(|| view! {
                            <p class="muted" data-testid="no-endpoints">
                                "No endpoints yet. Add one to hear when keys are created, revoked, rolled, expire or leak."
                            </p>
                        })}
                        {list.into_iter().map(|e| view! {
                            <EndpointCard e=e now=now editing=editing test=test roll=roll remove=remove/>
                        }).collect_view()}
                        <SafetyForm safety=d.safety action=safety/>
                    }
                }
            </Loaded>
        </Transition>
        <EndpointDialog editing=editing events=events.into() add=add update=update/>
        <Modal open=rolled_open on_close=close_rolled label="New signing secret" testid="rolled-secret-dialog">
            {move || rolled().map(|r| view! { <SecretShown secret=r.secret on_done=close_rolled/> })}
        </Modal>
    }
}
