//! A button that copies an element's text and then says how that went, on itself.

use leptos::prelude::*;

/// Copies the text of the element `source` (an id) through the page script
/// ([`Enhancer`](super::enhance)); the button then reads "Copied", or `failed`.
#[component]
pub fn CopyButton(
    #[prop(into)] source: String,
    label: &'static str,
    /// What the button says when the browser refused the copy: how to do it by hand.
    failed: &'static str,
    #[prop(default = "btn")] class: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] aria_label: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class=class
            data-testid=testid
            aria-label=aria_label
            data-copy=source
            data-copied="Copied"
            data-copy-failed=failed
        >
            {label}
        </button>
    }
}
