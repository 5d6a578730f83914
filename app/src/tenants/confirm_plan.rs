//! One plan's "Switch to …" button: a plain form posting to `change_plan`. A change that takes
//! something away asks first: the button opens a native `<dialog>` (`command="show-modal"`, no
//! script) that says what happens ("3 active keys will be suspended; nothing is deleted") and
//! switches only on an explicit confirm. The post lands back on the page, drawn afresh with the
//! new plan and a notice, since the plan shapes the whole app (header, API Keys gate).

use crate::tenants::api::ChangePlan;
use latchkey_domain::Plan;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `consequences` is what switching to `plan` would take away (none: it switches at once).
#[component]
pub fn ChoosePlan(tenant: i64, plan: Plan, consequences: Vec<String>) -> impl IntoView {
    let label = format!("Switch to {}", plan.label());
    let testid = format!("choose-plan-{}", plan.as_str());
    let form = move |button: AnyView| {
        view! {
            <form method="post" action=ChangePlan::PATH class="inline-form">
                <input type="hidden" name="tenant" value=tenant.to_string()/>
                <input type="hidden" name="plan" value=plan.as_str()/>
                {button}
            </form>
        }
    };
    if consequences.is_empty() {
        return form(
            view! { <button type="submit" class="btn btn-primary" data-testid=testid>{label}</button> }
                .into_any(),
        )
        .into_any();
    }
    let dialog_id = format!("plan-confirm-{}", plan.as_str());
    let (opens, closes) = (dialog_id.clone(), dialog_id.clone());
    view! {
        <button
            type="button"
            class="btn btn-primary"
            data-testid=testid
            commandfor=opens
            command="show-modal"
        >
            {label.clone()}
        </button>
        <dialog id=dialog_id aria-label="Confirm plan change" data-testid="plan-confirm">
            <div class="dialog-body">
                <h2>{format!("Switch to {}?", plan.label())}</h2>
                <ul data-testid="plan-consequences">
                    {consequences.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                </ul>
                <div class="dialog-actions">
                    <button type="button" class="btn" commandfor=closes command="close">
                        "Cancel"
                    </button>
                    {form(
                        view! {
                            <button type="submit" class="btn btn-danger" data-testid="confirm-plan">
                                {label}
                            </button>
                        }
                            .into_any(),
                    )}
                </div>
            </div>
        </dialog>
    }
    .into_any()
}
