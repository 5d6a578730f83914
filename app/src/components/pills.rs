//! Small labels for a key's status, mode and scopes, the same on every page that shows a key.

use crate::api_keys::api::KeyStatus;
use latchkey_domain::keys::Mode;
use leptos::prelude::*;

pub fn status_pill(status: KeyStatus) -> impl IntoView {
    let class = match status {
        KeyStatus::Active => "pill pill-ok",
        KeyStatus::Revoked => "pill pill-danger",
        KeyStatus::Expired => "pill pill-warn",
    };
    view! { <span class=class data-testid="key-status">{status.label()}</span> }
}

pub fn mode_pill(mode: Mode) -> impl IntoView {
    let (class, label) = match mode {
        Mode::Live => ("pill pill-live", "Live"),
        Mode::Test => ("pill", "Test"),
    };
    view! { <span class=class data-testid="key-mode">{label}</span> }
}

pub fn scope_badges(scopes: Vec<String>) -> impl IntoView {
    scopes
        .into_iter()
        .map(|s| view! { <span class="badge">{s}</span> })
        .collect_view()
}
