//! The edit dialog: name, description and allowlist; mode and scopes stay as created.

use crate::api_keys::api::{KeyEdit, ScopeInfo, UpdateKey};
use crate::api_keys::dialog::Dialog;
use crate::api_keys::key_fields::KeyTextFields;
use crate::components::{form_error, mode_pill, scope_badges, Modal, PageTenant};
use leptos::prelude::*;

#[component]
pub fn EditKeyDialog(
    dialog: RwSignal<Dialog>,
    action: ServerAction<UpdateKey>,
    /// For the scope badges' descriptions.
    #[prop(into)]
    catalogue: Signal<Vec<ScopeInfo>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let allowlist = RwSignal::new(String::new());
    let tenant = PageTenant::from_context();
    let editing = Memo::new(move |_| match dialog.get() {
        Dialog::Edit(k) => Some(k),
        _ => None,
    });
    // Fill the form whenever a different key is opened.
    Effect::new(move |_| {
        if let Some(k) = editing.get() {
            name.set(k.name.clone());
            description.set(k.description.clone());
            allowlist.set(k.allowlist.join("\n"));
            action.value().set(None);
        }
    });
    // Close once the save succeeded.
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            dialog.set(Dialog::Closed);
        }
    });
    let close = move || {
        action.value().set(None);
        dialog.set(Dialog::Closed);
    };
    let open = Signal::derive(move || editing.with(|e| e.is_some()));
    view! {
        <Modal open=open on_close=Callback::new(move |_| close()) label="Edit API key" testid="edit-dialog">
            {move || {
                editing
                    .get()
                    .map(|k| {
                        let id = k.id.clone();
                        view! {
                            <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                action
                                    .dispatch(UpdateKey {
                                        tenant: tenant.now(),
                                        edit: KeyEdit {
                                            id: id.clone(),
                                            name: name.get_untracked(),
                                            description: description.get_untracked(),
                                            allowlist: allowlist.get_untracked(),
                                        },
                                    });
                            }>
                                <h2>"Edit “" {k.name.clone()} "”"</h2>
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
                                    <dd>{mode_pill(k.mode)}</dd>
                                    <dt>"Scopes"</dt>
                                    <dd>{scope_badges(k.scopes.clone(), &catalogue.get_untracked())}</dd>
                                </dl>
                                <p class="hint" data-testid="immutable-reason">
                                    "Mode and scopes can't change after creation, so anyone auditing a key can trust its rights never changed. To change them, create a new key."
                                </p>
                                <div class="dialog-actions">
                                    <button type="button" class="btn" on:click=move |_| close()>
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
                        }
                    })
            }}
        </Modal>
    }
}
