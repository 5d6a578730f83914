//! Markers end-to-end tests wait for.

use leptos::prelude::*;

/// Marks that the islands before it have hydrated: islands come to life in document order, and
/// this one's effect runs only once the browser has taken it over. Tests wait for it before
/// clicking.
#[island]
pub fn Ready(#[prop(into)] testid: String) -> impl IntoView {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <span hidden data-testid=testid data-ready=move || if ready.get() { "true" } else { "false" }></span>
    }
}

/// Placed last in the page: once it has hydrated, every island has, and the app's
/// `data-hydrated` says so (the page itself is plain HTML and has nothing else to wait for).
#[island]
pub fn Hydrated() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            if let Ok(Some(app)) = gloo_utils::document().query_selector("[data-testid=app]") {
                let _ = app.set_attribute("data-hydrated", "true");
            }
        }
    });
}
