//! Tenants, their plan (Settings ▸ Billing) and memberships.

pub mod api;
mod confirm_plan;
mod managed;

use crate::components::{posted_error, posted_form_error, Loaded, PageHeader, PageTenant};
use crate::tenants::api::{get_billing, BillingInfo, ChangePlan};
use confirm_plan::ChoosePlan;
use latchkey_domain::policy::plan_change_consequences;
use leptos::prelude::*;
use managed::ManagedBilling;

/// Rendered on the server; each plan's "Switch to …" is a plain form (no code ships).
#[component]
pub fn BillingPage() -> impl IntoView {
    let tenant = PageTenant::from_context();
    let billing = Resource::new(
        || (),
        move |_| async move { get_billing(tenant.get().await?).await },
    );
    view! {
        <PageHeader title="Billing" description="Your organisation's plan and what it includes."/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <Loaded resource=billing let:info>
                {match info.billing_url.clone() {
                    Some(url) => view! { <ManagedBilling info=info url=url/> }.into_any(),
                    // The standalone mode (and the demo): people choose the plan here.
                    None => view! { <Plans info=info tenant=tenant.now()/> }.into_any(),
                }}
            </Loaded>
        </Transition>
    }
}

#[component]
fn Plans(info: BillingInfo, tenant: i64) -> impl IntoView {
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
        // A refused switch (say, the plan became managed elsewhere) lands back here.
        {posted_form_error(&posted_error::<ChangePlan>())}
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
                                // A change that takes something away asks first.
                                let consequences = plan_change_consequences(current_limits, l, active);
                                view! { <ChoosePlan tenant=tenant plan=plan consequences=consequences/> }
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
