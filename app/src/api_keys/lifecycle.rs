//! What the list and the detail page share about a key's lifecycle: which keys may be rolled or
//! disabled, and the Disable / Enable button.

use crate::api_keys::api::{KeyStatus, KeyView, SetKeyEnabled};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A key may be rolled once, while it still works or is only disabled (the server refuses the
/// rest; hiding the button saves the round trip).
pub fn rollable(key: &KeyView) -> bool {
    key.rolled_to.is_none() && matches!(key.status, KeyStatus::Active | KeyStatus::Disabled)
}

/// Disabling is for keys that would otherwise work: a revoked or expired key never does again.
pub fn toggleable(key: &KeyView) -> bool {
    matches!(key.status, KeyStatus::Active | KeyStatus::Disabled)
}

/// "Disable" on an active key, "Enable" on a disabled one; applies at once (it is reversible,
/// so it asks nothing). A plain form: the post lands back on the page, drawn with the key's new
/// state and a notice (a refusal shows at the top of the page).
#[component]
pub fn ToggleEnabled(tenant: i64, key: KeyView, class: &'static str) -> impl IntoView {
    let enable = key.status == KeyStatus::Disabled;
    let (testid, label) = if enable {
        ("enable-key", "Enable")
    } else {
        ("disable-key", "Disable")
    };
    view! {
        <form method="post" action=SetKeyEnabled::PATH class="inline-form">
            <input type="hidden" name="tenant" value=tenant.to_string()/>
            <input type="hidden" name="id" value=key.id/>
            <input type="hidden" name="enabled" value=if enable { "true" } else { "false" }/>
            <button
                type="submit"
                class=class
                data-testid=testid
                aria-label=format!("{label} {}", key.name)
            >
                {label}
            </button>
        </form>
    }
}
