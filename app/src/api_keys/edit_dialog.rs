//! The edit dialog: name, description and allowlist; mode and scopes stay as created.

use crate::api_keys::api::{KeyEdit, KeyView, ScopeInfo, UpdateKey};
use crate::api_keys::key_fields::KeyTextFields;
use crate::components::{browser, form_error, mode_pill, scope_badges, Modal};
use leptos::prelude::*;

/// In the page only while open (see [`Dialog`](crate::api_keys::dialog::Dialog)); a save loads
/// the page again, which then shows the key as saved.
#[component]
pub fn EditKeyDialog(
    tenant: i64,
    key: KeyView,
    /// The key's scopes from the catalogue, for the badges' descriptions.
    scopes: Vec<ScopeInfo>,
    on_close: Callback<()>,
) -> impl IntoView {
    let action = ServerAction::<UpdateKey>::new();
    let name = RwSignal::new(key.name.clone());
    let description = RwSignal::new(key.description.clone());
    let allowlist = RwSignal::new(key.allowlist.join("\n"));
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            browser::reload();
        }
    });
    let key = StoredValue::new(key);
    let scopes = StoredValue::new(scopes);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(UpdateKey {
            tenant,
            edit: KeyEdit {
                id: key.with_value(|k| k.id.clone()),
                name: name.get_untracked(),
                description: description.get_untracked(),
                allowlist: allowlist.get_untracked(),
            },
        });
    };
    view! {
        <Modal
            open=Signal::stored(true)
            on_close=on_close
            label="Edit API key"
            testid="edit-dialog"
        >
            <form on:submit=submit>
                <h2>"Edit “" {key.with_value(|k| k.name.clone())} "”"</h2>
                {form_error(action)}
                <KeyTextFields
                    prefix="edit"
                    name=name
                    description=description
                    allowlist=allowlist
                    action=action
                />
                <dl class="facts facts-spaced">
                    <dt>"Mode"</dt>
                    <dd>{mode_pill(key.with_value(|k| k.mode))}</dd>
                    <dt>"Scopes"</dt>
                    <dd>
                        {scope_badges(
                            key.with_value(|k| k.scopes.clone()),
                            &scopes.get_value(),
                        )}
                    </dd>
                </dl>
                <p class="hint" data-testid="immutable-reason">
                    "Mode and scopes can't change after creation, so anyone auditing a key can trust its rights never changed. To change them, create a new key."
                </p>
                <div class="dialog-actions">
                    <button type="button" class="btn" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="edit-submit"
                        disabled=move || action.pending().get()
                    >
                        "Save changes"
                    </button>
                </div>
            </form>
        </Modal>
    }
}
