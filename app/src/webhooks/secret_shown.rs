//! A signing secret, shown once with Copy: after adding an endpoint or rolling its secret.

use crate::components::browser::copy_text;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SecretShown(secret: String, on_done: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let for_copy = secret.clone();
    let copy_button = NodeRef::<leptos::html::Button>::new();
    // The form that had focus is gone: keyboard users land on the copy button.
    Effect::new(move |_| {
        if let Some(b) = copy_button.get() {
            let _ = b.focus();
        }
    });
    view! {
        <h2>"Save the signing secret"</h2>
        <p>
            "Your receiver checks each event's " <code>"webhook-signature"</code>
            " with this secret (any Standard Webhooks library does). It is shown only now."
        </p>
        <div class="secret-box">
            <code data-testid="signing-secret">{secret}</code>
        </div>
        <div class="dialog-actions dialog-actions-start">
            <button
                type="button"
                class="btn btn-primary"
                node_ref=copy_button
                on:click=move |_| {
                    let s = for_copy.clone();
                    spawn_local(async move { copied.set(Some(copy_text(s).await)) });
                }
            >
                {move || match copied.get() {
                    Some(true) => "Copied",
                    Some(false) => "Copy failed: select the secret",
                    None => "Copy secret",
                }}
            </button>
            <button type="button" class="btn" on:click=move |_| on_done.run(())>"Done"</button>
        </div>
    }
}
