//! The last row of every server-drawn dialog form: Cancel, then the form's submit.

use leptos::prelude::*;

/// Cancel closes `dialog` (an invoker command, no script); the submit says `pending` while the
/// page script posts. `needs_script`: the answer is something only this page shows once (a
/// secret, a link), so the submit stays disabled until the script runs (`data-live`), as a
/// plain post would land back on the page without it.
#[component]
pub fn DialogButtons(
    #[prop(into)] dialog: String,
    label: &'static str,
    #[prop(optional)] pending: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(default = "btn btn-primary")] class: &'static str,
    #[prop(optional)] needs_script: bool,
) -> impl IntoView {
    view! {
        <div class="dialog-actions">
            <button type="button" class="btn" commandfor=dialog command="close">"Cancel"</button>
            <button
                type="submit"
                class=class
                data-testid=testid
                data-pending=pending
                data-live=needs_script
                disabled=needs_script
            >
                {label}
            </button>
        </div>
    }
}
