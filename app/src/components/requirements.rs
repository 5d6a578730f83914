//! The operator's minting gates as a checklist: shown on API Keys in place of "New key" while
//! one is unmet, and on Billing when the SaaS manages billing.

use crate::api_keys::gates::RequirementView;
use leptos::prelude::*;

/// One item per requirement, each saying "Done" or "Pending". The heading names what the list
/// holds up, so a person knows why there is no "New key" button.
#[component]
pub fn RequirementsChecklist(requirements: Vec<RequirementView>) -> impl IntoView {
    view! {
        <section
            class="card"
            data-testid="requirements-checklist"
            aria-labelledby="requirements-heading"
        >
            <h2 id="requirements-heading">"Before you can create keys"</h2>
            <ul class="requirement-list">
                {requirements
                    .into_iter()
                    .map(|r| {
                        let (class, state) = if r.met {
                            ("pill pill-ok", "Done")
                        } else {
                            ("pill pill-warn", "Pending")
                        };
                        view! {
                            <li data-testid="requirement" data-requirement-id=r.id>
                                <span>{r.label}</span>
                                " "
                                <span class=class data-testid="requirement-state">{state}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
