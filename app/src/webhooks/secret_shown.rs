//! A signing secret, shown once with Copy: after adding an endpoint or rolling its secret. The
//! page script fills it from the answer (`data-fill`) and shows the step.

use crate::components::CopyButton;
use leptos::prelude::*;

/// The result step of the dialog `dialog_id`.
#[component]
pub fn SecretShown(dialog_id: String) -> impl IntoView {
    let shown = format!("{dialog_id}-secret");
    view! {
        <div data-step="result" hidden>
            <h2>"Save the signing secret"</h2>
            <p>
                "Your receiver checks each event's " <code>"webhook-signature"</code>
                " with this secret (any Standard Webhooks library does). It is shown only now."
            </p>
            <div class="secret-box">
                <code id=shown.clone() data-testid="signing-secret" data-fill="secret"></code>
            </div>
            <div class="dialog-actions dialog-actions-start">
                <CopyButton
                    source=shown
                    label="Copy secret"
                    failed="Copy failed: select the secret"
                    class="btn btn-primary"
                />
                <button type="button" class="btn" commandfor=dialog_id command="close">"Done"</button>
            </div>
        </div>
    }
}
