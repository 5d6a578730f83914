//! Settings ▸ API Keys: the list, the create dialog (secret shown once), edit, revoke, detail.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;

use crate::error::AppError;
use crate::ui::browser::{copy_text, download};
use crate::ui::{ErrorNotice, Modal, PageHeader, Pager, Ready};
use api::*;
use latchkey_domain::keys::Mode;
use latchkey_domain::time::{format_date, format_ms, format_ms_seconds};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

/// Which dialog is open on the list page.
#[derive(Debug, Clone, PartialEq)]
enum Dialog {
    Closed,
    Create,
    Edit(KeyView),
    Revoke(KeyView),
}

/// The list page. The server decides what the caller may see: a Starter tenant gets the upgrade
/// card, a viewer is told they have no access (the same answers a direct call gets).
#[component]
pub fn KeysPage() -> impl IntoView {
    view! { <KeysManager/> }
}

#[component]
fn UpgradeCard() -> impl IntoView {
    view! {
        <PageHeader title="API Keys" description="Let your services call the API with scoped keys."/>
        <div class="card" data-testid="upgrade-card">
            <h2>"API keys are part of Professional and Enterprise"</h2>
            <p>
                "Upgrade to create live and test keys with scopes, IP allowlists and expiry. "
                "Keys you already have are kept, suspended until you upgrade."
            </p>
            <a class="btn btn-primary" href="/billing" data-testid="upgrade-link">
                "See plans in Settings ▸ Billing"
            </a>
        </div>
    }
}

#[component]
fn NoAccess() -> impl IntoView {
    view! {
        <PageHeader title="API Keys" description="Let your services call the API with scoped keys."/>
        <div class="card" data-testid="no-access" role="alert">
            <h2>"You don't have access to API keys"</h2>
            <p>"Viewers can't see this organisation's keys. Ask an owner or admin for a different role."</p>
        </div>
    }
}

