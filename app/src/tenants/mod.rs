//! Tenants, their plan (Settings ▸ Billing) and memberships.

pub mod api;
mod confirm_plan;
mod managed;

use crate::components::browser::navigate_hard;
use crate::components::{ErrorNotice, Loaded, PageHeader, PageTenant};
use crate::tenants::api::{get_billing, BillingInfo, ChangePlan};
use confirm_plan::{ConfirmPlanDialog, PendingChange};
use latchkey_domain::policy::plan_change_consequences;
use leptos::prelude::*;
use managed::ManagedBilling;

#[component]
pub fn BillingPage() -> impl IntoView {
    let change = ServerAction::<ChangePlan>::new();
    let pending = RwSignal::new(None::<PendingChange>);
    let tenant = PageTenant::from_context();
    let billing = Resource::new(
        move || change.version().get(),
        move |_| async move { get_billing(tenant.get().await?).await },
    );
    // The plan shapes the whole app (header, API Keys gate): load it afresh once changed.
    Effect::new(move |_| {
        if let Some(Ok(_)) = change.value().get() {
            navigate_hard("/billing");
        }
    });
    view! {
        <PageHeader title="Billing" description="Your organisation's plan and what it includes."/>
        {move || {
            change
                .value()
                .get()
                .and_then(|r| r.err())
                .map(|e| view! { <ErrorNotice error=e/> })
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=billing let:info>
                {match info.billing_url.clone() {
                    Some(url) => view! { <ManagedBilling info=info url=url/> }.into_any(),
                    // The standalone mode (and the demo): people choose the plan here.
                    None => view! { <Plans info=info change=change pending=pending/> }.into_any(),
                }}
            </Loaded>
        </Transition>
        <ConfirmPlanDialog pending=pending change=change/>
    }
}

#[component]
fn Plans(
    info: BillingInfo,
    change: ServerAction<ChangePlan>,
    pending: RwSignal<Option<PendingChange>>,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let current = info.plan;
    let current_limits = info
        .plans
        .iter()
        .find(|o| o.plan == current)
        .map(|o| o.limits)
        .unwrap_or_else(|| current.limits());
    let active = info.active_keys;
    view! {
        <div class="card">
            <p>
                <strong>{info.tenant_name}</strong>
                " is on the "
                <strong data-testid="current-plan">{current.label()}</strong>
                " plan."
            </p>
            {(!info.can_change)
                .then(|| {
                    view! {
                        <p class="muted" data-testid="billing-read-only">
                            "Only the organisation's owner can change the plan."
                        </p>
                    }
                })}
        </div>
        <div class="plan-grid">
            {info
                .plans
                .into_iter()
                .map(|offer| {
                    let plan = offer.plan;
                    let l = offer.limits;
                    let is_current = plan == current;
                    view! {
                        <section
                            class="card plan-card"
                            class:current=is_current
                            data-testid=format!("plan-{}", plan.as_str())
                            aria-label=format!("{} plan", plan.label())
                        >
                            <h2>{plan.label()}</h2>
                            <ul>
                                {if l.api_keys {
                                    view! {
                                        <li>{format!("Up to {} active API keys", l.max_active_keys)}</li>
                                        <li>{format!("{} requests per minute per key", l.requests_per_minute)}</li>
                                    }
                                        .into_any()
                                } else {
                                    view! { <li>"No API keys"</li> }.into_any()
                                }}
                            </ul>
                            {if is_current {
                                view! { <span class="pill pill-ok">"Current plan"</span> }.into_any()
                            } else if info.can_change {
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn-primary"
                                        data-testid=format!("choose-plan-{}", plan.as_str())
                                        disabled=move || change.pending().get()
                                        on:click=move |_| {
                                            // A change that takes something away asks first.
                                            let consequences = plan_change_consequences(
                                                current_limits,
                                                l,
                                                active,
                                            );
                                            if consequences.is_empty() {
                                                change.dispatch(ChangePlan {
                                                    tenant: tenant.now(),
                                                    plan,
                                                });
                                            } else {
                                                pending.set(Some(PendingChange { plan, consequences }));
                                            }
                                        }
                                    >
                                        {format!("Switch to {}", plan.label())}
                                    </button>
                                }
                                    .into_any()
                            } else {
                                ().into_any()
                            }}
                        </section>
                    }
                })
                .collect_view()}
        </div>
    }
}
