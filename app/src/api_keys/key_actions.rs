//! A key's buttons on the list, drawn on the server: Copy ID, Edit, Roll, Disable / Enable and
//! Revoke, and on a phone the one "Actions" button they wait behind. Each dialog waits in a
//! `<template>` of the row and enters the page only while open (see
//! [`Enhancer`](crate::components::enhance)), so the page holds one set of dialog ids at a time.

use crate::api_keys::api::{KeyStatus, KeyView, ScopeInfo};
use crate::api_keys::edit_dialog::EditKeyDialog;
use crate::api_keys::lifecycle::{rollable, toggleable, ToggleEnabled};
use crate::api_keys::revoke_dialog::RevokeKeyDialog;
use crate::api_keys::roll_dialog::RollKeyDialog;
use leptos::prelude::*;

/// `scopes` are the key's scopes from the catalogue (the edit dialog's badges describe them).
#[component]
pub fn KeyActions(
    tenant: i64,
    key: KeyView,
    can_manage: bool,
    can_revoke: bool,
    scopes: Vec<ScopeInfo>,
) -> impl IntoView {
    let editable = key.status != KeyStatus::Revoked;
    let can_edit = can_manage && editable;
    let can_roll = can_manage && rollable(&key);
    let can_toggle = can_manage && toggleable(&key);
    let can_revoke = can_revoke && editable;
    let id = key.id.clone();
    let name = key.name.clone();
    let actions = format!("row-actions-{id}");
    let notice = format!("row-notice-{id}");
    let template = move |what: &str| format!("{what}-key-{id}");
    // A button that opens the dialog waiting in the template `which`.
    let named = name.clone();
    let opens = move |testid: &'static str, label: &'static str, which: String| {
        view! {
            <button
                type="button"
                class="btn btn-small"
                data-testid=testid
                aria-label=format!("{label} {named}")
                data-open=which
            >
                {label}
            </button>
        }
    };
    let (edit, roll, revoke) = (template("edit"), template("roll"), template("revoke"));
    view! {
        <button
            type="button"
            class="btn btn-small row-menu-toggle"
            aria-expanded="false"
            aria-controls=actions.clone()
            aria-label=format!("Actions for {name}")
            data-toggle
        >
            "Actions ▾"
        </button>
        <div class="row-actions" id=actions>
            <button
                type="button"
                class="btn btn-small"
                data-testid="copy-id"
                aria-label=format!("Copy ID of {name}")
                data-copy=format!("key-id-{}", key.id)
                data-copied-notice=notice.clone()
                data-what="key ID"
            >
                "Copy ID"
            </button>
            <span hidden id=format!("key-id-{}", key.id)>{key.id.clone()}</span>
            {can_edit.then(|| opens("edit-key", "Edit", edit.clone()))}
            {can_roll.then(|| opens("roll-key", "Roll", roll.clone()))}
            {can_toggle.then(|| view! { <ToggleEnabled tenant=tenant key=key.clone() class="btn btn-small"/> })}
            {can_revoke.then(|| opens("revoke-key", "Revoke", revoke.clone()))}
        </div>
        <div id=notice></div>
        {can_edit.then(|| view! {
            <template id=edit.clone()>
                <EditKeyDialog tenant=tenant key=key.clone() scopes=scopes dialog_id=format!("{edit}-dialog")/>
            </template>
        })}
        {can_roll.then(|| view! {
            <template id=roll.clone()>
                <RollKeyDialog tenant=tenant key=key.clone() dialog_id=format!("{roll}-dialog")/>
            </template>
        })}
        {can_revoke.then(|| view! {
            <template id=revoke.clone()>
                <RevokeKeyDialog tenant=tenant key=key.clone() dialog_id=format!("{revoke}-dialog")/>
            </template>
        })}
    }
}
