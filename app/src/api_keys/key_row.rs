//! One row of the keys table, with its copy, edit and revoke buttons.

use crate::api_keys::api::{KeyStatus, KeyView};
use crate::api_keys::dialog::Dialog;
use crate::components::browser::copy_text;
use crate::components::{mode_pill, scope_badges, status_pill};
use latchkey_domain::time::format_ms;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn KeyRow(
    key: KeyView,
    can_manage: bool,
    can_revoke: bool,
    dialog: RwSignal<Dialog>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = key.id.clone();
    let href = format!("/keys/{}", key.id);
    let editable = key.status != KeyStatus::Revoked;
    view! {
        <tr data-testid="key-row" data-key-id=key.id.clone()>
            <td>
                <a href=href rel="external" data-testid="key-name"><strong>{key.name.clone()}</strong></a>
                // An empty text node does not survive HTML parsing, so render none at all.
                {(!key.description.is_empty())
                    .then(|| view! { <div class="muted">{key.description.clone()}</div> })}
            </td>
            <td><code data-testid="key-masked">{key.masked.clone()}</code></td>
            <td>{mode_pill(key.mode)}</td>
            <td>{scope_badges(key.scopes.clone())}</td>
            <td>{format_ms(key.created_at)}</td>
            <td>{key.last_used_at.map(format_ms).unwrap_or_else(|| "Never".into())}</td>
            <td>{key.created_by.clone()}</td>
            <td>{status_pill(key.status)}</td>
            <td>
                <div class="row-actions">
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
                    {[
                        (can_manage, "edit-key", "Edit", Dialog::Edit as fn(KeyView) -> Dialog),
                        (can_revoke, "revoke-key", "Revoke", Dialog::Revoke),
                    ]
                        .into_iter()
                        .filter(|(allowed, ..)| *allowed && editable)
                        .map(|(_, testid, label, open)| {
                            let k = key.clone();
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
                        .collect_view()}
                </div>
            </td>
        </tr>
    }
}
