//! An endpoint card's buttons, drawn on the server: a test event, changing the endpoint (its
//! dialog waits in a template), rolling its signing secret (shown once, in a dialog copied from
//! a template), and removing it after a confirmation. The page script
//! ([`Enhancer`](crate::components::enhance)) posts each; a change loads the page again, which
//! the server draws with the new state and a notice.

use super::api::{RemoveWebhook, RollWebhookSecret, SendTestWebhook};
use super::endpoint_dialog::{EndpointDialog, EndpointEdit};
use super::secret_shown::SecretShown;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn EndpointActions(tenant: i64, endpoint: EndpointEdit) -> impl IntoView {
    let id = endpoint.id.clone();
    let change = format!("change-endpoint-{id}");
    let rolled = format!("rolled-secret-{id}");
    let remove = format!("remove-endpoint-{id}");
    let remove_label = format!("Remove the endpoint {}", endpoint.url);
    let fields = move || {
        view! {
            <input type="hidden" name="tenant" value=tenant.to_string()/>
            <input type="hidden" name="id" value=id.clone()/>
        }
    };
    let (rolled_dialog, change_dialog) = (format!("{rolled}-dialog"), format!("{change}-dialog"));
    let (rolled_id, rolled_closes) = (rolled_dialog.clone(), rolled_dialog);
    let (remove_id, remove_opens, remove_closes) = (remove.clone(), remove.clone(), remove);
    view! {
        <div class="toolbar">
            <form method="post" action=SendTestWebhook::PATH class="inline-form" data-enhance>
                {fields.clone()}
                <button type="submit" class="btn btn-small" data-pending="Sending…">"Send test event"</button>
                <div data-form-error></div>
            </form>
            <button type="button" class="btn btn-small" data-open=change.clone()>"Change"</button>
            <form method="post" action=RollWebhookSecret::PATH class="inline-form" data-enhance data-result=rolled.clone()>
                {fields.clone()}
                // Without the script the new secret would be lost.
                <button type="submit" class="btn btn-small" data-live disabled>"Roll secret"</button>
                <div data-form-error></div>
            </form>
            <button
                type="button"
                class="btn btn-small btn-danger"
                aria-label=remove_label
                commandfor=remove_opens
                command="show-modal"
            >
                "Remove"
            </button>
        </div>
        <template id=change>
            <EndpointDialog tenant=tenant current=Some(endpoint) dialog_id=change_dialog/>
        </template>
        <template id=rolled>
            <dialog id=rolled_id aria-label="New signing secret" data-testid="rolled-secret-dialog">
                <div class="dialog-body">
                    <SecretShown dialog_id=rolled_closes/>
                </div>
            </dialog>
        </template>
        // Removing drops its pending deliveries too: ask once.
        <dialog id=remove_id aria-label="Confirm removal">
            <form method="post" action=RemoveWebhook::PATH class="dialog-body" data-enhance>
                <div data-form-error></div>
                {fields}
                <p>"Remove this endpoint? Events not yet delivered to it are dropped."</p>
                <div class="dialog-actions">
                    <button type="button" class="btn" commandfor=remove_closes command="close">"Keep it"</button>
                    <button type="submit" class="btn btn-danger">"Remove endpoint"</button>
                </div>
            </form>
        </dialog>
    }
}
