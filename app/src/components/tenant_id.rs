//! The organisation's id with a copy button: the host product's API needs it beside a key.

use super::browser::copy_text;
use super::PageTenant;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn TenantIdCopy() -> impl IntoView {
    let tenant = PageTenant::from_context();
    let copied = RwSignal::new(None::<bool>);
    // Read through the session's own Suspense, like every other read of a resource.
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                tenant.get().await.ok().map(|id| view! {
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
                })
            })}
        </Suspense>
    }
}
