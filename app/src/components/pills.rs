//! Small labels for a key's status, mode and scopes, the same on every page that shows a key.

use crate::api_keys::api::{KeyStatus, KeyView, ScopeInfo};
use crate::components::When;
use latchkey_domain::keys::Mode;
use latchkey_domain::views::EXPIRING_WITHIN_MS;
use leptos::prelude::*;

pub fn status_pill(status: KeyStatus) -> impl IntoView {
    let class = match status {
        KeyStatus::Active => "pill pill-ok",
        KeyStatus::Disabled => "pill pill-off",
        KeyStatus::Revoked => "pill pill-danger",
        KeyStatus::Expired => "pill pill-warn",
    };
    view! { <span class=class data-testid="key-status">{status.label()}</span> }
}

/// A key's status with what is coming: a rolled key in its overlap reads "Rolled · expires in
/// 23 h", an active key expiring within 7 days gets "expires in 3 days" beside its pill.
/// `now_ms` comes with the page data, so the server and the hydrated page render the same text.
pub fn key_state(key: &KeyView, now_ms: i64) -> AnyView {
    let working = key.status == KeyStatus::Active;
    if working && key.rolled_to.is_some() {
        let until = key
            .expires_at
            .map(|at| view! { " · expires " <When at=at now=now_ms/> });
        return view! {
            <span class="pill pill-warn" data-testid="key-status">"Rolled"{until}</span>
        }
        .into_any();
    }
    let soon = key
        .expires_at
        .filter(|&at| working && at.saturating_sub(now_ms) <= EXPIRING_WITHIN_MS);
    view! {
        {status_pill(key.status)}
        {soon
            .map(|at| {
                view! {
                    <span class="expiry-note" data-testid="key-expiry">
                        "expires "
                        <When at=at now=now_ms/>
                    </span>
                }
            })}
    }
    .into_any()
}

pub fn mode_pill(mode: Mode) -> impl IntoView {
    let (class, label) = match mode {
        Mode::Live => ("pill pill-live", "Live"),
        Mode::Test => ("pill", "Test"),
    };
    view! { <span class=class data-testid="key-mode">{label}</span> }
}

/// A key's scopes, each with what it grants as its tooltip (from the page's catalogue).
pub fn scope_badges(scopes: Vec<String>, catalogue: &[ScopeInfo]) -> impl IntoView {
    scopes
        .into_iter()
        .map(|s| {
            let help = latchkey_domain::scopes::describe(catalogue, &s).map(str::to_owned);
            view! { <span class="badge" title=help data-testid="scope-badge">{s}</span> }
        })
        .collect_view()
}
