//! The keys list's search, filters and page, kept in the URL (`/keys?q=ci&status=active&…`):
//! opening a key and coming back with the browser's Back button, or reloading, shows the same
//! list at the same page.

use crate::api_keys::api::KeyFilter;
use latchkey_domain::views::encode_component;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// The list's state as signals, read once from the URL and written back to it on change.
#[derive(Clone, Copy)]
pub struct ListState {
    pub search: RwSignal<String>,
    pub include_revoked: RwSignal<bool>,
    /// `None` ("All"): every key but revoked ones, unless `include_revoked`.
    pub status: RwSignal<Option<KeyFilter>>,
    /// Keyset paging: `before` for the current page, and the ones we came through to go back.
    pub before: RwSignal<Option<i64>>,
    pub history: RwSignal<Vec<Option<i64>>>,
}

fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|v| *v != value) {
        signal.set(value);
    }
}

/// A cursor in the `trail` list: a number, or `-` for the first page.
fn cursor(s: &str) -> Option<i64> {
    s.parse().ok()
}

impl ListState {
    /// From the current URL's query, and kept in step with it from now on: a change to the list
    /// replaces the URL's history entry (so Back leaves the list rather than undoing each
    /// keystroke), and a change of URL (a link to `/keys`, Back between two lists) sets the list.
    pub fn from_url() -> Self {
        let query = use_query_map();
        let parsed = move || {
            query.with(|q| {
                (
                    q.get("q").unwrap_or_default(),
                    q.get("revoked").as_deref() == Some("1"),
                    q.get("status").and_then(|s| s.parse::<KeyFilter>().ok()),
                    q.get("before").as_deref().and_then(cursor),
                    q.get("trail")
                        .map(|t| t.split(',').map(cursor).collect::<Vec<_>>())
                        .unwrap_or_default(),
                )
            })
        };
        let (search, include_revoked, status, before, history) = untrack(parsed);
        let state = Self {
            search: RwSignal::new(search),
            include_revoked: RwSignal::new(include_revoked),
            status: RwSignal::new(status),
            before: RwSignal::new(before),
            history: RwSignal::new(history),
        };
        // URL → list. Each signal is set only when it differs, so the effect below, which
        // navigates only when the query differs, cannot ping-pong with this one.
        Effect::new(move |_| {
            let (search, include_revoked, status, before, history) = parsed();
            set_if_changed(state.search, search);
            set_if_changed(state.include_revoked, include_revoked);
            set_if_changed(state.status, status);
            set_if_changed(state.before, before);
            set_if_changed(state.history, history);
        });
        let location = use_location();
        let navigate = use_navigate();
        // List → URL. Effects run only in the browser, after hydration.
        Effect::new(move |_| {
            let wanted = state.query_string();
            let current = location.search.get_untracked();
            let current = current.strip_prefix('?').unwrap_or(&current);
            if wanted != current {
                let path = location.pathname.get_untracked();
                let url = if wanted.is_empty() {
                    path
                } else {
                    format!("{path}?{wanted}")
                };
                navigate(
                    &url,
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                );
            }
        });
        state
    }

    /// The query string for the state (tracked), empty for the default list.
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        let search = self.search.get();
        if !search.is_empty() {
            parts.push(format!("q={}", encode_component(&search)));
        }
        if self.include_revoked.get() {
            parts.push("revoked=1".to_owned());
        }
        if let Some(f) = self.status.get() {
            parts.push(format!("status={}", f.as_str()));
        }
        if let Some(b) = self.before.get() {
            parts.push(format!("before={b}"));
        }
        let trail = self.history.get();
        if !trail.is_empty() {
            let t: Vec<String> = trail
                .iter()
                .map(|c| c.map_or_else(|| "-".to_owned(), |c| c.to_string()))
                .collect();
            parts.push(format!("trail={}", t.join(",")));
        }
        parts.join("&")
    }

    /// Back to the first page (a cursor from another search or filter means nothing here).
    pub fn reset_paging(&self) {
        self.before.set(None);
        self.history.set(Vec::new());
    }
}
