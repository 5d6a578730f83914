//! One row of the keys table, with its copy, edit, roll, disable and revoke buttons.

use crate::api_keys::api::{KeyStatus, KeyView, ScopeInfo, SetKeyEnabled};
use crate::api_keys::dialog::Dialog;
use crate::api_keys::lifecycle::{rollable, toggleable, ToggleEnabled};
use crate::components::browser::copy_text;
use crate::components::{key_state, mode_pill, scope_badges, When};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn KeyRow(
    key: KeyView,
    can_manage: bool,
    can_revoke: bool,
    dialog: RwSignal<Dialog>,
    notice: RwSignal<Option<String>>,
    toggle: ServerAction<SetKeyEnabled>,
    /// The server's time for the page, for "expires in 23 h".
    now_ms: i64,
    /// Requests in the last 24 hours.
    requests: u64,
    /// For the scope badges' descriptions.
    catalogue: std::sync::Arc<Vec<ScopeInfo>>,
) -> impl IntoView {
    // On a phone the row is a card and its actions sit behind one "Actions" button.
    let menu_open = RwSignal::new(false);
    let id = key.id.clone();
    let href = format!("/keys/{}", key.id);
    let editable = key.status != KeyStatus::Revoked;
    let can_roll = can_manage && rollable(&key);
    let can_toggle = can_manage && toggleable(&key);
    // A button that opens `open(key)`, when `allowed`.
    let dialog_button = {
        let key = key.clone();
        move |allowed: bool,
              testid: &'static str,
              label: &'static str,
              open: fn(KeyView) -> Dialog| {
            let k = key.clone();
            allowed.then(|| {
                view! {
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid=testid
                        aria-label=format!("{label} {}", k.name)
                        on:click=move |_| dialog.set(open(k.clone()))
                    >
                        {label}
                    </button>
                }
            })
        }
    };
    let when = |at: Option<i64>| match at {
        Some(at) => view! { <When at=at now=now_ms/> }.into_any(),
        None => "Never".into_any(),
    };
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
            <td class="cell-state"><div class="state-cell">{key_state(&key, now_ms)}</div></td>
            <td class="cell-actions">
                <button
                    type="button"
                    class="btn btn-small row-menu-toggle"
                    aria-expanded=move || if menu_open.get() { "true" } else { "false" }
                    aria-label=format!("Actions for {}", key.name)
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                >
                    "Actions ▾"
                </button>
                <div class="row-actions" class:open=move || menu_open.get()>
                    <button
                        type="button"
                        class="btn btn-small"
                        data-testid="copy-id"
                        aria-label=format!("Copy ID of {}", key.name)
                        on:click=move |_| {
                            let id = id.clone();
                            spawn_local(async move {
                                let ok = copy_text(id.clone()).await;
                                notice
                                    .set(
                                        Some(
                                            if ok {
                                                format!("Copied key ID {id}")
                                            } else {
                                                format!("Couldn't copy; the key ID is {id}")
                                            },
                                        ),
                                    );
                            });
                        }
                    >
                        "Copy ID"
                    </button>
                    {dialog_button(can_manage && editable, "edit-key", "Edit", Dialog::Edit)}
                    {dialog_button(can_roll, "roll-key", "Roll", Dialog::Roll)}
                    {can_toggle
                        .then(|| view! { <ToggleEnabled key=key.clone() action=toggle class="btn btn-small"/> })}
                    {dialog_button(can_revoke && editable, "revoke-key", "Revoke", Dialog::Revoke)}
                </div>
            </td>
        </tr>
    }
}
