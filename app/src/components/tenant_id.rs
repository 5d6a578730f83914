//! The organisation's id with a copy button: the host product's API needs it beside a key. It is
//! the opaque public id (`org_…`), never the internal integer, which would say how many
//! organisations exist; the SaaS's own id for it follows when the operator set one.

use super::CopyButton;
use leptos::prelude::*;

/// The ids come with the page's data, so rendering reads no resource of its own. Its copy
/// button works through the page script ([`Enhancer`](super::enhance)).
#[component]
pub fn TenantIdCopy(public_id: String, external_id: Option<String>) -> impl IntoView {
    view! {
        <span class="tenant-id" data-testid="tenant-id">
            "Organisation ID " <code id="tenant-id-value" data-testid="tenant-id-value">{public_id}</code>
            <CopyButton
                source="tenant-id-value"
                label="Copy"
                failed="Copy failed"
                class="btn btn-small"
                testid="copy-tenant-id"
                aria_label="Copy organisation ID"
            />
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
