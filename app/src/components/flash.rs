//! A notice that outlives the page load after a change ("Key rolled…"): the page is drawn again
//! by the server, and the notice is carried across in the tab's sessionStorage (never the URL,
//! so a reload or a shared link does not repeat it).

use leptos::prelude::*;

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const KEY: &str = "latchkey.notice";

/// The tab's sessionStorage, if the browser lets this page have it: inside a cross-site frame it
/// may refuse (third-party storage), and then there is simply no notice after the reload.
#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    gloo_utils::window().session_storage().ok().flatten()
}

/// Keeps `text` for the next page this tab loads.
pub fn set(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// Takes the kept notice, if any (once).
fn take() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let s = storage()?;
        let text = s.get_item(KEY).ok().flatten();
        let _ = s.remove_item(KEY);
        text
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Where the kept notice shows, once the page has loaded.
#[island]
pub fn FlashNotice() -> impl IntoView {
    let notice = RwSignal::new(None::<String>);
    // Effects run only in the browser, after this island has hydrated.
    Effect::new(move |_| notice.set(take()));
    move || {
        notice.get().map(|n| {
            view! { <p class="notice notice-ok" role="status" data-testid="notice">{n}</p> }
        })
    }
}
