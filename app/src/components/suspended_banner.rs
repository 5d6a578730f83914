//! What every signed-in page says while the operator has suspended the organisation.

use leptos::prelude::*;

/// An alert under the header: keys are refused, but listing and revoking them still work.
#[component]
pub fn SuspendedBanner() -> impl IntoView {
    view! {
        <p class="notice notice-error" role="alert" data-testid="suspended-banner">
            "This organisation is suspended. Its API keys are refused until it is active again; "
            "you can still list and revoke them."
        </p>
    }
}
