//! The list's search and filters: a GET form the server draws from the URL, brought to life so
//! a choice applies at once and the URL stays clean (`/keys?q=E2E&status=active`).

use crate::api_keys::api::KeyFilter;
use crate::api_keys::dialog::live;
use crate::api_keys::list_state::filters_href;
use crate::components::browser;
use leptos::prelude::*;

/// Search applies on Enter (the form's submit) and when the box loses focus changed; the
/// checkbox and the status at once. Each loads the list's first page with the new filters.
#[island]
pub fn KeyFilters(
    search: String,
    include_revoked: bool,
    status: Option<KeyFilter>,
) -> impl IntoView {
    let live = live();
    let search = RwSignal::new(search);
    let revoked = RwSignal::new(include_revoked);
    let status = RwSignal::new(status);
    let apply = move || {
        browser::navigate_hard(&filters_href(
            &search.get_untracked(),
            revoked.get_untracked(),
            status.get_untracked(),
        ));
    };
    let chosen = status.get_untracked();
    view! {
        // `autocomplete="off"`: Back must show what the URL says, not what the browser kept.
        <form
            class="toolbar"
            method="get"
            action="/keys"
            autocomplete="off"
            on:submit=move |ev| {
                ev.prevent_default();
                apply();
            }
        >
            <label class="sr-only" for="key-search">"Search keys by name"</label>
            <input
                id="key-search"
                name="q"
                type="search"
                placeholder="Search by name"
                data-testid="key-search"
                value=search.get_untracked()
                on:input=move |ev| search.set(event_target_value(&ev))
                on:change=move |_| apply()
            />
            <label class="toggle">
                <input
                    type="checkbox"
                    name="revoked"
                    value="1"
                    data-testid="include-revoked"
                    checked=include_revoked
                    // A status filter says exactly which keys to show.
                    disabled=move || !live.get() || status.with(Option::is_some)
                    on:change=move |ev| {
                        revoked.set(event_target_checked(&ev));
                        apply();
                    }
                />
                " Include revoked"
            </label>
            <label class="toolbar-field">
                "Status"
                <select
                    name="status"
                    data-testid="status-filter"
                    disabled=move || !live.get()
                    on:change=move |ev| {
                        status.set(event_target_value(&ev).parse().ok());
                        apply();
                    }
                >
                    <option value="" selected=chosen.is_none()>"All"</option>
                    {KeyFilter::ALL
                        .into_iter()
                        .map(|f| {
                            view! {
                                <option value=f.as_str() selected=chosen == Some(f)>
                                    {f.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
        </form>
    }
}
