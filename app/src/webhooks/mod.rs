//! Settings ▸ Webhooks: the organisation's endpoints with their delivery logs, adding and
//! changing them, rolling a signing secret, a test event, and the key-safety choices (what a
//! leak report does). Owners and admins only.
//!
//! The page, the cards and their logs render on the server; "Add endpoint", each card's buttons
//! and the key-safety form are islands.

pub mod api;
mod endpoint_actions;
mod endpoint_card;
mod endpoint_dialog;
mod safety_form;
mod secret_shown;

use crate::components::{ErrorView, Loaded, NoAccessCard, PageHeader, PageTenant};
use crate::error::AppError;
use api::*;
use endpoint_card::EndpointCard;
use endpoint_dialog::AddEndpoint;
use leptos::prelude::*;
use safety_form::SafetyForm;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let tenant = PageTenant::from_context();
    let data = Resource::new(
        || (),
        move |_| async move { list_webhooks(tenant.get().await?).await },
    );
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
    view! {
        <PageHeader title="Webhooks" description="Signed events about your keys, sent to your endpoints as they happen."/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=data on_error=on_error let:d>
                {
                    let tenant = tenant.now();
                    let now = d.now;
                    let list = d.endpoints;
                    view! {
                        <div class="toolbar">
                            <AddEndpoint tenant=tenant/>
                        </div>
                        {list.is_empty().then(|| view! {
                            <p class="muted" data-testid="no-endpoints">
                                "No endpoints yet. Add one to hear when keys are created, revoked, rolled, expire or leak."
                            </p>
                        })}
                        {list.into_iter().map(|e| view! { <EndpointCard e=e now=now tenant=tenant/> }).collect_view()}
                        <SafetyForm tenant=tenant safety=d.safety/>
                    }
                }
            </Loaded>
        </Transition>
    }
}