#[component]
fn KeysManager() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let include_revoked = RwSignal::new(false);
    // Keyset paging: `before` for the current page, and the ones we came through to go back.
    let before = RwSignal::new(None::<i64>);
    let history = RwSignal::new(Vec::<Option<i64>>::new());
    let create = ServerAction::<CreateKey>::new();
    let update = ServerAction::<UpdateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let dialog = RwSignal::new(Dialog::Closed);
    let notice = RwSignal::new(None::<String>);

    let page = Resource::new(
        move || {
            (
                search.get(),
                include_revoked.get(),
                before.get(),
                create.version().get() + update.version().get() + revoke.version().get(),
            )
        },
        |(search, include_revoked, before, _)| list_keys(search, include_revoked, before),
    );
    let reset_paging = move || {
        before.set(None);
        history.set(Vec::new());
    };

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(AppError::PlanRequired) => view! { <UpgradeCard/> }.into_any(),
                    Err(AppError::Forbidden) => view! { <NoAccess/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(p) => {
                        let can_manage = p.can_manage;
                        let catalogue = p.catalogue.clone();
                        let next = p.next_before;
                        let empty = p.keys.is_empty();
                        view! {
                            <PageHeader
                                title="API Keys"
                                description="Keys let your services call the API; each is scoped, and its secret is shown once."
                            >
                                {can_manage
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-primary"
                                                data-testid="new-key"
                                                on:click=move |_| {
                                                    create.value().set(None);
                                                    dialog.set(Dialog::Create);
                                                }
                                            >
                                                "New key"
                                            </button>
                                        }
                                    })}
                            </PageHeader>
                            <Ready testid="keys-ready"/>
                            <p class="muted" data-testid="key-usage">
                                {format!("{} of {} active keys used", p.active_count, p.active_limit)}
                            </p>
                            {move || {
                                notice
                                    .get()
                                    .map(|n| {
                                        view! {
                                            <p class="notice notice-ok" role="status" data-testid="notice">
                                                {n}
                                            </p>
                                        }
                                    })
                            }}
                            <div class="toolbar">
                                <label class="sr-only" for="key-search">"Search keys by name"</label>
                                <input
                                    id="key-search"
                                    type="search"
                                    placeholder="Search by name"
                                    data-testid="key-search"
                                    prop:value=move || search.get()
                                    on:input=move |ev| {
                                        reset_paging();
                                        search.set(event_target_value(&ev));
                                    }
                                />
                                <label class="toggle">
                                    <input
                                        type="checkbox"
                                        data-testid="include-revoked"
                                        prop:checked=move || include_revoked.get()
                                        on:change=move |ev| {
                                            reset_paging();
                                            include_revoked.set(event_target_checked(&ev));
                                        }
                                    />
                                    " Include revoked"
                                </label>
                            </div>
                            <div class="table-wrap">
                                <table data-testid="keys-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Key"</th>
                                            <th scope="col">"Mode"</th>
                                            <th scope="col">"Scopes"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"Last used"</th>
                                            <th scope="col">"Created by"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col">
                                                <span class="sr-only">"Actions"</span>
                                            </th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {p
                                            .keys
                                            .into_iter()
                                            .map(|k| {
                                                view! {
                                                    <KeyRow key=k can_manage=can_manage dialog=dialog notice=notice/>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                {empty
                                    .then(|| {
                                        view! {
                                            <p class="muted" style="padding:1rem" data-testid="no-keys">
                                                "No keys match."
                                            </p>
                                        }
                                    })}
                            </div>
                            <Pager before=before history=history next=next newer="page-newer" older="page-older"/>
                            <CreateKeyDialog dialog=dialog action=create catalogue=catalogue/>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
        <EditKeyDialog dialog=dialog action=update/>
        <RevokeKeyDialog dialog=dialog action=revoke notice=notice/>
    }
}

fn status_pill(status: KeyStatus) -> impl IntoView {
    let class = match status {
        KeyStatus::Active => "pill pill-ok",
        KeyStatus::Revoked => "pill pill-danger",
        KeyStatus::Expired => "pill pill-warn",
    };
    view! { <span class=class data-testid="key-status">{status.label()}</span> }
}

fn mode_pill(mode: Mode) -> impl IntoView {
    let (class, label) = match mode {
        Mode::Live => ("pill pill-live", "Live"),
        Mode::Test => ("pill", "Test"),
    };
    view! { <span class=class data-testid="key-mode">{label}</span> }
}

fn scope_badges(scopes: Vec<String>) -> impl IntoView {
    scopes
        .into_iter()
        .map(|s| view! { <span class="badge">{s}</span> })
        .collect_view()
}

#[component]
fn KeyRow(
    key: KeyView,
    can_manage: bool,
    dialog: RwSignal<Dialog>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = key.id.clone();
    let href = format!("/keys/{}", key.id);
    let editable = key.status != KeyStatus::Revoked;
    let k_edit = key.clone();
    let k_revoke = key.clone();
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
                    {(can_manage && editable)
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-small"
                                    data-testid="edit-key"
                                    aria-label=format!("Edit {}", k_edit.name)
                                    on:click=move |_| dialog.set(Dialog::Edit(k_edit.clone()))
                                >
                                    "Edit"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-small"
                                    data-testid="revoke-key"
                                    aria-label=format!("Revoke {}", k_revoke.name)
                                    on:click=move |_| dialog.set(Dialog::Revoke(k_revoke.clone()))
                                >
                                    "Revoke"
                                </button>
                            }
                        })}
                </div>
            </td>
        </tr>
    }
}

/// The per-field message of the last failed submission, if any.
fn field_error<A>(
    action: ServerAction<A>,
    field: &'static str,
) -> impl Fn() -> Option<AnyView> + Send + Sync + Clone + 'static
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    move || {
        action.value().with(|v| match v {
            Some(Err(e)) => e.field_message(field),
            _ => None,
        })
        .map(|m| {
            view! { <p class="field-error" role="alert" data-testid=format!("error-{field}")>{m}</p> }
                .into_any()
        })
    }
}

/// Non-field errors of the last failed submission (plan limit, permissions, network).
fn form_error<A>(
    action: ServerAction<A>,
) -> impl Fn() -> Option<AnyView> + Send + Sync + Clone + 'static
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .with(|v| match v {
                Some(Err(AppError::Validation(_))) | None | Some(Ok(_)) => None,
                Some(Err(e)) => Some(e.clone()),
            })
            .map(|e| view! { <ErrorNotice error=e/> }.into_any())
    }
}

