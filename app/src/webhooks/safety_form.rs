//! Key safety: what a leak report does to a key, and when a key counts as unused. A plain form
//! posting to `set_key_safety`; it lands back here with "Key safety saved." or the error.

use super::api::{KeySafety, LeakPolicy, SetKeySafety};
use crate::components::{posted_error, posted_field_error, posted_form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn SafetyForm(tenant: i64, safety: KeySafety) -> impl IntoView {
    let error = posted_error::<SetKeySafety>();
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
            <form method="post" action=SetKeySafety::PATH novalidate>
                <input type="hidden" name="tenant" value=tenant.to_string()/>
                {posted_form_error(&error)}
                <fieldset class="plain">
                    <legend>"When a key is reported leaked"</legend>
                    <div class="radio-stack">
                        {choices
                            .into_iter()
                            .map(|(p, label)| view! {
                                <label>
                                    <input
                                        type="radio"
                                        name="leak_policy"
                                        value=p.as_str()
                                        checked=safety.leak_policy == p
                                    />
                                    {label}
                                </label>
                            })
                            .collect_view()}
                    </div>
                    {posted_field_error(&error, "leak_policy")}
                </fieldset>
                <div class="field">
                    <label for="unused-days">"Report a key as unused after this many days without a request"</label>
                    <input
                        id="unused-days"
                        name="unused_days"
                        type="number"
                        min="1"
                        max="365"
                        value=safety.unused_days.to_string()
                    />
                    {posted_field_error(&error, "unused_days")}
                </div>
                <div class="dialog-actions dialog-actions-start">
                    <button type="submit" class="btn">"Save key safety"</button>
                </div>
            </form>
        </section>
    }
}
