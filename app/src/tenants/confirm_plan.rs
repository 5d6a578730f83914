//! One plan's "Switch to …" button (an island). A change that takes something away asks first:
//! it says what happens ("3 active keys will be suspended; nothing is deleted") and switches
//! only on an explicit confirm. The plan shapes the whole app (header, API Keys gate), so a
//! switch loads the page afresh.

use crate::components::browser::reload;
use crate::components::{flash, ErrorNotice, Modal};
use crate::error::AppError;
use crate::tenants::api::change_plan;
use latchkey_domain::Plan;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// `consequences` is what switching to `plan` would take away (none: it switches at once).
#[island]
pub fn ChoosePlan(tenant: i64, plan: Plan, consequences: Vec<String>) -> impl IntoView {
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let switch = move || {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match change_plan(tenant, plan).await {
                Ok(_) => {
                    flash::set(&format!("Switched to the {} plan.", plan.label()));
                    reload();
                }
                Err(e) => {
                    busy.set(false);
                    asking.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let ask_first = !consequences.is_empty();
    let label = format!("Switch to {}", plan.label());
    let confirm_label = label.clone();
    view! {
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        <button
            type="button"
            class="btn btn-primary"
            data-testid=format!("choose-plan-{}", plan.as_str())
            disabled=move || busy.get()
            on:click=move |_| if ask_first { asking.set(true) } else { switch() }
        >
            {label}
        </button>
        // Drawn only while asking: one `plan-confirm` on the page at a time.
        {move || asking.get().then(|| {
            let (consequences, confirm_label) = (consequences.clone(), confirm_label.clone());
            view! {
                <Modal
                    open=Signal::derive(move || asking.get())
                    on_close=Callback::new(move |_| asking.set(false))
                    label="Confirm plan change"
                    testid="plan-confirm"
                >
                    <h2>{format!("Switch to {}?", plan.label())}</h2>
                    <ul data-testid="plan-consequences">
                        {consequences.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
                    </ul>
                    <div class="dialog-actions">
                        <button type="button" class="btn" on:click=move |_| asking.set(false)>
                            "Cancel"
                        </button>
                        <button
                            type="button"
                            class="btn btn-danger"
                            data-testid="confirm-plan"
                            disabled=move || busy.get()
                            on:click=move |_| switch()
                        >
                            {confirm_label.clone()}
                        </button>
                    </div>
                </Modal>
            }
        })}
    }
}