#[component]
fn CreateKeyDialog(
    dialog: RwSignal<Dialog>,
    action: ServerAction<CreateKey>,
    catalogue: Vec<String>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Test);
    let scopes = RwSignal::new(vec!["*".to_owned()]);
    let allowlist = RwSignal::new(String::new());
    let expires_on = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<bool>);
    let catalogue = StoredValue::new(catalogue);

    let created = move || {
        action
            .value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned())
    };
    let reset = move || {
        name.set(String::new());
        description.set(String::new());
        mode.set(Mode::Test);
        scopes.set(vec!["*".to_owned()]);
        allowlist.set(String::new());
        expires_on.set(String::new());
        confirming.set(false);
        copied.set(None);
        // Drop the secret from memory and the page.
        action.value().set(None);
        dialog.set(Dialog::Closed);
    };
    let request_close = move || {
        if created().is_some() {
            confirming.set(true);
        } else {
            reset();
        }
    };
    let open = Signal::derive(move || dialog.with(|d| *d == Dialog::Create));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(CreateKey {
            new: NewKey {
                name: name.get_untracked(),
                description: description.get_untracked(),
                mode: Some(mode.get_untracked()),
                scopes: scopes.get_untracked(),
                allowlist: allowlist.get_untracked(),
                expires_on: expires_on.get_untracked(),
            },
        });
    };

    view! {
        <Modal
            open=open
            on_close=Callback::new(move |_| request_close())
            label="New API key"
            testid="create-dialog"
        >
            {move || match created() {
                None => view! {
                    <form on:submit=submit novalidate>
                        <h2>"New API key"</h2>
                        {form_error(action)}
                        <label for="key-name">"Name"</label>
                        <input
                            id="key-name"
                            type="text"
                            maxlength="100"
                            required
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                        />
                        {field_error(action, "name")}
                        <label for="key-description">"Description"</label>
                        <input
                            id="key-description"
                            type="text"
                            prop:value=move || description.get()
                            on:input=move |ev| description.set(event_target_value(&ev))
                        />
                        {field_error(action, "description")}
                        <fieldset class="plain">
                            <legend>"Mode"</legend>
                            <div class="radio-row">
                                <label>
                                    <input
                                        type="radio"
                                        name="mode"
                                        value="test"
                                        prop:checked=move || mode.get() == Mode::Test
                                        on:change=move |_| mode.set(Mode::Test)
                                    />
                                    "Test"
                                </label>
                                <label>
                                    <input
                                        type="radio"
                                        name="mode"
                                        value="live"
                                        prop:checked=move || mode.get() == Mode::Live
                                        on:change=move |_| mode.set(Mode::Live)
                                    />
                                    "Live"
                                </label>
                            </div>
                        </fieldset>
                        <fieldset class="plain">
                            <legend>"Scopes"</legend>
                            <div class="scope-list">
                                {catalogue
                                    .get_value()
                                    .into_iter()
                                    .map(|s| {
                                        let s2 = s.clone();
                                        let s3 = s.clone();
                                        view! {
                                            <label>
                                                <input
                                                    type="checkbox"
                                                    value=s.clone()
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
                        <label for="key-allowlist">"IP allowlist"</label>
                        <textarea
                            id="key-allowlist"
                            placeholder="One address or CIDR range a line, e.g. 203.0.113.0/24. Empty allows any address."
                            prop:value=move || allowlist.get()
                            on:input=move |ev| allowlist.set(event_target_value(&ev))
                        ></textarea>
                        {field_error(action, "allowlist")}
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
                Some(c) => {
                    let secret = c.secret.clone();
                    let secret_copy = c.secret.clone();
                    let secret_dl = c.secret.clone();
                    view! {
                        <h2>"Save your key"</h2>
                        <p>
                            "This is the only time “" {c.key.name.clone()}
                            "” is shown. Store it in your secret manager now; we keep only a digest and can't show it again."
                        </p>
                        <div class="secret-box">
                            <code data-testid="new-secret">{secret}</code>
                        </div>
                        <div class="dialog-actions" style="justify-content:flex-start">
                            <button
                                type="button"
                                class="btn btn-primary"
                                data-testid="copy-secret"
                                on:click=move |_| {
                                    let s = secret_copy.clone();
                                    spawn_local(async move {
                                        copied.set(Some(copy_text(s).await));
                                    });
                                }
                            >
                                {move || match copied.get() {
                                    Some(true) => "Copied",
                                    Some(false) => "Copy failed: select the key and copy it",
                                    None => "Copy key",
                                }}
                            </button>
                            <button
                                type="button"
                                class="btn"
                                data-testid="download-secret"
                                on:click=move |_| {
                                    download("latchkey.env", &format!("LATCHKEY_API_KEY={secret_dl}\n"))
                                }
                            >
                                "Download .env"
                            </button>
                        </div>
                        {move || {
                            if confirming.get() {
                                view! {
                                    <div class="notice notice-error" role="alertdialog" aria-label="Confirm close">
                                        <p>"Have you saved the key? Once you close this, it can't be shown again."</p>
                                        <div class="dialog-actions">
                                            <button type="button" class="btn" on:click=move |_| confirming.set(false)>
                                                "Go back"
                                            </button>
                                            <button
                                                type="button"
                                                class="btn btn-danger"
                                                data-testid="confirm-close"
                                                on:click=move |_| reset()
                                            >
                                                "Yes, I've saved it"
                                            </button>
                                        </div>
                                    </div>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <div class="dialog-actions">
                                        <button
                                            type="button"
                                            class="btn btn-primary"
                                            data-testid="close-secret"
                                            on:click=move |_| confirming.set(true)
                                        >
                                            "Done"
                                        </button>
                                    </div>
                                }
                                    .into_any()
                            }
                        }}
                    }
                        .into_any()
                }
            }}
        </Modal>
    }
}

#[component]
fn EditKeyDialog(dialog: RwSignal<Dialog>, action: ServerAction<UpdateKey>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let allowlist = RwSignal::new(String::new());
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
                                <label for="edit-name">"Name"</label>
                                <input
                                    id="edit-name"
                                    type="text"
                                    maxlength="100"
                                    prop:value=move || name.get()
                                    on:input=move |ev| name.set(event_target_value(&ev))
                                />
                                {field_error(action, "name")}
                                <label for="edit-description">"Description"</label>
                                <input
                                    id="edit-description"
                                    type="text"
                                    prop:value=move || description.get()
                                    on:input=move |ev| description.set(event_target_value(&ev))
                                />
                                {field_error(action, "description")}
                                <label for="edit-allowlist">"IP allowlist"</label>
                                <textarea
                                    id="edit-allowlist"
                                    prop:value=move || allowlist.get()
                                    on:input=move |ev| allowlist.set(event_target_value(&ev))
                                ></textarea>
                                {field_error(action, "allowlist")}
                                <dl class="facts" style="margin-top:1rem">
                                    <dt>"Mode"</dt>
                                    <dd>{mode_pill(k.mode)}</dd>
                                    <dt>"Scopes"</dt>
                                    <dd>{scope_badges(k.scopes.clone())}</dd>
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

#[component]
fn RevokeKeyDialog(
    dialog: RwSignal<Dialog>,
    action: ServerAction<RevokeKey>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let target = Memo::new(move |_| match dialog.get() {
        Dialog::Revoke(k) => Some(k),
        _ => None,
    });
    Effect::new(move |_| {
        if let Some(Ok(k)) = action.value().get() {
            notice.set(Some(format!(
                "Revoked “{}”. It stops working on its next request.",
                k.name
            )));
            dialog.set(Dialog::Closed);
            reason.set(String::new());
        }
    });
    let close = move || {
        action.value().set(None);
        reason.set(String::new());
        dialog.set(Dialog::Closed);
    };
    let open = Signal::derive(move || target.with(|t| t.is_some()));
    view! {
        <Modal open=open on_close=Callback::new(move |_| close()) label="Revoke API key" testid="revoke-dialog">
            {move || {
                target
                    .get()
                    .map(|k| {
                        let id = k.id.clone();
                        view! {
                            <h2>"Revoke “" {k.name.clone()} "”?"</h2>
                            <p>
                                "Requests with " <code>{k.masked.clone()}</code>
                                " will be refused from the very next one. This can't be undone."
                            </p>
                            {form_error(action)}
                            <label for="revoke-reason">"Reason (optional)"</label>
                            <input
                                id="revoke-reason"
                                type="text"
                                prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev))
                            />
                            <div class="dialog-actions">
                                <button type="button" class="btn" on:click=move |_| close()>
                                    "Cancel"
                                </button>
                                <button
                                    type="button"
                                    class="btn btn-danger"
                                    data-testid="confirm-revoke"
                                    disabled=move || action.pending().get()
                                    on:click=move |_| {
                                        action
                                            .dispatch(RevokeKey {
                                                id: id.clone(),
                                                reason: reason.get_untracked(),
                                            });
                                    }
                                >
                                    "Revoke key"
                                </button>
                            </div>
                        }
                    })
            }}
        </Modal>
    }
}

/// `/keys/:id`: every field, the request log (owner, admin, member) and the audit trail
/// (owner, admin). Each part is its own server call, so a member's page still shows the log.
#[component]
pub fn KeyDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let detail = Resource::new(id, get_key);
    // Keyset paging through the log: `before` for this page, the ones we came through to go back.
    let before = RwSignal::new(None::<i64>);
    let history = RwSignal::new(Vec::<Option<i64>>::new());
    let requests = Resource::new(
        move || (id(), before.get()),
        |(id, before)| key_requests(id, before),
    );
    view! {
        <p><a href="/keys">"← API Keys"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(d) => view! { <KeyFacts detail=d/> }.into_any(),
                }
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="loading">"Loading requests…"</p> }>
            {move || Suspend::new(async move {
                match requests.await {
                    Ok(page) => view! { <RequestLog page=page before=before history=history/> }.into_any(),
                    // Refusals are already explained by the key's own section above.
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await.ok().and_then(|d| d.audit) {
                    Some(rows) => view! { <AuditTrail rows=rows/> }.into_any(),
                    None => ().into_any(),
                }
            })}
        </Suspense>
    }
}

fn latency_label(us: i64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

#[component]
fn RequestLog(
    page: RequestPage,
    before: RwSignal<Option<i64>>,
    history: RwSignal<Vec<Option<i64>>>,
) -> impl IntoView {
    let next = page.next_before;
    let empty = page.rows.is_empty();
    view! {
        <section class="card" data-testid="request-log">
            <h2>"Request log"</h2>
            <Ready testid="request-log-ready"/>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col">"Request"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Client IP"</th>
                            <th scope="col">"Latency"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page
                            .rows
                            .into_iter()
                            .map(|r| {
                                let class = if r.status < 400 { "pill pill-ok" } else { "pill pill-danger" };
                                view! {
                                    <tr data-testid="request-row" title=r.request_id.clone()>
                                        <td>{format_ms_seconds(r.at)}</td>
                                        <td><code>{format!("{} {}", r.method, r.path)}</code></td>
                                        <td><span class=class data-testid="request-status">{r.status}</span></td>
                                        <td><code>{r.client_ip}</code></td>
                                        <td>{latency_label(r.latency_us)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                {empty
                    .then(|| {
                        view! {
                            <p class="muted" style="padding:1rem" data-testid="no-requests">
                                "No requests yet. Calls made with this key will be listed here."
                            </p>
                        }
                    })}
            </div>
            <Pager before=before history=history next=next newer="requests-newer" older="requests-older"/>
        </section>
    }
}

#[component]
fn KeyFacts(detail: KeyDetail) -> impl IntoView {
    let k = detail.key;
    view! {
        <div class="page-header">
            <div>
                <h1 data-testid="detail-name">{k.name.clone()}</h1>
                {(!k.description.is_empty())
                    .then(|| view! { <p class="muted">{k.description.clone()}</p> })}
            </div>
            <div>{status_pill(k.status)}</div>
        </div>
        <div class="card">
            <dl class="facts">
                <dt>"Key ID"</dt>
                <dd><code data-testid="detail-id">{k.id.clone()}</code></dd>
                <dt>"Key"</dt>
                <dd><code data-testid="detail-masked">{k.masked.clone()}</code></dd>
                <dt>"Mode"</dt>
                <dd>{mode_pill(k.mode)}</dd>
                <dt>"Scopes"</dt>
                <dd>{scope_badges(k.scopes.clone())}</dd>
                <dt>"IP allowlist"</dt>
                <dd data-testid="detail-allowlist">
                    {if k.allowlist.is_empty() {
                        "Any address".to_owned()
                    } else {
                        k.allowlist.join(", ")
                    }}
                </dd>
                <dt>"Expires"</dt>
                <dd>{k.expires_at.map(format_date).unwrap_or_else(|| "Never".into())}</dd>
                <dt>"Created"</dt>
                <dd>{format!("{} by {}", format_ms(k.created_at), k.created_by)}</dd>
                <dt>"Last used"</dt>
                <dd>{k.last_used_at.map(format_ms).unwrap_or_else(|| "Never".into())}</dd>
                {k
                    .revoked_at
                    .map(|at| {
                        view! {
                            <dt>"Revoked"</dt>
                            <dd>
                                {format!(
                                    "{} by {}{}",
                                    format_ms(at),
                                    k.revoked_by.clone().unwrap_or_default(),
                                    k.revoke_reason
                                        .clone()
                                        .map(|r| format!(": {r}"))
                                        .unwrap_or_default(),
                                )}
                            </dd>
                        }
                    })}
            </dl>
        </div>
    }
}

#[component]
fn AuditTrail(rows: Vec<AuditRow>) -> impl IntoView {
    view! {
        <section class="card" data-testid="audit-trail">
            <h2>"Audit trail"</h2>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col">"Who"</th>
                            <th scope="col">"What"</th>
                            <th scope="col">"Details"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <tr>
                                        <td>{format_ms(r.at)}</td>
                                        <td>{r.actor}</td>
                                        <td><code>{r.action}</code></td>
                                        <td><code class="mono">{r.details}</code></td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
