//! The revoke dialog: confirm, with an optional reason.

use crate::api_keys::api::{KeyView, RevokeKey};
use crate::components::{browser, form_error, Modal};
use leptos::prelude::*;

/// In the page only while open (see [`Dialog`](crate::api_keys::dialog::Dialog)); a revoke
/// loads the page again, with a notice of what happened.
#[component]
pub fn RevokeKeyDialog(tenant: i64, key: KeyView, on_close: Callback<()>) -> impl IntoView {
    let action = ServerAction::<RevokeKey>::new();
    let reason = RwSignal::new(String::new());
    Effect::new(move |_| {
        // The server left the notice for the page that loads now.
        if let Some(Ok(_)) = action.value().get() {
            browser::reload();
        }
    });
    let id = key.id.clone();
    view! {
        <Modal
            open=Signal::stored(true)
            on_close=on_close
            label="Revoke API key"
            testid="revoke-dialog"
        >
            <h2>"Revoke “" {key.name.clone()} "”?"</h2>
            <p>
                "Requests with " <code>{key.masked.clone()}</code>
                " will be refused from the very next one. This can't be undone."
            </p>
            {form_error(action)}
            <label for="revoke-reason">"Reason (optional)"</label>
            <input
                id="revoke-reason"
                type="text"
                prop:value=move || reason.get()
                on:input=move |ev| reason.set(event_target_value(&ev))
            />
            <div class="dialog-actions">
                <button type="button" class="btn" on:click=move |_| on_close.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    data-testid="confirm-revoke"
                    disabled=move || action.pending().get()
                    on:click={
                        let id = id.clone();
                        move |_| {
                            action
                                .dispatch(RevokeKey {
                                    tenant,
                                    id: id.clone(),
                                    reason: reason.get_untracked(),
                                });
                        }
                    }
                >
                    "Revoke key"
                </button>
            </div>
        </Modal>
    }
}
