//! A key's buttons on the list: Copy ID, Edit, Roll, Disable / Enable and Revoke, with the
//! dialogs they open, and on a phone the one "Actions" button they wait behind.

use crate::api_keys::api::{KeyStatus, KeyView, ScopeInfo};
use crate::api_keys::dialog::{live, Dialog};
use crate::api_keys::edit_dialog::EditKeyDialog;
use crate::api_keys::lifecycle::{rollable, toggleable, ToggleEnabled};
use crate::api_keys::revoke_dialog::RevokeKeyDialog;
use crate::api_keys::roll_dialog::RollKeyDialog;
use crate::components::browser::copy_text;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// One row's island. `scopes` are the key's scopes from the catalogue (the edit dialog's
/// badges describe them).
// An island in the `keys` bundle only (`islands-keys`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-keys", island)]
#[cfg_attr(not(feature = "islands-keys"), component)]
pub fn KeyActions(
    tenant: i64,
    key: KeyView,
    can_manage: bool,
    can_revoke: bool,
    scopes: Vec<ScopeInfo>,
) -> impl IntoView {
    let live = live();
    // On a phone the row is a card and its actions sit behind one "Actions" button.
    let menu_open = RwSignal::new(false);
    let dialog = RwSignal::new(Dialog::Closed);
    let copied = RwSignal::new(None::<String>);
    let editable = key.status != KeyStatus::Revoked;
    let can_roll = can_manage && rollable(&key);
    let can_toggle = can_manage && toggleable(&key);
    let name = key.name.clone();
    // A button that opens `which`, when `allowed`.
    let dialog_button = move |allowed: bool, testid: &'static str, label: &'static str, which| {
        allowed.then(|| {
            view! {
                <button
                    type="button"
                    class="btn btn-small"
                    data-testid=testid
                    aria-label=format!("{label} {name}")
                    disabled=move || !live.get()
                    on:click=move |_| dialog.set(which)
                >
                    {label}
                </button>
            }
        })
    };
    let copy = {
        let id = key.id.clone();
        move |_| {
            let id = id.clone();
            spawn_local(async move {
                let ok = copy_text(id.clone()).await;
                copied.set(Some(if ok {
                    format!("Copied key ID {id}")
                } else {
                    format!("Couldn't copy; the key ID is {id}")
                }));
            });
        }
    };
    let close = Callback::new(move |_| dialog.set(Dialog::Closed));
    let key = StoredValue::new(key);
    let open_dialog = move || match dialog.get() {
        Dialog::Closed => ().into_any(),
        Dialog::Edit => view! {
            <EditKeyDialog tenant=tenant key=key.get_value() scopes=scopes.clone() on_close=close/>
        }
        .into_any(),
        Dialog::Roll => {
            view! { <RollKeyDialog tenant=tenant key=key.get_value() on_close=close/> }.into_any()
        }
        Dialog::Revoke => {
            view! { <RevokeKeyDialog tenant=tenant key=key.get_value() on_close=close/> }.into_any()
        }
    };
    let name = key.with_value(|k| k.name.clone());
    view! {
        <button
            type="button"
            class="btn btn-small row-menu-toggle"
            aria-expanded=move || if menu_open.get() { "true" } else { "false" }
            aria-label=format!("Actions for {name}")
            disabled=move || !live.get()
            on:click=move |_| menu_open.update(|o| *o = !*o)
        >
            "Actions ▾"
        </button>
        <div class="row-actions" class:open=move || menu_open.get()>
            <button
                type="button"
                class="btn btn-small"
                data-testid="copy-id"
                aria-label=format!("Copy ID of {name}")
                disabled=move || !live.get()
                on:click=copy
            >
                "Copy ID"
            </button>
            {dialog_button(can_manage && editable, "edit-key", "Edit", Dialog::Edit)}
            {dialog_button(can_roll, "roll-key", "Roll", Dialog::Roll)}
            {can_toggle
                .then(|| {
                    view! {
                        <ToggleEnabled
                            tenant=tenant
                            key=key.get_value()
                            class="btn btn-small"
                            live=live
                        />
                    }
                })}
            {dialog_button(can_revoke && editable, "revoke-key", "Revoke", Dialog::Revoke)}
        </div>
        {move || {
            copied
                .get()
                .map(|n| view! { <p class="notice notice-ok" role="status" data-testid="notice">{n}</p> })
        }}
        {open_dialog}
    }
}
