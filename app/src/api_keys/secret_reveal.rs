//! The create and roll dialogs' second step: the new key's secret, shown this once. A template:
//! the page script copies it in and fills it from the answer only when the key exists.

use crate::components::CopyButton;
use leptos::prelude::*;

/// `answer` is where the new key sits in the server's answer: `""` for a created key,
/// `"created."` for a rolled one. Closing asks first (`data-ask`), because the secret can't be
/// shown again; the page then loads again and the secret leaves memory.
#[component]
pub fn SecretReveal(#[prop(into)] dialog_id: String, answer: &'static str) -> impl IntoView {
    let secret = format!("{dialog_id}-secret");
    view! {
        <template data-step="result">
            <div>
                <h2>"Save your key"</h2>
                <p>
                    "This is the only time “" <span data-fill=format!("{answer}key.name")></span>
                    "” is shown. Store it in your secret manager now; we keep only a digest and can't show it again."
                </p>
                <div class="secret-box">
                    <code id=secret.clone() data-testid="new-secret" data-fill=format!("{answer}secret")></code>
                </div>
                <div class="dialog-actions dialog-actions-start">
                    <CopyButton
                        source=secret.clone()
                        label="Copy key"
                        failed="Copy failed: select the key and copy it"
                        class="btn btn-primary"
                        testid="copy-secret"
                    />
                    <button
                        type="button"
                        class="btn"
                        data-testid="download-secret"
                        data-download="latchkey.env"
                        data-prefix="LATCHKEY_API_KEY="
                        data-source=secret
                    >
                        "Download .env"
                    </button>
                </div>
                <div class="dialog-actions" data-step="finish">
                    <button type="button" class="btn btn-primary" data-testid="close-secret" data-ask>
                        "Done"
                    </button>
                </div>
                <div class="notice notice-error" role="alertdialog" aria-label="Confirm close" data-step="confirm" hidden>
                    <p>"Have you saved the key? Once you close this, it can't be shown again."</p>
                    <div class="dialog-actions">
                        <button type="button" class="btn" data-ask-back>"Go back"</button>
                        <button type="button" class="btn btn-danger" data-testid="confirm-close" data-confirmed>
                            "Yes, I've saved it"
                        </button>
                    </div>
                </div>
            </div>
        </template>
    }
}
