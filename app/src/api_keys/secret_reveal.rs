//! The create dialog's second step: the new key's secret, shown this once.

use crate::api_keys::api::CreatedKey;
use crate::components::browser::{copy_text, download};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The secret with copy and download buttons. Closing asks first (`confirming`), because the
/// secret can't be shown again; `on_close` then drops it. `copied` and `confirming` belong to the
/// dialog, which resets them when it closes.
#[component]
pub fn SecretReveal(
    created: CreatedKey,
    copied: RwSignal<Option<bool>>,
    confirming: RwSignal<bool>,
    on_close: Callback<()>,
) -> impl IntoView {
    let secret = created.secret.clone();
    let secret_copy = created.secret.clone();
    let secret_dl = created.secret.clone();
    // The form that had focus is gone: keyboard users land on the copy button.
    let copy_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = copy_button.get() {
            let _ = b.focus();
        }
    });
    view! {
        <h2>"Save your key"</h2>
        <p>
            "This is the only time “" {created.key.name.clone()}
            "” is shown. Store it in your secret manager now; we keep only a digest and can't show it again."
        </p>
        <div class="secret-box">
            <code data-testid="new-secret">{secret}</code>
        </div>
        <div class="dialog-actions dialog-actions-start">
            <button
                type="button"
                class="btn btn-primary"
                data-testid="copy-secret"
                node_ref=copy_button
                on:click=move |_| {
                    let s = secret_copy.clone();
                    spawn_local(async move {
                        copied.set(Some(copy_text(s).await));
                    });
                }
            >
                {move || match copied.get() {
                    Some(true) => "Copied",
                    Some(false) => "Copy failed: select the key and copy it",
                    None => "Copy key",
                }}
            </button>
            <button
                type="button"
                class="btn"
                data-testid="download-secret"
                on:click=move |_| {
                    download("latchkey.env", &format!("LATCHKEY_API_KEY={secret_dl}\n"))
                }
            >
                "Download .env"
            </button>
        </div>
        {move || {
            if confirming.get() {
                view! {
                    <div class="notice notice-error" role="alertdialog" aria-label="Confirm close">
                        <p>"Have you saved the key? Once you close this, it can't be shown again."</p>
                        <div class="dialog-actions">
                            <button type="button" class="btn" on:click=move |_| confirming.set(false)>
                                "Go back"
                            </button>
                            <button
                                type="button"
                                class="btn btn-danger"
                                data-testid="confirm-close"
                                on:click=move |_| on_close.run(())
                            >
                                "Yes, I've saved it"
                            </button>
                        </div>
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    <div class="dialog-actions">
                        <button
                            type="button"
                            class="btn btn-primary"
                            data-testid="close-secret"
                            on:click=move |_| confirming.set(true)
                        >
                            "Done"
                        </button>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}
