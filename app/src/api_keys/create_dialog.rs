//! "New key" and the create dialog, drawn on the server: the new key's fields, then its secret,
//! shown once. The page script ([`Enhancer`](crate::components::enhance)) posts the form, puts
//! refusals beside their fields and shows the secret; the page loads again once the dialog is
//! closed, and then lists the key.

use crate::api_keys::api::{CreateKey, ScopeInfo};
use crate::api_keys::gates::ResourceGroup;
use crate::api_keys::key_fields::KeyTextFields;
use crate::api_keys::resource_picker::ResourcePicker;
use crate::api_keys::secret_reveal::SecretReveal;
use crate::components::DialogButtons;
use latchkey_domain::keys::Mode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

const DIALOG: &str = "new-key-dialog";

/// "New key" and its dialog, for people who may create keys once every requirement is met (the
/// server decides; it draws neither otherwise).
#[component]
pub fn NewKeyButton(
    tenant: i64,
    /// Every scope of the catalogue, with what it grants.
    catalogue: Vec<ScopeInfo>,
    /// The tenant's resources by type; empty: no "Limit to resources" field.
    resource_groups: Vec<ResourceGroup>,
) -> impl IntoView {
    view! {
        <button type="button" class="btn btn-primary" data-testid="new-key" commandfor=DIALOG command="show-modal">
            "New key"
        </button>
        <dialog id=DIALOG aria-label="New API key" data-testid="create-dialog">
            <div class="dialog-body">
                <form method="post" action=CreateKey::PATH data-enhance novalidate>
                    <h2>"New API key"</h2>
                    <div data-form-error></div>
                    <input type="hidden" name="tenant" value=tenant.to_string()/>
                    <KeyTextFields
                        prefix="key"
                        group="new"
                        name_required=true
                        allowlist_placeholder="One address or CIDR range a line, e.g. 203.0.113.0/24. Empty allows any address."
                    >
                        <ModeAndScopes catalogue=catalogue/>
                        <ResourcePicker groups=resource_groups/>
                    </KeyTextFields>
                    <label for="key-expiry">"Expires on (optional)"</label>
                    <input id="key-expiry" name="new[expires_on]" type="date"/>
                    <p class="hint">"The key stops working after that day (UTC)."</p>
                    <div data-error-for="expires_on"></div>
                    <DialogButtons
                        dialog=DIALOG
                        label="Create key"
                        pending="Creating…"
                        testid="create-submit"
                        needs_script=true
                    />
                </form>
                <SecretReveal dialog_id=DIALOG answer=""/>
            </div>
        </dialog>
    }
}

/// Mode and scopes: chosen once, at creation (the edit dialog shows them read-only). The hint
/// about a live key with `*` shows by the stylesheet (`:has`), as the choices change.
#[component]
fn ModeAndScopes(catalogue: Vec<ScopeInfo>) -> impl IntoView {
    view! {
        <fieldset class="plain">
            <legend>"Mode"</legend>
            <div class="radio-row">
                {[(Mode::Test, "test", "Test"), (Mode::Live, "live", "Live")]
                    .into_iter()
                    .map(|(m, value, label)| {
                        view! {
                            <label>
                                <input type="radio" name="new[mode]" value=value checked=m == Mode::Test/>
                                {label}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </fieldset>
        <fieldset class="plain">
            <legend>"Scopes"</legend>
            <div class="scope-list">
                {catalogue
                    .into_iter()
                    .map(|info| {
                        // Described by its line, named by the scope alone.
                        let help_id = format!("scope-help-{}", info.name.replace(['*', ':'], "_"));
                        view! {
                            <div class="scope-choice">
                                <label>
                                    <input
                                        type="checkbox"
                                        name="new[scopes][]"
                                        value=info.name.clone()
                                        aria-describedby=help_id.clone()
                                        checked=info.name == "*"
                                    />
                                    <code>{info.name.clone()}</code>
                                </label>
                                <span class="hint" id=help_id>{info.description}</span>
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
            <p class="hint scope-hint-live" data-testid="scope-hint">
                "A live key with * can do everything. Narrow it to the scopes this service needs."
            </p>
            <div data-error-for="scopes"></div>
        </fieldset>
    }
}
