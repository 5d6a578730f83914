//! The one table shape the pages use: a scrolling wrapper, column headers, the rows, and a line
//! saying so when there are none.

use leptos::prelude::*;

/// `headers` name the columns; `actions` adds a last, visually hidden "Actions" column for row
/// buttons. `empty` is `(data-testid, message)` shown under the table when it has no rows.
#[component]
pub fn DataTable(
    headers: &'static [&'static str],
    #[prop(optional)] actions: bool,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] class: Option<&'static str>,
    #[prop(default = None)] empty: Option<(&'static str, &'static str)>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid=testid class=class>
                <thead>
                    <tr>
                        {headers.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}
                        {actions
                            .then(|| {
                                view! {
                                    <th scope="col">
                                        <span class="sr-only">"Actions"</span>
                                    </th>
                                }
                            })}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
            {empty
                .map(|(testid, message)| {
                    view! {
                        <p class="muted table-empty" data-testid=testid>
                            {message}
                        </p>
                    }
                })}
        </div>
    }
}
