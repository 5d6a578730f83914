//! The organisation's id with a copy button: the host product's API needs it beside a key.

use super::browser::copy_text;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// `id` comes with the page's data, so rendering reads no resource of its own.
#[component]
pub fn TenantIdCopy(id: i64) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    view! {
        <span class="tenant-id" data-testid="tenant-id">
            "Organisation ID " <code data-testid="tenant-id-value">{id}</code>
            <button
                type="button"
                class="btn btn-small"
                data-testid="copy-tenant-id"
                aria-label="Copy organisation ID"
                on:click=move |_| {
                    spawn_local(async move { copied.set(Some(copy_text(id.to_string()).await)) });
                }
            >
                {move || match copied.get() {
                    Some(true) => "Copied",
                    Some(false) => "Copy failed",
                    None => "Copy",
                }}
            </button>
        </span>
    }
}
