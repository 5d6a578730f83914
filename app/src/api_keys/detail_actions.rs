//! The detail page's Roll and Disable / Enable, with the roll dialog.

use crate::api_keys::api::KeyView;
use crate::api_keys::dialog::{live, Dialog};
use crate::api_keys::lifecycle::{rollable, toggleable, ToggleEnabled};
use crate::api_keys::roll_dialog::RollKeyDialog;
use leptos::prelude::*;

/// Nothing for people who may not manage keys, or for a key past rolling and disabling (the
/// server leaves the island out then).
// An island in the `keys` bundle only (`islands-keys`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-keys", island)]
#[cfg_attr(not(feature = "islands-keys"), component)]
pub fn KeyDetailActions(tenant: i64, key: KeyView) -> impl IntoView {
    let live = live();
    let dialog = RwSignal::new(Dialog::Closed);
    let can_roll = rollable(&key);
    let can_toggle = toggleable(&key);
    let close = Callback::new(move |_| dialog.set(Dialog::Closed));
    let key = StoredValue::new(key);
    view! {
        <div class="page-actions">
            {can_roll
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn"
                            data-testid="roll-key"
                            disabled=move || !live.get()
                            on:click=move |_| dialog.set(Dialog::Roll)
                        >
                            "Roll"
                        </button>
                    }
                })}
            {can_toggle
                .then(|| {
                    view! { <ToggleEnabled tenant=tenant key=key.get_value() class="btn" live=live/> }
                })}
        </div>
        {move || {
            (dialog.get() == Dialog::Roll)
                .then(|| view! { <RollKeyDialog tenant=tenant key=key.get_value() on_close=close/> })
        }}
    }
}
