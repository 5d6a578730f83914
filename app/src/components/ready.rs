//! A marker end-to-end tests wait for.

use leptos::prelude::*;

/// Marks that the surrounding (possibly suspended) content has hydrated: its effect runs only
/// once the browser has taken over this part of the page. Tests wait for it before clicking.
#[component]
pub fn Ready(testid: &'static str) -> impl IntoView {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <span hidden data-testid=testid data-ready=move || if ready.get() { "true" } else { "false" }></span>
    }
}
