//! The detail page's Roll and Disable / Enable, with the roll dialog in its template.

use crate::api_keys::api::KeyView;
use crate::api_keys::lifecycle::{rollable, toggleable, ToggleEnabled};
use crate::api_keys::roll_dialog::RollKeyDialog;
use leptos::prelude::*;

const ROLL: &str = "roll-key";

/// Nothing for people who may not manage keys, or for a key past rolling and disabling (the
/// server leaves it out then).
#[component]
pub fn KeyDetailActions(tenant: i64, key: KeyView) -> impl IntoView {
    let can_roll = rollable(&key);
    let can_toggle = toggleable(&key);
    view! {
        <div class="page-actions">
            {can_roll
                .then(|| {
                    view! {
                        <button type="button" class="btn" data-testid="roll-key" data-open=ROLL>
                            "Roll"
                        </button>
                    }
                })}
            {can_toggle.then(|| view! { <ToggleEnabled tenant=tenant key=key.clone() class="btn"/> })}
        </div>
        {can_roll.then(|| view! {
            <template id=ROLL>
                <RollKeyDialog tenant=tenant key=key.clone() dialog_id=format!("{ROLL}-dialog")/>
            </template>
        })}
    }
}
