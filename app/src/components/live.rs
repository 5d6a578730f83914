//! Whether an island has come to life.

use leptos::prelude::*;

/// False in the server's HTML, true once the island around it has hydrated: buttons render
/// disabled until then, so a click is never swallowed by a page that does not answer yet
/// (right after the reload that follows a change, say).
pub fn live() -> ReadSignal<bool> {
    let (live, set_live) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_live.set(true));
    live
}
