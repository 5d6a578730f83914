//! The organisation's id with a copy button: the host product's API needs it beside a key. It is
//! the opaque public id (`org_…`), never the internal integer, which would say how many
//! organisations exist; the SaaS's own id for it follows when the operator set one.

use super::browser::copy_text;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The ids come with the page's data, so rendering reads no resource of its own. An island: its
/// copy button works in the browser.
// Shown on /keys only, so an island of the `keys` bundle (`islands-keys`).
#[cfg_attr(feature = "islands-keys", island)]
#[cfg_attr(not(feature = "islands-keys"), component)]
pub fn TenantIdCopy(public_id: String, external_id: Option<String>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let live = super::live();
    let to_copy = public_id.clone();
    view! {
        <span class="tenant-id" data-testid="tenant-id">
            "Organisation ID " <code data-testid="tenant-id-value">{public_id}</code>
            <button
                type="button"
                disabled=move || !live.get()
                class="btn btn-small"
                data-testid="copy-tenant-id"
                aria-label="Copy organisation ID"
                on:click=move |_| {
                    let text = to_copy.clone();
                    spawn_local(async move { copied.set(Some(copy_text(text).await)) });
                }
            >
                {move || match copied.get() {
                    Some(true) => "Copied",
                    Some(false) => "Copy failed",
                    None => "Copy",
                }}
            </button>
            {external_id
                .map(|e| {
                    view! {
                        <span data-testid="tenant-external-id">
                            "External ID " <code data-testid="tenant-external-id-value">{e}</code>
                        </span>
                    }
                })}
        </span>
    }
}
