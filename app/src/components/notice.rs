//! What a plain form's post says on the page it lands on ("Password changed…"). The server
//! keeps the words in a short-lived, HttpOnly cookie for the next page, and the shell shows them
//! once. Never from the URL: only our own responses set that cookie, so a link from elsewhere
//! cannot put words on a Latchkey page.

use leptos::prelude::*;

/// The notice the last post left, drawn on the server (part of the shell).
#[component]
pub fn PostedNotice() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let notice = crate::guard::take_notice();
    #[cfg(not(feature = "ssr"))]
    let notice = None::<String>;
    notice.map(|n| view! { <p class="notice notice-ok" role="status" data-testid="notice">{n}</p> })
}
