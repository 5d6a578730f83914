//! The roll dialog: how long the old key keeps working, then the new key's secret, shown once.

use crate::api_keys::api::{KeyStatus, KeyView, Overlap, RollKey};
use crate::api_keys::secret_reveal::SecretReveal;
use crate::components::{browser, form_error, Modal};
use latchkey_domain::time::format_ms;
use leptos::prelude::*;

/// The overlap offered first: long enough to redeploy a service, short enough to matter.
const DEFAULT_OVERLAP: Overlap = Overlap::Day;

/// What the chosen overlap does to the old key, in one sentence.
fn what_happens(overlap: Overlap) -> String {
    match overlap {
        Overlap::Now => "The old key stops working at once; only the new key works.".to_owned(),
        o => format!("The old key keeps working for {}, then stops.", o.label()),
    }
}

/// In the page only while open (see [`Dialog`](crate::api_keys::dialog::Dialog)). Once the new
/// secret has been shown and the dialog is closed, the page loads again with a notice of what
/// happened; closing before rolling changes nothing.
#[component]
pub fn RollKeyDialog(tenant: i64, key: KeyView, on_close: Callback<()>) -> impl IntoView {
    let action = ServerAction::<RollKey>::new();
    let overlap = RwSignal::new(DEFAULT_OVERLAP);
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<bool>);
    let key = StoredValue::new(key);
    let rolled = move || {
        action
            .value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).cloned())
    };
    let close = move || {
        if let Some(true) = action
            .value()
            .try_with_untracked(|v| matches!(v, Some(Ok(_))))
        {
            // The reload drops the secret from memory and the page.
            browser::reload();
        } else {
            on_close.run(());
        }
    };
    let request_close = move || {
        let revealed = action.value().with_untracked(|v| matches!(v, Some(Ok(_))));
        if revealed {
            confirming.set(true);
        } else {
            close();
        }
    };

    view! {
        <Modal
            open=Signal::stored(true)
            on_close=Callback::new(move |_| request_close())
            label="Roll API key"
            testid="roll-dialog"
        >
            {move || match rolled() {
                Some(r) => view! {
                    <SecretReveal
                        created=r.created
                        copied=copied
                        confirming=confirming
                        on_close=Callback::new(move |_| close())
                    />
                }
                    .into_any(),
                None => view! {
                    <RollForm
                        tenant=tenant
                        key=key.get_value()
                        overlap=overlap
                        action=action
                        cancel=Callback::new(move |_| close())
                    />
                }
                    .into_any(),
            }}
        </Modal>
    }
}

/// The first step: the overlap (a radio group) and what it will do.
#[component]
fn RollForm(
    tenant: i64,
    key: KeyView,
    overlap: RwSignal<Overlap>,
    action: ServerAction<RollKey>,
    cancel: Callback<()>,
) -> impl IntoView {
    let id = key.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(RollKey {
            tenant,
            id: id.clone(),
            overlap: overlap.get_untracked(),
        });
    };
    let own_expiry = key.expires_at.map(|at| {
        format!(
            " It stops sooner if its own expiry ({}) comes first.",
            format_ms(at)
        )
    });
    view! {
        <form on:submit=submit novalidate>
            <h2>"Roll “" {key.name.clone()} "”"</h2>
            <p>
                "A new key with the same name, mode, scopes and allowlist replaces "
                <code>{key.masked.clone()}</code>
                ". Its secret is shown once; the old key can't be rolled again."
            </p>
            {(key.status == KeyStatus::Disabled)
                .then(|| {
                    view! {
                        <p class="hint">"The old key is disabled and stays so; the new key works at once."</p>
                    }
                })}
            {form_error(action)}
            <fieldset class="plain">
                <legend>"How long the old key keeps working"</legend>
                <div class="radio-stack">
                    {Overlap::ALL
                        .into_iter()
                        .map(|o| {
                            view! {
                                <label>
                                    <input
                                        type="radio"
                                        name="overlap"
                                        value=o.as_str()
                                        autofocus=o == DEFAULT_OVERLAP
                                        prop:checked=move || overlap.get() == o
                                        on:change=move |_| overlap.set(o)
                                    />
                                    {o.label()}
                                </label>
                            }
                        })
                        .collect_view()}
                </div>
            </fieldset>
            <p class="roll-effect" data-testid="roll-effect" aria-live="polite">
                {move || format!("{}{}", what_happens(overlap.get()), own_expiry.clone().unwrap_or_default())}
            </p>
            <div class="dialog-actions">
                <button type="button" class="btn" on:click=move |_| cancel.run(())>
                    "Cancel"
                </button>
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="confirm-roll"
                    disabled=move || action.pending().get()
                >
                    {move || if action.pending().get() { "Rolling…" } else { "Roll key" }}
                </button>
            </div>
        </form>
    }
}
