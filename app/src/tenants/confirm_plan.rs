//! The confirmation before a plan change that takes something away: it says what happens
//! ("3 active keys will be suspended; nothing is deleted") and switches only on an explicit
//! confirm.

use crate::components::{Modal, PageTenant};
use crate::tenants::api::ChangePlan;
use latchkey_domain::Plan;
use leptos::prelude::*;

/// A plan change waiting for confirmation: the plan and what it would take away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub plan: Plan,
    pub consequences: Vec<String>,
}

#[component]
pub fn ConfirmPlanDialog(
    pending: RwSignal<Option<PendingChange>>,
    change: ServerAction<ChangePlan>,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let open = Signal::derive(move || pending.with(Option::is_some));
    let cancel = move || pending.set(None);
    view! {
        <Modal
            open=open
            on_close=Callback::new(move |_| cancel())
            label="Confirm plan change"
            testid="plan-confirm"
        >
            {move || {
                pending
                    .get()
                    .map(|p| {
                        let plan = p.plan;
                        view! {
                            <h2>{format!("Switch to {}?", plan.label())}</h2>
                            <ul data-testid="plan-consequences">
                                {p
                                    .consequences
                                    .into_iter()
                                    .map(|c| view! { <li>{c}</li> })
                                    .collect_view()}
                            </ul>
                            <div class="dialog-actions">
                                <button type="button" class="btn" on:click=move |_| cancel()>
                                    "Cancel"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-danger"
                                    data-testid="confirm-plan"
                                    disabled=move || change.pending().get()
                                    on:click=move |_| {
                                        change.dispatch(ChangePlan { tenant: tenant.now(), plan });
                                        pending.set(None);
                                    }
                                >
                                    {format!("Switch to {}", plan.label())}
                                </button>
                            </div>
                        }
                    })
            }}
        </Modal>
    }
}
