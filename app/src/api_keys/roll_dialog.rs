//! The roll dialog: how long the old key keeps working, then the new key's secret, shown once.
//! Drawn on the server into its template (a row's, or the detail page's). Once the new secret
//! has been shown and the dialog is closed, the page loads again with a notice of what happened;
//! closing before rolling changes nothing.

use crate::api_keys::api::{KeyStatus, KeyView, Overlap, RollKey};
use crate::api_keys::secret_reveal::SecretReveal;
use crate::components::DialogButtons;
use latchkey_domain::time::format_ms;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The overlap offered first: long enough to redeploy a service, short enough to matter.
const DEFAULT_OVERLAP: Overlap = Overlap::Day;

/// What the chosen overlap does to the old key, in one sentence.
fn what_happens(overlap: Overlap) -> String {
    match overlap {
        Overlap::Now => "The old key stops working at once; only the new key works.".to_owned(),
        o => format!("The old key keeps working for {}, then stops.", o.label()),
    }
}

#[component]
pub fn RollKeyDialog(tenant: i64, key: KeyView, dialog_id: String) -> impl IntoView {
    let (closes, reveal) = (dialog_id.clone(), dialog_id.clone());
    let effect = format!("{dialog_id}-effect");
    let own_expiry = key
        .expires_at
        .map(|at| {
            format!(
                " It stops sooner if its own expiry ({}) comes first.",
                format_ms(at)
            )
        })
        .unwrap_or_default();
    // Each choice carries its sentence; the page script says the chosen one (`data-say`).
    let says = move |o: Overlap| format!("{}{own_expiry}", what_happens(o));
    view! {
        <dialog id=dialog_id aria-label="Roll API key" data-testid="roll-dialog">
            <div class="dialog-body">
                <form method="post" action=RollKey::PATH data-enhance novalidate>
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
                    <div data-form-error></div>
                    <input type="hidden" name="tenant" value=tenant.to_string()/>
                    <input type="hidden" name="id" value=key.id.clone()/>
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
                                                checked=o == DEFAULT_OVERLAP
                                                data-say=says(o)
                                                data-say-in=effect.clone()
                                            />
                                            {o.label()}
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </div>
                    </fieldset>
                    <p class="roll-effect" id=effect.clone() data-testid="roll-effect" aria-live="polite">
                        {says(DEFAULT_OVERLAP)}
                    </p>
                    <DialogButtons
                        dialog=closes
                        label="Roll key"
                        pending="Rolling…"
                        testid="confirm-roll"
                        needs_script=true
                    />
                </form>
                <SecretReveal dialog_id=reveal answer="created."/>
            </div>
        </dialog>
    }
}
