//! Key safety: what a leak report does to a key, and when a key counts as unused.

use super::api::{KeySafety, LeakPolicy, SetKeySafety};
use crate::components::{field_error, form_error, PageTenant};
use leptos::prelude::*;

#[component]
pub fn SafetyForm(safety: KeySafety, action: ServerAction<SetKeySafety>) -> impl IntoView {
    let tenant = PageTenant::from_context();
    let policy = RwSignal::new(safety.leak_policy);
    let days = RwSignal::new(safety.unused_days.to_string());
    let saved =
        move || {
            action.value().get().and_then(Result::ok).map(
                |_| view! { <p class="notice notice-ok" role="status">"Key safety saved."</p> },
            )
        };
    let choices = [
        (
            LeakPolicy::Revoke,
            "Revoke it: it can never be used again (recommended)",
        ),
        (
            LeakPolicy::Disable,
            "Switch it off: refused until someone switches it back on",
        ),
    ];
    view! {
        <section class="card" aria-labelledby="key-safety-title" data-testid="key-safety">
            <h2 id="key-safety-title" class="section-title">"Key safety"</h2>
            {form_error(action)}
            <fieldset class="plain">
                <legend>"When a key is reported leaked"</legend>
                <div class="radio-stack">
                    {choices
                        .into_iter()
                        .map(|(p, label)| view! {
                            <label>
                                <input
                                    type="radio"
                                    name="leak-policy"
                                    value=p.as_str()
                                    prop:checked=move || policy.get() == p
                                    on:change=move |_| policy.set(p)
                                />
                                {label}
                            </label>
                        })
                        .collect_view()}
                </div>
            </fieldset>
            <label for="unused-days">"Report a key as unused after this many days without a request"</label>
            <input
                id="unused-days"
                type="number"
                min="1"
                max="365"
                prop:value=move || days.get()
                on:input=move |ev| days.set(event_target_value(&ev))
            />
            {field_error(action, "unused_days")}
            <div class="dialog-actions dialog-actions-start">
                <button
                    type="button"
                    class="btn"
                    disabled=move || action.pending().get()
                    on:click=move |_| {
                        action.dispatch(SetKeySafety {
                            tenant: tenant.now(),
                            leak_policy: policy.get_untracked(),
                            // Not a number: 0, which the server refuses with the range.
                            unused_days: days.get_untracked().trim().parse().unwrap_or(0),
                        });
                    }
                >
                    "Save key safety"
                </button>
            </div>
            {saved}
        </section>
    }
}
