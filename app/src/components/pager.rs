//! Paging through keyset-paged lists.

use leptos::prelude::*;

/// Newer / Older buttons for keyset paging: `before` is the current page's cursor, `history`
/// the cursors we came through (to go back), `next` the cursor of the next older page.
#[component]
pub fn Pager(
    before: RwSignal<Option<i64>>,
    history: RwSignal<Vec<Option<i64>>>,
    next: Option<i64>,
    newer: &'static str,
    older: &'static str,
) -> impl IntoView {
    view! {
        <div class="pager">
            <button
                type="button"
                class="btn"
                data-testid=newer
                disabled=move || history.with(|h| h.is_empty())
                on:click=move |_| {
                    let prev = history.try_update(|h| h.pop()).flatten();
                    before.set(prev.flatten());
                }
            >
                "Newer"
            </button>
            <button
                type="button"
                class="btn"
                data-testid=older
                disabled=next.is_none()
                on:click=move |_| {
                    history.update(|h| h.push(before.get_untracked()));
                    before.set(next);
                }
            >
                "Older"
            </button>
        </div>
    }
}
