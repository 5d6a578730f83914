//! The page's script for server-drawn markup. Dialogs, their forms and their buttons are drawn on
//! the server, opened with invoker commands (`command="show-modal"`), and given behaviour here by
//! data attributes, with one set of listeners on the document. A page then carries this one
//! island's code instead of a typed view per dialog (each of those cost 10 to 40 kB of wasm).
//!
//! - `<form data-enhance action=PATH method="post">` posts its fields to the server function at
//!   PATH and stays on the page. The refusal's messages land in the form's
//!   `[data-error-for=FIELD]` slots (and its `[data-form-error]` slot for the rest). On success
//!   the page loads again (the server left its notice), unless the form's dialog has a
//!   `[data-step=result]`: that step is then shown, filled from the answer (`data-fill=PATH`
//!   takes a dotted path's text, `data-fill-origin` puts the page's origin before it, and
//!   `data-if=PATH` / `data-unless=PATH` show an element only when the path has a value / none).
//!   The submit button says its `data-pending` text meanwhile.
//! - A dialog that has shown its result loads the page instead of closing (it stays open until
//!   the new page replaces this one), so the page lists what was made and the secret leaves
//!   memory. If the result has a `[data-step=confirm]`, closing (Esc, a close button, or a
//!   `data-ask` button) first asks; `data-ask-back` goes back, `data-confirmed` goes on.
//! - `data-copy=ID` copies the text of the element with that id (the button then says its
//!   `data-copied` or `data-copy-failed` text, or the `data-copied-notice` element says so);
//!   `data-download=NAME` offers `data-prefix` + that text as a file.
//! - A result step may be a `<template data-step="result">`: its copy enters the page only on
//!   success, so the result's elements (the secret's box) are not in the page before.
//! - `data-say=TEXT` on a radio puts TEXT in its `data-say-in` element when chosen;
//!   `data-switch=ID` on a select shows the `[data-case=VALUE]` of its choice inside ID and
//!   hides (and clears) the others.
//! - `data-toggle` shows or hides its `aria-controls` element (class `open`, `aria-expanded`).
//! - `data-open=TEMPLATE-ID` copies that `<template>`'s dialog into the page and opens it; it
//!   leaves the page when closed. A form's `data-result=TEMPLATE-ID` shows its result in such a
//!   dialog. Per-row dialogs wait in templates so their ids and labels are in the document only
//!   while open.
//! - `data-live` elements are disabled in the HTML and enabled here: the buttons whose plain
//!   behaviour (a form post without this script) would lose what only the page shows, a secret.
//! - One-time links carry their token in the `#fragment`, which only the browser sees:
//!   `data-from-hash` inputs take it, and a `data-autosubmit` form is posted at once.
//! - A form's `data-then` says what success does instead of the above: `show` shows the result
//!   step of its `[data-steps]` box, `html` puts the answer (HTML the server drew) there,
//!   `replace` goes to the answer (a path) in place of this page, `go` goes to `data-go`.

use leptos::prelude::*;

/// Placed once in the app, so it hydrates on every page (and before [`super::Hydrated`]).
#[island]
pub fn Enhancer() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        dom::install();
    });
}

#[cfg(feature = "hydrate")]
mod dialogs;
#[cfg(feature = "hydrate")]
mod dom;
#[cfg(feature = "hydrate")]
mod forms;
