//! Billing when the SaaS manages it (`--billing-url`): the plan, the limits the organisation
//! works under, what still holds up key creation, and a link to where billing happens. No plan
//! switcher: the SaaS's billing decides the plan and tells Latchkey through the operator API.

use crate::components::RequirementsChecklist;
use crate::tenants::api::BillingInfo;
use leptos::prelude::*;

#[component]
pub fn ManagedBilling(info: BillingInfo, url: String) -> impl IntoView {
    let l = info.limits;
    view! {
        <div class="card" data-testid="managed-billing">
            <p>
                <strong>{info.tenant_name}</strong>
                " is on the "
                <strong data-testid="current-plan">{info.plan.label()}</strong>
                " plan."
            </p>
            <ul data-testid="plan-limits">
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
            {info
                .custom_limits
                .then(|| {
                    view! {
                        <p class="hint" data-testid="custom-limits">
                            "These limits were set for your organisation."
                        </p>
                    }
                })}
            <a class="btn btn-primary" href=url data-testid="manage-billing">
                "Manage billing"
            </a>
        </div>
        {(!info.pending.is_empty())
            .then(|| view! { <RequirementsChecklist requirements=info.pending/> })}
    }
}
