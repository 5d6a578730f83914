//! "New key" and the create dialog: the new key's fields, then its secret, shown once.

use crate::api_keys::api::{CreateKey, NewKey, ScopeInfo};
use crate::api_keys::dialog::live;
use crate::api_keys::gates::ResourceGroup;
use crate::api_keys::key_fields::KeyTextFields;
use crate::api_keys::resource_picker::{ResourceChoiceState, ResourcePicker};
use crate::api_keys::secret_reveal::SecretReveal;
use crate::components::{browser, field_error, form_error, Modal};
use latchkey_domain::keys::Mode;
use leptos::prelude::*;

/// "New key" and its dialog, for people who may create keys once every requirement is met (the
/// server decides; it renders no island otherwise). The page loads again once the new secret has
/// been shown and the dialog is closed, and then lists the key.
// An island in the `keys` bundle only (`islands-keys`); elsewhere it is never hydrated.
#[cfg_attr(feature = "islands-keys", island)]
#[cfg_attr(not(feature = "islands-keys"), component)]
pub fn NewKeyButton(
    tenant: i64,
    /// Every scope of the catalogue, with what it grants.
    catalogue: Vec<ScopeInfo>,
    /// The tenant's resources by type; empty: no "Limit to resources" field.
    resource_groups: Vec<ResourceGroup>,
) -> impl IntoView {
    let live = live();
    let open = RwSignal::new(false);
    view! {
        <button
            type="button"
            class="btn btn-primary"
            data-testid="new-key"
            disabled=move || !live.get()
            on:click=move |_| open.set(true)
        >
            "New key"
        </button>
        <CreateKeyDialog
            tenant=tenant
            open=open
            catalogue=catalogue
            resource_groups=resource_groups
        />
    }
}

#[component]
fn CreateKeyDialog(
    tenant: i64,
    open: RwSignal<bool>,
    catalogue: Vec<ScopeInfo>,
    resource_groups: Vec<ResourceGroup>,
) -> impl IntoView {
    let action = ServerAction::<CreateKey>::new();
    let catalogue = StoredValue::new(catalogue);
    let resource_groups = Signal::stored(resource_groups);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Test);
    let scopes = RwSignal::new(vec!["*".to_owned()]);
    let allowlist = RwSignal::new(String::new());
    let expires_on = RwSignal::new(String::new());
    let resources = ResourceChoiceState::default();
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<bool>);

    let created = move || {
        action
            .value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned())
    };
    let reset = move || {
        if action.value().with_untracked(|v| matches!(v, Some(Ok(_)))) {
            // The list gains the key; the reload also drops the secret from memory and the page.
            browser::reload();
            return;
        }
        name.set(String::new());
        description.set(String::new());
        mode.set(Mode::Test);
        scopes.set(vec!["*".to_owned()]);
        allowlist.set(String::new());
        expires_on.set(String::new());
        resources.reset();
        confirming.set(false);
        copied.set(None);
        action.value().set(None);
        open.set(false);
    };
    let request_close = move || {
        if created().is_some() {
            confirming.set(true);
        } else {
            reset();
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(CreateKey {
            tenant,
            new: NewKey {
                name: name.get_untracked(),
                description: description.get_untracked(),
                mode: Some(mode.get_untracked()),
                scopes: scopes.get_untracked(),
                allowlist: allowlist.get_untracked(),
                expires_on: expires_on.get_untracked(),
                resources: resources.refs(),
            },
        });
    };

    view! {
        <Modal
            open=open.into()
            on_close=Callback::new(move |_| request_close())
            label="New API key"
            testid="create-dialog"
        >
            {move || match created() {
                None => view! {
                    <form on:submit=submit novalidate>
                        <h2>"New API key"</h2>
                        {form_error(action)}
                        <KeyTextFields
                            prefix="key"
                            name=name
                            description=description
                            allowlist=allowlist
                            action=action
                            name_required=true
                            allowlist_placeholder="One address or CIDR range a line, e.g. 203.0.113.0/24. Empty allows any address."
                        >
                            <ModeAndScopes mode=mode scopes=scopes catalogue=catalogue action=action/>
                            <ResourcePicker groups=resource_groups state=resources action=action/>
                        </KeyTextFields>
                        <label for="key-expiry">"Expires on (optional)"</label>
                        <input
                            id="key-expiry"
                            type="date"
                            prop:value=move || expires_on.get()
                            on:input=move |ev| expires_on.set(event_target_value(&ev))
                        />
                        <p class="hint">"The key stops working after that day (UTC)."</p>
                        {field_error(action, "expires_on")}
                        <div class="dialog-actions">
                            <button type="button" class="btn" on:click=move |_| reset()>
                                "Cancel"
                            </button>
                            <button
                                type="submit"
                                class="btn btn-primary"
                                data-testid="create-submit"
                                disabled=move || action.pending().get()
                            >
                                {move || if action.pending().get() { "Creating…" } else { "Create key" }}
                            </button>
                        </div>
                    </form>
                }
                    .into_any(),
                Some(c) => view! {
                    <SecretReveal
                        created=c
                        copied=copied
                        confirming=confirming
                        on_close=Callback::new(move |_| reset())
                    />
                }
                    .into_any(),
            }}
        </Modal>
    }
}

/// Mode and scopes: chosen once, at creation (the edit dialog shows them read-only).
#[component]
fn ModeAndScopes(
    mode: RwSignal<Mode>,
    scopes: RwSignal<Vec<String>>,
    catalogue: StoredValue<Vec<ScopeInfo>>,
    action: ServerAction<CreateKey>,
) -> impl IntoView {
    view! {
        <fieldset class="plain">
            <legend>"Mode"</legend>
            <div class="radio-row">
                {[(Mode::Test, "test", "Test"), (Mode::Live, "live", "Live")]
                    .into_iter()
                    .map(|(m, value, label)| {
                        view! {
                            <label>
                                <input
                                    type="radio"
                                    name="mode"
                                    value=value
                                    prop:checked=move || mode.get() == m
                                    on:change=move |_| mode.set(m)
                                />
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
                    .get_value()
                    .into_iter()
                    .map(|info| {
                        let s = info.name;
                        let s2 = s.clone();
                        let s3 = s.clone();
                        // Described by its line, named by the scope alone.
                        let help_id = format!("scope-help-{}", s.replace(['*', ':'], "_"));
                        view! {
                            <div class="scope-choice">
                            <label>
                                <input
                                    type="checkbox"
                                    value=s.clone()
                                    aria-describedby=help_id.clone()
                                    prop:checked=move || scopes.with(|v| v.contains(&s2))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        scopes
                                            .update(|v| {
                                                v.retain(|x| x != &s3);
                                                if on {
                                                    v.push(s3.clone());
                                                }
                                            });
                                    }
                                />
                                <code>{s}</code>
                            </label>
                            <span class="hint" id=help_id>{info.description}</span>
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
            {move || {
                (mode.get() == Mode::Live && scopes.with(|v| v.iter().any(|s| s == "*")))
                    .then(|| {
                        view! {
                            <p class="hint" data-testid="scope-hint">
                                "A live key with * can do everything. Narrow it to the scopes this service needs."
                            </p>
                        }
                    })
            }}
            {field_error(action, "scopes")}
        </fieldset>
    }
}
