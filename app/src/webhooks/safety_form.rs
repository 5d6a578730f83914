//! Key safety (an island): what a leak report does to a key, and when a key counts as unused.

use super::api::{KeySafety, LeakPolicy, SetKeySafety};
use crate::components::{field_error, form_error};
use leptos::prelude::*;

#[island]
pub fn SafetyForm(tenant: i64, safety: KeySafety) -> impl IntoView {
    let action = ServerAction::<SetKeySafety>::new();
    let policy = RwSignal::new(safety.leak_policy);
    let days = RwSignal::new(safety.unused_days.to_string());
    // The form already shows what was saved: nothing else on the page depends on it, so it
    // says so in place rather than reloading the page.
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
            // A form like the others (labels above their inputs); Enter in the number saves too. The
            // server says what range it takes, in words, rather than the browser's bubble.
            <form novalidate on:submit=move |ev| {
                ev.prevent_default();
                action.dispatch(SetKeySafety {
                    tenant,
                    leak_policy: policy.get_untracked(),
                    // Not a number: 0, which the server refuses with the range.
                    unused_days: days.get_untracked().trim().parse().unwrap_or(0),
                });
            }>
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
                <div class="field">
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
                </div>
                <div class="dialog-actions dialog-actions-start">
                    <button type="submit" class="btn" disabled=move || action.pending().get()>
                        "Save key safety"
                    </button>
                </div>
            </form>
            {saved}
        </section>
    }
}
