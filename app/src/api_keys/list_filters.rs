//! The list's search and filters: a GET form the server draws from the URL. The shared
//! `FilterForm` island applies a choice at once and keeps the URL clean
//! (`/keys?q=E2E&status=active`).

use crate::api_keys::api::KeyFilter;
use crate::components::FilterForm;
use leptos::prelude::*;

/// Search applies on Enter (the form's submit) and when the box loses focus changed; the
/// checkbox and the status at once. Each loads the list's first page with the new filters.
#[component]
pub fn KeyFilters(
    search: String,
    include_revoked: bool,
    status: Option<KeyFilter>,
) -> impl IntoView {
    view! {
        <FilterForm>
            // `autocomplete="off"`: Back must show what the URL says, not what the browser kept.
            <form class="toolbar" method="get" action="/keys" autocomplete="off">
                <label class="sr-only" for="key-search">"Search keys by name"</label>
                <input
                    id="key-search"
                    name="q"
                    type="search"
                    placeholder="Search by name"
                    data-testid="key-search"
                    data-apply="change"
                    value=search
                />
                <label class="toggle">
                    <input
                        type="checkbox"
                        name="revoked"
                        value="1"
                        data-testid="include-revoked"
                        data-apply="change"
                        checked=include_revoked
                        // A status filter says exactly which keys to show.
                        disabled=status.is_some()
                    />
                    " Include revoked"
                </label>
                <label class="toolbar-field">
                    "Status"
                    <select name="status" data-testid="status-filter" data-apply="change">
                        <option value="" selected=status.is_none()>"All"</option>
                        {KeyFilter::ALL
                            .into_iter()
                            .map(|f| {
                                view! {
                                    <option value=f.as_str() selected=status == Some(f)>
                                        {f.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </form>
        </FilterForm>
    }
}
