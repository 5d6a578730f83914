//! The revoke dialog: confirm, with an optional reason. Drawn on the server into its row's
//! template; a revoke loads the page again, with a notice of what happened.

use crate::api_keys::api::{KeyView, RevokeKey};
use crate::components::DialogButtons;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn RevokeKeyDialog(tenant: i64, key: KeyView, dialog_id: String) -> impl IntoView {
    let closes = dialog_id.clone();
    let reason = format!("{dialog_id}-reason");
    view! {
        <dialog id=dialog_id aria-label="Revoke API key" data-testid="revoke-dialog">
            <div class="dialog-body">
                <form method="post" action=RevokeKey::PATH data-enhance>
                    <h2>"Revoke “" {key.name.clone()} "”?"</h2>
                    <p>
                        "Requests with " <code>{key.masked.clone()}</code>
                        " will be refused from the very next one. This can't be undone."
                    </p>
                    <div data-form-error></div>
                    <input type="hidden" name="tenant" value=tenant.to_string()/>
                    <input type="hidden" name="id" value=key.id.clone()/>
                    <label for=reason.clone()>"Reason (optional)"</label>
                    <input id=reason name="reason" type="text"/>
                    <DialogButtons
                        dialog=closes
                        label="Revoke key"
                        pending="Revoking…"
                        testid="confirm-revoke"
                        class="btn btn-danger"
                    />
                </form>
            </div>
        </dialog>
    }
}
