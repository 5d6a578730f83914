//! What the keys' islands share: which of a key's dialogs is open, and whether the island has
//! come to life yet.

use leptos::prelude::*;

/// The dialog a key's actions island has open. Only the open one is in the page: every row has
/// its own island, and a closed dialog per row would repeat the dialog's ids and test ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    Closed,
    Edit,
    Roll,
    Revoke,
}

/// False in the server's HTML, true once the island around it has hydrated: buttons render
/// disabled until then, so a click is never swallowed by a page that does not answer yet
/// (right after the reload that follows a change, say).
pub fn live() -> ReadSignal<bool> {
    let (live, set_live) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_live.set(true));
    live
}
