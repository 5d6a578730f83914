//! The edit dialog: name, description and allowlist; mode and scopes stay as created. Drawn on
//! the server into its row's template; a save loads the page again, which shows the key as saved.

use crate::api_keys::api::{KeyView, ScopeInfo, UpdateKey};
use crate::api_keys::key_fields::KeyTextFields;
use crate::components::{mode_pill, scope_badges, DialogButtons};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn EditKeyDialog(
    tenant: i64,
    key: KeyView,
    /// The key's scopes from the catalogue, for the badges' descriptions.
    scopes: Vec<ScopeInfo>,
    dialog_id: String,
) -> impl IntoView {
    let closes = dialog_id.clone();
    view! {
        <dialog id=dialog_id aria-label="Edit API key" data-testid="edit-dialog">
            <div class="dialog-body">
                <form method="post" action=UpdateKey::PATH data-enhance>
                    <h2>"Edit “" {key.name.clone()} "”"</h2>
                    <div data-form-error></div>
                    <input type="hidden" name="tenant" value=tenant.to_string()/>
                    <input type="hidden" name="edit[id]" value=key.id.clone()/>
                    <KeyTextFields
                        prefix="edit"
                        group="edit"
                        name=key.name.clone()
                        description=key.description.clone()
                        allowlist=key.allowlist.join("\n")
                    />
                    <dl class="facts facts-spaced">
                        <dt>"Mode"</dt>
                        <dd>{mode_pill(key.mode)}</dd>
                        <dt>"Scopes"</dt>
                        <dd>{scope_badges(key.scopes.clone(), &scopes)}</dd>
                    </dl>
                    <p class="hint" data-testid="immutable-reason">
                        "Mode and scopes can't change after creation, so anyone auditing a key can trust its rights never changed. To change them, create a new key."
                    </p>
                    <DialogButtons dialog=closes label="Save changes" pending="Saving…" testid="edit-submit"/>
                </form>
            </div>
        </dialog>
    }
}
