//! The revoke dialog: confirm, with an optional reason.

use crate::api_keys::api::RevokeKey;
use crate::api_keys::dialog::Dialog;
use crate::components::{form_error, Modal, PageTenant};
use leptos::prelude::*;

#[component]
pub fn RevokeKeyDialog(
    dialog: RwSignal<Dialog>,
    action: ServerAction<RevokeKey>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let tenant = PageTenant::from_context();
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
                                                tenant: tenant.now(),
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
