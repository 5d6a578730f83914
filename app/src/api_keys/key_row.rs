//! One row of the keys table, drawn by the server; its buttons are an island.

use crate::api_keys::api::{KeyView, ScopeInfo};
use crate::api_keys::key_actions::KeyActions;
use crate::components::{key_state, mode_pill, scope_badges, When};
use leptos::prelude::*;

#[component]
pub fn KeyRow(
    tenant: i64,
    key: KeyView,
    can_manage: bool,
    can_revoke: bool,
    /// The server's time for the page, for "expires in 23 h".
    now_ms: i64,
    /// Requests in the last 24 hours.
    requests: u64,
    /// For the scope badges' descriptions.
    catalogue: std::sync::Arc<Vec<ScopeInfo>>,
) -> impl IntoView {
    let href = format!("/keys/{}", key.id);
    let when = |at: Option<i64>| match at {
        Some(at) => view! { <When at=at now=now_ms/> }.into_any(),
        None => "Never".into_any(),
    };
    // Only this key's scopes go to the island: its props are written into the page.
    let scopes: Vec<ScopeInfo> = catalogue
        .iter()
        .filter(|s| key.scopes.contains(&s.name))
        .cloned()
        .collect();
    let state = key_state(&key, now_ms);
    view! {
        <tr data-testid="key-row" data-key-id=key.id.clone()>
            <td class="cell-name">
                <a href=href data-testid="key-name"><strong>{key.name.clone()}</strong></a>
                // An empty text node does not survive HTML parsing, so render none at all.
                {(!key.description.is_empty())
                    .then(|| view! { <div class="muted">{key.description.clone()}</div> })}
            </td>
            <td class="cell-key"><code data-testid="key-masked">{key.masked.clone()}</code></td>
            <td class="cell-mode">{mode_pill(key.mode)}</td>
            <td class="cell-wide">{scope_badges(key.scopes.clone(), &catalogue)}</td>
            <td class="cell-wide">{when(Some(key.created_at))}</td>
            <td class="cell-used" data-label="Last used">{when(key.last_used_at)}</td>
            <td class="cell-used" data-label="24 h" data-testid="key-requests-24h">
                {requests.to_string()}
            </td>
            <td class="cell-wide">{key.created_by.clone()}</td>
            <td class="cell-state"><div class="state-cell">{state}</div></td>
            <td class="cell-actions">
                <KeyActions
                    tenant=tenant
                    key=key.clone()
                    can_manage=can_manage
                    can_revoke=can_revoke
                    scopes=scopes
                />
            </td>
        </tr>
    }
}
