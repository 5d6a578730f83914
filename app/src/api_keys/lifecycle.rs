//! What the list and the detail page share about a key's lifecycle: which keys may be rolled or
//! disabled, the Disable / Enable button, and what it says once done.

use crate::api_keys::api::{KeyStatus, KeyView, SetKeyEnabled};
use crate::components::{browser, flash, form_error};
use leptos::prelude::*;

/// A key may be rolled once, while it still works or is only disabled (the server refuses the
/// rest; hiding the button saves the round trip).
pub fn rollable(key: &KeyView) -> bool {
    key.rolled_to.is_none() && matches!(key.status, KeyStatus::Active | KeyStatus::Disabled)
}

/// Disabling is for keys that would otherwise work: a revoked or expired key never does again.
pub fn toggleable(key: &KeyView) -> bool {
    matches!(key.status, KeyStatus::Active | KeyStatus::Disabled)
}

/// What a successful Disable / Enable did, as the page says it after reloading.
fn toggled_notice(k: &KeyView) -> String {
    if k.status == KeyStatus::Disabled {
        format!(
            "Disabled “{}”. Its requests are refused until it is enabled again.",
            k.name
        )
    } else {
        format!(
            "Enabled “{}”. It works again from its next request.",
            k.name
        )
    }
}

/// "Disable" on an active key, "Enable" on a disabled one; applies at once (it is reversible,
/// so it asks nothing), then the page loads again with the key's new state. Inside an island:
/// `live` holds it disabled until the island has hydrated.
#[component]
pub fn ToggleEnabled(
    tenant: i64,
    key: KeyView,
    class: &'static str,
    live: ReadSignal<bool>,
) -> impl IntoView {
    let action = ServerAction::<SetKeyEnabled>::new();
    Effect::new(move |_| {
        if let Some(Ok(k)) = action.value().get() {
            flash::set(&toggled_notice(&k));
            browser::reload();
        }
    });
    let enable = key.status == KeyStatus::Disabled;
    let (testid, label) = if enable {
        ("enable-key", "Enable")
    } else {
        ("disable-key", "Disable")
    };
    let id = key.id.clone();
    view! {
        <button
            type="button"
            class=class
            data-testid=testid
            aria-label=format!("{label} {}", key.name)
            disabled=move || !live.get() || action.pending().get()
            on:click=move |_| {
                action
                    .dispatch(SetKeyEnabled {
                        tenant,
                        id: id.clone(),
                        enabled: enable,
                    });
            }
        >
            {label}
        </button>
        {form_error(action)}
    }
}
