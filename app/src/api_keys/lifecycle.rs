//! What the list and the detail page share about a key's lifecycle: which keys may be rolled or
//! disabled, the Disable / Enable button, and what it says once done.

use crate::api_keys::api::{KeyStatus, KeyView, SetKeyEnabled};
use crate::components::PageTenant;
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

/// "Disable" on an active key, "Enable" on a disabled one; applies at once (it is reversible,
/// so it asks nothing).
#[component]
pub fn ToggleEnabled(
    key: KeyView,
    action: ServerAction<SetKeyEnabled>,
    class: &'static str,
) -> impl IntoView {
    let tenant = PageTenant::from_context();
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
            disabled=move || action.pending().get()
            on:click=move |_| {
                action
                    .dispatch(SetKeyEnabled {
                        tenant: tenant.now(),
                        id: id.clone(),
                        enabled: enable,
                    });
            }
        >
            {label}
        </button>
    }
}

/// Says in `notice` what a successful Disable / Enable did.
pub fn notice_on_toggle(action: ServerAction<SetKeyEnabled>, notice: RwSignal<Option<String>>) {
    Effect::new(move |_| {
        if let Some(Ok(k)) = action.value().get() {
            notice.set(Some(if k.status == KeyStatus::Disabled {
                format!(
                    "Disabled “{}”. Its requests are refused until it is enabled again.",
                    k.name
                )
            } else {
                format!(
                    "Enabled “{}”. It works again from its next request.",
                    k.name
                )
            }));
        }
    });
}
